"""Sentence-level log-likelihood (linear-chain CRF): brute-force logZ and finite-difference gradients."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ner_cli.nn.crf import crf_backward, crf_nll
from ner_cli.nn.decode import DISALLOWED, lengths_to_mask

Problem = dict[str, np.ndarray]


def make_problem(rng: np.random.Generator, B: int, T: int, C: int, dtype: type = np.float64) -> Problem:
    """Random S (B, T, C), tags, left-aligned mask with random lengths in [0, T], A, A_start, A_end."""
    lengths = rng.integers(0, T + 1, size=B)
    lengths[0] = T  # at least one full-length sentence
    return {
        "S": rng.normal(size=(B, T, C)).astype(dtype),
        "tags": rng.integers(0, C, size=(B, T)),
        "mask": lengths_to_mask(lengths, T),
        "A": rng.normal(size=(C, C)).astype(dtype),
        "A_start": rng.normal(size=C).astype(dtype),
        "A_end": rng.normal(size=C).astype(dtype),
    }


def path_score(S: np.ndarray, y: tuple[int, ...], A: np.ndarray, st: np.ndarray, en: np.ndarray) -> float:
    """Score of path y for one sentence S (L, C), written as plain Python sums."""
    s = st[y[0]] + en[y[-1]] + sum(S[t, y[t]] for t in range(len(y)))
    return float(s + sum(A[y[t - 1], y[t]] for t in range(1, len(y))))


def brute_log_z(S: np.ndarray, A: np.ndarray, st: np.ndarray, en: np.ndarray) -> float:
    """logZ of one sentence S (L, C) by enumerating all C^L paths."""
    L, C = S.shape
    scores = [path_score(S, y, A, st, en) for y in itertools.product(range(C), repeat=L)]
    return float(np.logaddexp.reduce(scores))


def loss_of(p: Problem, **constraints: np.ndarray) -> float:
    return crf_nll(p["S"], p["tags"], p["mask"], p["A"], p["A_start"], p["A_end"], **constraints)[0]


def numeric_grad(p: Problem, name: str, eps: float = 1e-6, **constraints: np.ndarray) -> np.ndarray:
    """Central differences of the loss wrt p[name], float64."""
    x = p[name]
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        up = loss_of(p, **constraints)
        x[idx] = old - eps
        down = loss_of(p, **constraints)
        x[idx] = old
        grad[idx] = (up - down) / (2 * eps)
    return grad


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / max(np.abs(a).max() + np.abs(b).max(), 1e-12))


@pytest.mark.parametrize("seed", range(4))
def test_log_z_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = make_problem(rng, B=5, T=4, C=3)
    _, cache = crf_nll(p["S"], p["tags"], p["mask"], p["A"], p["A_start"], p["A_end"])
    for b, L in enumerate(p["mask"].sum(axis=1)):
        expected = brute_log_z(p["S"][b, :L], p["A"], p["A_start"], p["A_end"]) if L else 0.0
        assert cache.log_z[b] == pytest.approx(expected, abs=1e-10)


def test_loss_is_sum_of_logz_minus_gold() -> None:
    rng = np.random.default_rng(7)
    p = make_problem(rng, B=4, T=3, C=3)
    expected = 0.0
    for b, L in enumerate(p["mask"].sum(axis=1)):
        if L:
            S, y = p["S"][b, :L], tuple(p["tags"][b, :L])
            logz = brute_log_z(S, p["A"], p["A_start"], p["A_end"])
            expected += logz - path_score(S, y, p["A"], p["A_start"], p["A_end"])
    assert loss_of(p) == pytest.approx(expected, abs=1e-10)


def test_log_z_with_constraints_excludes_disallowed_paths() -> None:
    rng = np.random.default_rng(3)
    p = make_problem(rng, B=1, T=4, C=3)
    allowed = np.ones((3, 3), dtype=bool)
    allowed[0, 2] = allowed[2, 1] = False
    start_ok = np.array([True, False, True])
    end_ok = np.array([True, True, False])
    _, cache = crf_nll(
        p["S"],
        p["tags"],
        p["mask"],
        p["A"],
        p["A_start"],
        p["A_end"],
        allowed=allowed,
        start_ok=start_ok,
        end_ok=end_ok,
    )
    ok_paths = [
        y
        for y in itertools.product(range(3), repeat=4)
        if start_ok[y[0]] and end_ok[y[-1]] and all(allowed[y[t - 1], y[t]] for t in range(1, 4))
    ]
    scores = [path_score(p["S"][0], y, p["A"], p["A_start"], p["A_end"]) for y in ok_paths]
    assert cache.log_z[0] == pytest.approx(np.logaddexp.reduce(scores), abs=1e-10)


def gold_compatible_constraints(rng: np.random.Generator, p: Problem) -> dict[str, np.ndarray]:
    """Random allowed (C, C) / start_ok / end_ok masks that still allow every gold path of p."""
    C = p["A"].shape[0]
    tags, mask = p["tags"], p["mask"]
    lengths = mask.sum(axis=1)
    allowed = rng.random((C, C)) > 0.4
    allowed[tags[:, :-1][mask[:, 1:]], tags[:, 1:][mask[:, 1:]]] = True
    start_ok, end_ok = rng.random(C) > 0.4, rng.random(C) > 0.4
    start_ok[tags[lengths > 0, 0]] = True
    end_ok[tags[np.arange(len(tags)), lengths - 1][lengths > 0]] = True
    return {"allowed": allowed, "start_ok": start_ok, "end_ok": end_ok}


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("constrained", [False, True])
def test_gradients_match_finite_differences(seed: int, constrained: bool) -> None:
    rng = np.random.default_rng(seed)
    C = 4
    p = make_problem(rng, B=4, T=5, C=C)
    cons: dict[str, np.ndarray] = {}
    if constrained:
        cons = gold_compatible_constraints(rng, p)
    _, cache = crf_nll(p["S"], p["tags"], p["mask"], p["A"], p["A_start"], p["A_end"], **cons)
    analytic = dict(zip(["S", "A", "A_start", "A_end"], crf_backward(cache), strict=True))
    for name, grad in analytic.items():
        err = rel_error(grad, numeric_grad(p, name, **cons))
        assert err < 1e-6, f"{name}: relative error {err:.2e}"


def test_padding_gets_zero_gradient_and_does_not_change_loss() -> None:
    rng = np.random.default_rng(11)
    p = make_problem(rng, B=3, T=6, C=3)
    dS = crf_backward(crf_nll(p["S"], p["tags"], p["mask"], p["A"], p["A_start"], p["A_end"])[1])[0]
    assert np.all(dS[~p["mask"]] == 0)
    before = loss_of(p)
    p["S"][~p["mask"]] = 1e3
    p["tags"][~p["mask"]] = -1
    assert loss_of(p) == pytest.approx(before, abs=1e-9)


def test_gradient_identities() -> None:
    """Node marginals sum to 1 per token, so every valid row of dS sums to 0."""
    rng = np.random.default_rng(5)
    p = make_problem(rng, B=6, T=7, C=5)
    dS, dA, dA_start, dA_end = crf_backward(crf_nll(p["S"], p["tags"], p["mask"], p["A"], p["A_start"], p["A_end"])[1])
    np.testing.assert_allclose(dS.sum(axis=2), 0, atol=1e-12)
    np.testing.assert_allclose(dA_start.sum(), 0, atol=1e-12)
    np.testing.assert_allclose(dA_end.sum(), 0, atol=1e-12)
    np.testing.assert_allclose(dA.sum(), 0, atol=1e-12)


def test_float32_matches_float64() -> None:
    rng = np.random.default_rng(2)
    p64 = make_problem(rng, B=8, T=12, C=9)
    p32 = {k: (v.astype(np.float32) if v.dtype == np.float64 else v) for k, v in p64.items()}
    l64, c64 = crf_nll(p64["S"], p64["tags"], p64["mask"], p64["A"], p64["A_start"], p64["A_end"])
    l32, c32 = crf_nll(p32["S"], p32["tags"], p32["mask"], p32["A"], p32["A_start"], p32["A_end"])
    assert l32 == pytest.approx(l64, rel=1e-5)
    for g32, g64 in zip(crf_backward(c32), crf_backward(c64), strict=True):
        assert g32.dtype == np.float32
        np.testing.assert_allclose(g32, g64, atol=1e-4)


def test_large_scores_and_constraints_stay_finite_in_float32() -> None:
    rng = np.random.default_rng(4)
    p = {
        k: (v * 50).astype(np.float32) if v.dtype == np.float64 else v
        for k, v in make_problem(rng, B=3, T=10, C=5).items()
    }
    allowed = np.eye(5, dtype=bool) | (rng.random((5, 5)) > 0.5)
    loss, cache = crf_nll(p["S"], p["tags"], p["mask"], p["A"], p["A_start"], p["A_end"], allowed=allowed)
    assert np.isfinite(loss)
    assert all(np.all(np.isfinite(g)) for g in crf_backward(cache))
    assert DISALLOWED < 0


def test_edge_shapes() -> None:
    rng = np.random.default_rng(0)
    for T in (0, 1):
        p = make_problem(rng, B=2, T=T, C=3)
        loss, cache = crf_nll(p["S"], p["tags"], p["mask"], p["A"], p["A_start"], p["A_end"])
        dS, dA, dA_start, dA_end = crf_backward(cache)
        assert dS.shape == (2, T, 3) and dA.shape == (3, 3) and dA_start.shape == dA_end.shape == (3,)
        if T == 0:
            assert loss == 0.0
        else:
            assert np.all(dA == 0)


def test_mask_with_holes_is_rejected() -> None:
    rng = np.random.default_rng(0)
    p = make_problem(rng, B=1, T=3, C=2)
    with pytest.raises(ValueError, match="left-aligned"):
        crf_nll(p["S"], p["tags"], np.array([[True, False, True]]), p["A"], p["A_start"], p["A_end"])


def test_scaled_path_matches_log_space(monkeypatch) -> None:
    """The probability-space recursion (the fast path) and the log-space one give the same loss and gradients."""
    import ner_cli.nn.crf as crf

    rng = np.random.default_rng(7)
    B, T, C = 6, 9, 5
    lengths = np.array([9, 1, 4, 0, 7, 9])
    mask = lengths_to_mask(lengths, T)
    S, tags = rng.normal(0, 2, (B, T, C)), rng.integers(0, C, (B, T))
    A, A_start, A_end = rng.normal(0, 1, (C, C)), rng.normal(0, 1, C), rng.normal(0, 1, C)
    loss, cache = crf_nll(S, tags, mask, A, A_start, A_end)
    assert cache.scaled is not None
    grads = crf_backward(cache)
    monkeypatch.setattr(crf, "_scaled_tables", lambda *args: None)
    loss_log, cache_log = crf_nll(S, tags, mask, A, A_start, A_end)
    assert cache_log.scaled is None
    assert loss == pytest.approx(loss_log, abs=1e-10)
    np.testing.assert_allclose(cache.log_z, cache_log.log_z, atol=1e-10)
    for g, g_log in zip(grads, crf_backward(cache_log), strict=True):
        np.testing.assert_allclose(g, g_log, atol=1e-10)


def test_both_paths_are_stable_on_a_100k_token_sentence(monkeypatch) -> None:
    """Issue 11 W7 through both recursions: the scaled fast path and the log-space fallback (rows rescaled to
    peak at 0, log Z in float64) give finite gradients and the same loss on a 100,000-token float32 sentence."""
    import ner_cli.nn.crf as crf

    rng = np.random.default_rng(0)
    T, C = 100_000, 9
    S = rng.normal(0, 8, (1, T, C)).astype(np.float32)
    tags = rng.integers(0, C, (1, T))
    A = rng.normal(0, 2, (C, C)).astype(np.float32)
    zero = np.zeros(C, np.float32)
    mask = np.ones((1, T), bool)
    loss, cache = crf_nll(S, tags, mask, A, zero, zero)
    assert cache.scaled is not None and cache.log_z.dtype == np.float64
    grads = crf_backward(cache)
    monkeypatch.setattr(crf, "_scaled_tables", lambda *args: None)
    loss_log, cache_log = crf_nll(S, tags, mask, A, zero, zero)
    assert cache_log.scaled is None
    grads_log = crf_backward(cache_log)
    assert np.isfinite(loss_log) and all(np.isfinite(g).all() for g in grads_log)
    assert loss == pytest.approx(loss_log, rel=1e-5)
    for g, g_log in zip(grads, grads_log, strict=True):
        np.testing.assert_allclose(g, g_log, atol=1e-5 * T)     # dA: float32 sums of 100k marginals each


def two_loop_tables(S, lengths, trans, start, end):
    """The scaled recursions written as two loops, one sentence set at a time (the code before the stacked
    loop): the forward loop over the n_t sentences still running at t, then the backward one. a is 0 and b the
    end vector past a sentence's end."""
    B, T, C = S.shape
    order = np.argsort(-lengths, kind="stable")
    lens = lengths[order]
    running = (lens[None, :] > np.arange(T)[:, None]).sum(axis=1)
    P = np.exp(S[order] - S[order].max(axis=2)[:, :, None])
    Et = np.exp(trans - trans.max())
    a, c = np.zeros_like(S), np.ones((B, T), dtype=S.dtype)
    first = np.exp(start - start.max()) * P[:, 0]
    c[:, 0] = first.sum(axis=1)
    a[:, 0] = first / c[:, 0, None]
    for t in range(1, T):
        n = running[t]
        new = (a[:n, t - 1] @ Et) * P[:n, t]
        c[:n, t] = new.sum(axis=1)
        a[:n, t] = new / c[:n, t, None]
    exp_end = np.exp(end - end.max())
    b = np.empty_like(S)
    b[:] = exp_end / exp_end.sum()
    for t in range(T - 2, -1, -1):
        n = running[t + 1]
        if n:
            new = (P[:n, t + 1] * b[:n, t + 1]) @ Et.T
            b[:n, t] = new / new.sum(axis=1, keepdims=True)
    inv = np.argsort(order, kind="stable")
    return a[inv], b[inv], P[inv], c[inv]


