"""The CRF's compiled training loop (numba, the `fast` extra) against brute force, finite differences and the
numpy path it replaces in training."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ner_cli.errors import ConfigError
from ner_cli.nn import crf_compiled
from ner_cli.nn.activations import ACTIVATIONS
from ner_cli.nn.gradcheck import gradcheck
from ner_cli.nn.model import _crf_loss

pytest.importorskip("numba", reason="the compiled CRF loop needs the fast extra (numba)")


def problem(rng: np.random.Generator, lengths: list[int], C: int, dtype: type, spread: float = 2.0):
    """Packed scores S (N, C), gold tags y (N,), lengths, and transition params A, A_start, A_end."""
    n = int(sum(lengths))
    params = {"A": rng.normal(0, spread, (C, C)).astype(dtype), "A_start": rng.normal(0, 1, C).astype(dtype),
              "A_end": rng.normal(0, 1, C).astype(dtype)}
    return rng.normal(0, spread, (n, C)).astype(dtype), rng.integers(0, C, n), np.array(lengths), params


def brute_nll(S: np.ndarray, y: np.ndarray, A: np.ndarray, start: np.ndarray, end: np.ndarray) -> float:
    """-log p(y | S) of one sentence by enumerating every path, in plain Python sums."""
    L, C = S.shape

    def score(path) -> float:
        return float(start[path[0]] + end[path[-1]] + sum(S[t, path[t]] for t in range(L))
                     + sum(A[path[t - 1], path[t]] for t in range(1, L)))

    return float(np.logaddexp.reduce([score(p) for p in itertools.product(range(C), repeat=L)]) - score(y))


def test_loss_equals_brute_force_over_every_path() -> None:
    rng = np.random.default_rng(0)
    S, y, lengths, p = problem(rng, [1, 4, 2, 3], 3, np.float64)
    nll, *_ = crf_compiled.crf_loss_packed(S, y, lengths, p["A"], p["A_start"], p["A_end"], 1.0)
    bounds = np.concatenate(([0], np.cumsum(lengths)))
    expected = sum(brute_nll(S[a:b], y[a:b], p["A"], p["A_start"], p["A_end"]) for a, b in itertools.pairwise(bounds))
    assert nll == pytest.approx(expected, rel=1e-12)


def test_gradients_equal_finite_differences() -> None:
    """Every entry of ∂/∂S, ∂/∂A, ∂/∂A_start, ∂/∂A_end against centred differences of the compiled loss."""
    rng = np.random.default_rng(1)
    S, y, lengths, p = problem(rng, [3, 1, 5], 4, np.float64)
    inputs = {"S": S, **p}

    def loss() -> float:
        return crf_compiled.crf_loss_packed(inputs["S"], y, lengths, inputs["A"], inputs["A_start"], inputs["A_end"],
                                            1.0)[0]

    _, dS, dA, d_start, d_end = crf_compiled.crf_loss_packed(S, y, lengths, p["A"], p["A_start"], p["A_end"], 1.0)
    for name, analytic in (("S", dS), ("A", dA), ("A_start", d_start), ("A_end", d_end)):
        x, eps = inputs[name], 1e-6
        numeric = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            old = x[idx]
            x[idx] = old + eps
            up = loss()
            x[idx] = old - eps
            down = loss()
            x[idx] = old
            numeric[idx] = (up - down) / (2 * eps)
        np.testing.assert_allclose(analytic, numeric, atol=1e-7, err_msg=name)


@settings(max_examples=60, deadline=None)
@given(lengths=st.lists(st.integers(0, 25), min_size=1, max_size=12).filter(any),
       C=st.sampled_from([2, 3, 9]), seed=st.integers(0, 2**16), spread=st.sampled_from([0.5, 3.0, 20.0]))
def test_the_same_loss_and_gradients_as_the_numpy_path(lengths, C, seed, spread) -> None:
    """`_crf_loss` with and without `compiled`, against numpy's float64 path on the same numbers: equal to ~1e-9
    in float64; in float32 (training's dtype) to float32's rounding of the results, as the loop sums in float64.
    Lengths include empty sentences; scores up to ~100 apart."""
    S, y, lens, p = problem(np.random.default_rng(seed), lengths, C, np.float32, spread)
    p64 = {k: v.astype(np.float64) for k, v in p.items()}
    loss, dS, grads = _crf_loss(p64, S.astype(np.float64), y, lens)
    for inputs, tol in (((p64, S.astype(np.float64)), 1e-9), ((p, S), 1e-5)):
        loss_c, dS_c, grads_c = _crf_loss(*inputs, y, lens, compiled=True)
        dtype = inputs[1].dtype
        assert dS_c.dtype == dtype and all(grads_c[k].dtype == dtype for k in grads)
        assert loss_c == pytest.approx(loss, rel=tol, abs=tol)
        np.testing.assert_allclose(dS_c, dS, atol=tol)
        for k in grads:
            np.testing.assert_allclose(grads_c[k], grads[k], atol=tol * max(1, len(S)), err_msg=k)


def test_float32_training_numbers_match_numpys_float32_path() -> None:
    """At the spreads training sees, the float32 results of both paths agree to float32 rounding."""
    rng = np.random.default_rng(7)
    for _ in range(20):
        S, y, lens, p = problem(rng, list(rng.integers(1, 40, 16)), 9, np.float32, 2.0)
        loss, dS, grads = _crf_loss(p, S, y, lens)
        loss_c, dS_c, grads_c = _crf_loss(p, S, y, lens, compiled=True)
        assert loss_c == pytest.approx(loss, rel=1e-5)
        np.testing.assert_allclose(dS_c, dS, atol=1e-6)
        for k in grads:
            np.testing.assert_allclose(grads_c[k], grads[k], atol=1e-6, err_msg=k)


def test_an_underflowing_normaliser_takes_the_numpy_path() -> None:
    """Transitions and scores 10,000 apart leave every allowed path at probability 0 in float64: the loop says
    so (None) and `_crf_loss` takes the numpy path, whose log-space fallback stays finite."""
    A = np.array([[0, -1e4], [-1e4, 0]])
    S = np.array([[0, -1e4], [-1e4, 0]])
    zero = np.zeros(2)
    assert crf_compiled.crf_loss_packed(S, np.array([0, 1]), np.array([2]), A, zero, zero, 1.0) is None
    params = {"A": A, "A_start": zero, "A_end": zero}
    loss, dS, grads = _crf_loss(params, S, np.array([0, 1]), np.array([2]), compiled=True)
    loss_np, dS_np, _ = _crf_loss(params, S, np.array([0, 1]), np.array([2]))
    assert loss == loss_np and np.isfinite(loss) and np.array_equal(dS, dS_np)
    assert all(np.isfinite(g).all() for g in grads.values())


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_the_whole_network_gradchecks_with_the_compiled_loss(activation) -> None:
    from test_model import random_problem

    spec, params, batch = random_problem("multiclass", "crf", activation, 2, case_dim=2, seed=4, dropout=0.2)
    results = gradcheck(params, spec, batch, seed=2, entries=25, compiled=True)
    assert {r.name for r in results} == set(params)
    for r in results:
        assert r.max_rel_error < 1e-5, f"{activation}: {r.name} off by {r.max_rel_error:.1e}"


def test_kernel_choice(monkeypatch) -> None:
    assert crf_compiled.use_compiled("auto") and crf_compiled.use_compiled("numba")
    assert not crf_compiled.use_compiled("numpy")
    monkeypatch.setattr(crf_compiled, "available", lambda: False)
    assert not crf_compiled.use_compiled("auto")
    with pytest.raises(ConfigError, match="numba is not installed"):
        crf_compiled.use_compiled("numba")


@pytest.mark.parametrize("kernel", ["numba", "numpy"])
def test_training_uses_the_kernel_it_says_and_records_it(kernel, monkeypatch) -> None:
    """train.kernel numba sends every CRF batch through the compiled loop and never through numpy's, numpy the
    other way round; the model's metadata says which. The first batch's loss is the same either way to float32
    rounding, and a compiled run is as deterministic as numpy's (1 or 2 threads: the same arrays)."""
    from test_train_threads import final_params, sample_config

    import ner_cli.nn.crf as crf
    from ner_cli.train import Step, Trainer

    calls = {"compiled": 0, "numpy": 0}

    def counted(key, f):
        def wrapped(*args, **kwargs):
            calls[key] += 1
            return f(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(crf_compiled, "crf_loss_packed", counted("compiled", crf_compiled.crf_loss_packed))
    monkeypatch.setattr(crf, "crf_nll", counted("numpy", crf.crf_nll))

    def first_epoch(kernel_name):
        cfg = sample_config()
        cfg.train.kernel = kernel_name
        trainer = Trainer.from_config(cfg, threads=1)
        try:
            return list(trainer.run_epoch())
        finally:
            trainer.helper.close()

    events = first_epoch(kernel)
    steps = [e for e in events if isinstance(e, Step)]
    assert calls == {"compiled": len(steps) * (kernel == "numba"), "numpy": len(steps) * (kernel == "numpy")}
    assert events[-1].tagger.meta["train_kernel"] == kernel
    other = first_epoch("numpy" if kernel == "numba" else "numba")
    assert other[0].loss == pytest.approx(steps[0].loss, rel=1e-5)
    if kernel == "numba":
        cfg = sample_config()
        cfg.train.kernel = "numba"
        one, two = final_params(cfg, 1), final_params(cfg, 2)
        for k in one:
            np.testing.assert_array_equal(one[k], two[k], err_msg=k)
