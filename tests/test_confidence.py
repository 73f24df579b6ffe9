"""Entity confidence: span marginals from forward-backward equal brute-force enumeration of all tag paths."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import enumerate_paths
from hypothesis import given, settings
from hypothesis import strategies as st

from ner_cli.nn.crf import span_marginals
from ner_cli.tags import transition_mask

IOB2 = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
IOBES = ["O", "B-PER", "I-PER", "E-PER", "S-PER"]


def _brute(paths, logp, s, e, first, mid, last, stop):
    want = [first] + [mid] * max(e - s - 2, 0) + ([last] if e - s >= 2 else [])
    total = 0.0
    for y, lp in zip(paths, logp, strict=True):
        if list(y[s:e]) == want and (stop < 0 or e >= len(y) or y[e] != stop):
            total += np.exp(lp)
    return total


def _spans(labels, L, scheme):
    """Every (s, e, type) span of a sentence of length L as rows for span_marginals."""
    ids = {t: i for i, t in enumerate(labels)}
    rows = []
    for s in range(L):
        for e in range(s + 1, L + 1):
            for typ in sorted({t[2:] for t in labels if t != "O"}):
                if scheme == "IOB2":
                    rows.append((s, e, ids[f"B-{typ}"], ids[f"I-{typ}"], ids[f"B-{typ}" if e - s == 1 else f"I-{typ}"],
                                 ids[f"I-{typ}"]))
                elif e - s == 1:
                    rows.append((s, e, ids[f"S-{typ}"], ids[f"S-{typ}"], ids[f"S-{typ}"], -1))
                else:
                    rows.append((s, e, ids[f"B-{typ}"], ids[f"I-{typ}"], ids[f"E-{typ}"], -1))
    return rows


@pytest.mark.parametrize("labels,scheme", [(IOB2, "IOB2"), (IOBES, "IOBES")])
@pytest.mark.parametrize("constrained", [True, False])
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("scaled", [True, False])
def test_span_marginals_equal_brute_force(labels, scheme, constrained, seed, scaled):
    rng = np.random.default_rng(seed)
    C, L, T = len(labels), 4, 5
    S = rng.normal(0, 2, (2, T, C))
    lengths = np.array([L, T])
    A, st, en = rng.normal(size=(C, C)), rng.normal(size=C), rng.normal(size=C)
    if constrained:
        start_ok, allowed, end_ok = transition_mask(labels, scheme)
    else:
        start_ok, allowed, end_ok = np.ones(C, bool), np.ones((C, C), bool), np.ones(C, bool)
    rows = [(0, *r) for r in _spans(labels, L, scheme)]
    got = span_marginals(S, lengths, np.array(rows), A, st, en, allowed=allowed, start_ok=start_ok, end_ok=end_ok,
                         scaled=scaled)
    paths, logp = enumerate_paths(S[0, :L], A, st, en, allowed, start_ok, end_ok)
    want = [_brute(paths, logp, *r[1:]) for r in rows]
    assert np.all((got >= 0) & (got <= 1))
    np.testing.assert_allclose(got, want, atol=1e-9)


def test_independent_tokens_give_products_of_softmax_probabilities():
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(1, 4, 3))
    logp = logits - np.logaddexp.reduce(logits, axis=2, keepdims=True)
    p = np.exp(logp[0])
    got = span_marginals(logp, np.array([4]), np.array([[0, 1, 3, 1, 2, 2, 2]]))   # B at 1, I at 2, not I at 3
    assert got[0] == pytest.approx(p[1, 1] * p[2, 2] * (1 - p[3, 2]))


def test_spans_starting_at_a_token_partition_its_node_marginal():
    """The spans B-X at 0 of every length are disjoint events whose union is "B-X at 0": a node marginal."""
    from ner_cli.nn.crf import crf_marginals, crf_nll

    rng = np.random.default_rng(5)
    S, A = rng.normal(0, 3, (1, 6, 3)), rng.normal(size=(3, 3))
    rows = np.array([(0, 0, e, 1, 2, 1 if e == 1 else 2, 2) for e in range(1, 7)])
    got = span_marginals(S, np.array([6]), rows, A, np.zeros(3), np.zeros(3))
    _, cache = crf_nll(S, np.zeros((1, 6), int), np.ones((1, 6), bool), A, np.zeros(3), np.zeros(3))
    node, _ = crf_marginals(cache)
    assert got.sum() == pytest.approx(node[0, 0, 1])


def test_find_spans_matches_get_entities_sentence_by_sentence():
    from ner_cli.confidence import find_spans
    from ner_cli.tags import get_entities

    out = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    rng = np.random.default_rng(0)
    for _ in range(200):
        lengths = rng.integers(1, 6, size=rng.integers(1, 5))
        ids = rng.integers(0, len(out), size=int(lengths.sum()))
        starts, ends = find_spans(ids, lengths, out)
        want, off = [], 0
        for L in lengths:
            want += [(i + off, j + off) for _, i, j in get_entities([out[i] for i in ids[off:off + L]])]
            off += L
        assert list(zip(starts.tolist(), ends.tolist(), strict=True)) == want


def test_calibration_table_and_ece():
    from ner_cli.confidence import calibration

    scores = np.array([0.05, 0.15, 0.95, 0.99, 1.0, 0.5])
    correct = np.array([False, True, True, True, False, True])
    table, ece = calibration(scores, correct, bins=10)
    assert [b.count for b in table] == [1, 1, 0, 0, 0, 1, 0, 0, 0, 3]
    assert table[9].accuracy == pytest.approx(2 / 3) and table[9].mean_score == pytest.approx(0.98)
    want = (1 * 0.05 + 1 * 0.85 + 1 * 0.5 + 3 * abs(2 / 3 - 0.98)) / 6
    assert ece == pytest.approx(want)



@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), n_sent=st.integers(1, 6), max_len=st.integers(1, 40),
       spread=st.sampled_from([0.5, 3.0, 20.0]), scheme=st.sampled_from(["IOB2", "IOBES"]))
def test_scaled_span_marginals_equal_log_space(seed, n_sent, max_len, spread, scheme):
    """The probability-space path gives the log-space probabilities, on batches of uneven sentences where only
    some sentences hold spans (those of a random path, read as the tagger reads its output)."""
    from ner_cli.confidence import find_spans, span_rows
    from ner_cli.nn.model import pad_by_lengths

    labels = IOB2 if scheme == "IOB2" else IOBES
    as_iob2 = IOB2 if scheme == "IOB2" else ["O", "B-PER", "I-PER", "I-PER", "B-PER"]
    rng = np.random.default_rng(seed)
    C = len(labels)
    lengths = rng.integers(1, max_len + 1, size=n_sent)
    S = rng.normal(0, spread, (int(lengths.sum()), C))
    paths = rng.choice(C, size=len(S), p=[0.7] + [0.3 / (C - 1)] * (C - 1))
    starts, ends = find_spans(paths, lengths, as_iob2)
    rows = span_rows(lengths, paths, starts, ends, labels, scheme)
    start_ok, allowed, end_ok = transition_mask(labels, scheme)
    args = (pad_by_lengths(S, None, lengths)[0], lengths, rows, rng.normal(size=(C, C)), rng.normal(size=C),
            rng.normal(size=C))
    kw = {"allowed": allowed, "start_ok": start_ok, "end_ok": end_ok}
    np.testing.assert_allclose(span_marginals(*args, **kw), span_marginals(*args, **kw, scaled=False),
                               rtol=1e-9, atol=1e-12)
    in_float32 = (args[0].astype(np.float32), *args[1:])              # the tagger's scores: float32 tables
    np.testing.assert_allclose(span_marginals(*in_float32, **kw), span_marginals(*args, **kw), atol=2e-4)


def test_underflowing_probability_space_falls_back_to_log_space():
    """Transitions so unlikely (800 nats) that exp() of them is 0 in float64 leave the probability-space tables
    without a path: `_packed_tables` gives up, and span_marginals gives what the log-space path gives."""
    from ner_cli.nn.crf import _packed_tables

    S = np.array([[[0.0, -900.0], [-900.0, 0.0], [0.0, -900.0], [-900.0, 0.0]]])   # (1, 4, 2)
    A = np.array([[0.0, -800.0], [-800.0, 0.0]])                   # staying free, switching 800 nats
    st, en = np.zeros(2), np.zeros(2)
    assert _packed_tables(S[0], np.array([4]), A, st, en) is None
    rows = np.array([(0, s, e, y, y, y, -1) for s in range(4) for e in range(s + 1, 5) for y in (0, 1)])
    np.testing.assert_array_equal(span_marginals(S, np.array([4]), rows, A, st, en),
                                  span_marginals(S, np.array([4]), rows, A, st, en, scaled=False))