@pytest.mark.parametrize("lengths", [[13, 4, 9, 13, 1], [20, 3, 7], [6], [11, 10, 0, 2], [1, 1, 1], [30] + [2] * 15])
def test_stacked_recursions_equal_two_loops_bit_for_bit(lengths) -> None:
    """The one-loop forward-backward (both directions stacked in one product a step) gives exactly the tables
    of the two loops for the default model's shape (9 tags, float32), so that its training follows the same
    trajectory. Lengths cover a unique longest sentence (a one-row product: numpy's gemv), ties, one sentence
    and empty ones."""
    from ner_cli.nn.crf import _scaled_tables, constrained

    rng = np.random.default_rng(len(lengths))
    lengths = np.array(lengths)
    B, T, C = len(lengths), int(lengths.max()), 9
    mask = lengths_to_mask(lengths, T)
    S = np.where(mask[:, :, None], rng.normal(0, 3, (B, T, C)), 0).astype(np.float32)
    A = rng.normal(0, 1, (C, C)).astype(np.float32)
    trans, start, end = constrained(A, A[0] * 0.5, A[1] * 0.3, None, None, None, C, np.float32)
    log_z, (a, b, P, Et) = _scaled_tables(S, mask, lengths, trans, start, end)
    a2, b2, P2, c2 = two_loop_tables(S, lengths, trans, start, end)
    np.testing.assert_array_equal(P, P2)
    np.testing.assert_array_equal(a[mask], a2[mask])
    np.testing.assert_array_equal(b[mask], b2[mask])
    log_c = np.log(c2).sum(axis=1, dtype=np.float64)                  # log Z from the two loops' scales
    m_S = (S.max(axis=2) * mask).sum(axis=1, dtype=np.float64)
    has = lengths > 0
    last = np.ones(B, np.float32)
    last[has] = a2[np.flatnonzero(has), lengths[has] - 1] @ np.exp(end - end.max())
    top, s_top, e_top = float(trans.max()), float(start.max()), float(end.max())
    expected = log_c + m_S + top * np.maximum(lengths - 1, 0) + s_top + np.log(last).astype(np.float64) + e_top
    np.testing.assert_array_equal(log_z, np.where(lengths > 0, expected, 0))


def test_an_underflowing_backward_normaliser_falls_back_to_log_space() -> None:
    """A helper's attack: a backward row whose sum underflows (a subnormal exp(A), scores 200 apart) gave NaN
    gradients on the scaled path; it now takes the log-space path, as a forward underflow did."""
    S = np.zeros((1, 3, 2), np.float32)
    S[0, 1, 0] = S[0, 2, 1] = -200
    A = np.array([[0, 0], [-90, -14]], np.float32)
    allowed, end_ok = np.array([[True, False], [True, True]]), np.array([True, False])
    zero = np.zeros(2, np.float32)
    loss, cache = crf_nll(S, np.array([[1, 1, 0]]), np.ones((1, 3), bool), A, zero, zero, allowed=allowed,
                          end_ok=end_ok)
    assert cache.scaled is None
    assert loss == pytest.approx(2.6635, abs=1e-3)
    assert all(np.isfinite(g).all() for g in crf_backward(cache))
