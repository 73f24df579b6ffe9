"""Viterbi decoding: brute-force agreement, constraints, batching and edge shapes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ner_cli.nn.decode import argmax_decode, viterbi, viterbi_batch

Masks = tuple[np.ndarray, np.ndarray, np.ndarray]


def score(S: np.ndarray, y: tuple[int, ...], trans: np.ndarray, start: np.ndarray, end: np.ndarray) -> float:
    """Path score with plain Python sums."""
    s = start[y[0]] + end[y[-1]] + sum(S[t, y[t]] for t in range(len(y)))
    return float(s + sum(trans[y[t - 1], y[t]] for t in range(1, len(y))))


def is_ok(y: tuple[int, ...], masks: Masks) -> bool:
    """True if path y obeys (allowed, start_ok, end_ok)."""
    allowed, start_ok, end_ok = masks
    return bool(start_ok[y[0]] and end_ok[y[-1]] and all(allowed[a, b] for a, b in itertools.pairwise(y)))


def brute_best(S: np.ndarray, trans: np.ndarray, start: np.ndarray, end: np.ndarray, masks: Masks | None):
    """Best-scoring (allowed) path by enumeration and its score."""
    T, C = S.shape
    paths = [y for y in itertools.product(range(C), repeat=T) if masks is None or is_ok(y, masks)]
    best = max(paths, key=lambda y: score(S, y, trans, start, end))
    return best, score(S, best, trans, start, end)


@st.composite
def problems(draw: st.DrawFn, max_T: int = 4, C: int = 3):
    """A random tiny problem: S (T, C), trans, start, end and constraint masks with >= 1 allowed path."""
    T = draw(st.integers(1, max_T))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    allowed = rng.random((C, C)) > 0.5
    start_ok, end_ok = rng.random(C) > 0.4, rng.random(C) > 0.4
    witness = rng.integers(0, C, size=T)  # make sure one allowed path exists
    allowed[witness[:-1], witness[1:]] = True
    start_ok[witness[0]] = end_ok[witness[-1]] = True
    S = rng.normal(size=(T, C)) * draw(st.sampled_from([0.1, 1.0, 10.0]))
    return S, rng.normal(size=(C, C)), rng.normal(size=C), rng.normal(size=C), (allowed, start_ok, end_ok)


@settings(max_examples=150, deadline=None)
@given(problems())
def test_viterbi_matches_brute_force(problem) -> None:
    S, trans, start, end, _ = problem
    y = viterbi(S, trans, start, end)
    _, best = brute_best(S, trans, start, end, None)
    assert score(S, tuple(y), trans, start, end) == pytest.approx(best, abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(problems())
def test_constrained_viterbi_matches_brute_force_and_obeys_masks(problem) -> None:
    S, trans, start, end, masks = problem
    for tr, s0, s1 in ((trans, start, end), (None, None, None)):
        y = tuple(viterbi(S, tr, s0, s1, *masks))
        assert is_ok(y, masks)
        z = np.zeros
        tr_, s0_, s1_ = (z((3, 3)), z(3), z(3)) if tr is None else (tr, s0, s1)
        _, best = brute_best(S, tr_, s0_, s1_, masks)
        assert score(S, y, tr_, s0_, s1_) == pytest.approx(best, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 8), st.integers(0, 9), st.booleans())
def test_viterbi_batch_equals_per_sentence(seed: int, B: int, T: int, constrained: bool) -> None:
    rng = np.random.default_rng(seed)
    C = 4
    S = rng.normal(size=(B, T, C)).astype(np.float32)
    lengths = rng.integers(0, T + 1, size=B)
    trans, start, end = rng.normal(size=(C, C)), rng.normal(size=C), rng.normal(size=C)
    masks = (rng.random((C, C)) > 0.3, rng.random(C) > 0.2, rng.random(C) > 0.2) if constrained else ()
    out = viterbi_batch(S, lengths, trans, start, end, *masks, pad=-1)
    assert out.shape == (B, T)
    for b, L in enumerate(lengths):
        np.testing.assert_array_equal(out[b, :L], viterbi(S[b, :L], trans, start, end, *masks))
        assert np.all(out[b, L:] == -1)


def test_no_transitions_is_argmax() -> None:
    S = np.random.default_rng(0).normal(size=(20, 9))
    np.testing.assert_array_equal(viterbi(S), argmax_decode(S))
    np.testing.assert_array_equal(viterbi(S), S.argmax(axis=1))


def test_edge_lengths() -> None:
    C = 5
    assert viterbi(np.zeros((0, C))).shape == (0,)
    assert viterbi_batch(np.zeros((3, 0, C)), np.zeros(3, dtype=int)).shape == (3, 0)
    assert viterbi_batch(np.zeros((0, 4, C)), np.zeros(0, dtype=int)).shape == (0, 4)
    S1 = np.array([[0.0, 3.0, 1.0, 0.0, 0.0]])
    assert viterbi(S1).tolist() == [1]
    start_ok = np.array([True, False, True, True, True])
    assert viterbi(S1, start_ok=start_ok).tolist() == [2]
    end_ok = np.array([True, True, False, True, True])
    assert viterbi(S1, start_ok=start_ok, end_ok=end_ok).tolist() == [0]


def test_constraint_beats_large_scores() -> None:
    """Scores of magnitude 1e4 cannot buy a forbidden transition."""
    S = np.array([[0.0, 1e4], [1e4, 0.0]])
    allowed = np.array([[True, True], [False, True]])  # 1 -> 0 forbidden
    y = viterbi(S, allowed=allowed)
    assert y.tolist() != [1, 0]
    assert is_ok(tuple(y), (allowed, np.ones(2, bool), np.ones(2, bool)))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 7), max_size=12))
def test_packed_layout_is_time_major_without_padding(lengths: list[int]) -> None:
    """Packed row offsets[t] + i is token t of the i-th longest sentence; every token appears exactly once."""
    from ner_cli.nn.decode import pack

    lengths_ = np.array(lengths, dtype=np.int64)
    packed = pack(lengths_)
    starts = np.cumsum(lengths_) - lengths_
    assert sorted(packed.index.tolist()) == list(range(int(lengths_.sum())))
    assert packed.lens.tolist() == sorted(lengths, reverse=True)
    for t in range(packed.steps):
        rows = packed.step(t)
        running = packed.order[:rows.stop - rows.start]
        assert (lengths_[running] > t).all() and (lengths_ > t).sum() == len(running)
        np.testing.assert_array_equal(packed.index[rows], starts[running] + t)
        np.testing.assert_array_equal(packed.rows(running, np.full(len(running), t)), np.arange(rows.start, rows.stop))
    assert sorted(packed.index[packed.last_rows()].tolist()) == sorted((starts + lengths_ - 1)[lengths_ > 0].tolist())
