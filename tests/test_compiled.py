"""Training's compiled loops (numba, the `fast` extra): the CRF's loss against brute force, finite differences
and the numpy path; Adam's update bit for bit against numpy's; the embedding row sums; the kernel's choice."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ner_cli.errors import ConfigError
from ner_cli.nn import compiled, crf_compiled
from ner_cli.nn.activations import ACTIVATIONS
from ner_cli.nn.gradcheck import _central_difference, gradcheck
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
        flat = inputs[name].reshape(-1)                            # a view: perturbed in place, then restored
        numeric = [_central_difference(loss, flat, i, 1e-6) for i in range(flat.size)]
        np.testing.assert_allclose(analytic.reshape(-1), numeric, atol=1e-7, err_msg=name)


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
    assert compiled.use_compiled("auto") and compiled.use_compiled("numba")
    assert not compiled.use_compiled("numpy")
    monkeypatch.setattr(compiled, "available", lambda: False)
    assert not compiled.use_compiled("auto")
    with pytest.raises(ConfigError, match="numba is not installed"):
        compiled.use_compiled("numba")


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
        calls.update(compiled=0, numpy=0)                          # not counting the warm-up step
        try:
            return list(trainer.run_epoch())
        finally:
            trainer.helper.close()

    events = first_epoch(kernel)
    counted_calls = dict(calls)
    steps = [e for e in events if isinstance(e, Step)]
    assert counted_calls == {"compiled": len(steps) * (kernel == "numba"), "numpy": len(steps) * (kernel == "numpy")}
    assert events[-1].tagger.meta["train_kernel"] == kernel
    other = first_epoch("numpy" if kernel == "numba" else "numba")
    assert other[0].loss == pytest.approx(steps[0].loss, rel=1e-5)
    if kernel == "numba":
        cfg = sample_config()
        cfg.train.kernel = "numba"
        one, two = final_params(cfg, 1), final_params(cfg, 2)
        for k in one:
            np.testing.assert_array_equal(one[k], two[k], err_msg=k)


@pytest.mark.parametrize("lr_scale", [1.0, 0.3])
def test_compiled_adam_gives_numpys_numbers_bit_for_bit(lr_scale) -> None:
    """Adam with `compiled`: the same parameters and moments, bit for bit, as numpy's update over 40 steps, for
    dense parameters (2-D, 1-D) and the lazy rows of a lookup table, with gradients spanning 1e-8 to 1e3."""
    from ner_cli.nn.model import RowGrad
    from ner_cli.nn.optim import Adam

    rng = np.random.default_rng(3)
    shapes = {"E": (500, 7), "W": (30, 11), "b": (30,)}
    start = {k: rng.normal(size=s).astype(np.float32) for k, s in shapes.items()}
    runs = []
    for use_numba in (False, True):
        params = {k: v.copy() for k, v in start.items()}
        opt = Adam(0.01, {"E": lr_scale}, compiled=use_numba)
        g_rng = np.random.default_rng(4)
        for _ in range(40):
            rows = np.unique(g_rng.integers(0, 500, 60))
            scale = 10.0 ** g_rng.integers(-8, 4)
            grads = {"E": RowGrad(rows, (g_rng.normal(size=(len(rows), 7)) * scale).astype(np.float32), shapes["E"]),
                     "W": (g_rng.normal(size=shapes["W"]) * scale).astype(np.float32),
                     "b": (g_rng.normal(size=shapes["b"]) * scale).astype(np.float32)}
            opt.step(params, grads)
        runs.append((params, opt.state()))
    (p_np, s_np), (p_c, s_c) = runs
    for k in p_np:
        np.testing.assert_array_equal(p_c[k], p_np[k], err_msg=k)
    for k in s_np:
        np.testing.assert_array_equal(s_c[k], s_np[k], err_msg=k)


def test_a_compiled_training_run_equals_one_with_numpys_adam() -> None:
    """With train.kernel numba, an epoch whose Adam is numpy's saves the same arrays as one whose Adam is
    compiled: only the CRF's loss changes the trajectory."""
    from test_train_threads import sample_config

    from ner_cli.train import Epoch, Trainer

    finals = []
    for adam_compiled in (False, True):
        cfg = sample_config()
        cfg.train.kernel = "numba"
        trainer = Trainer.from_config(cfg, threads=2)
        trainer.optimizer.compiled = adam_compiled
        try:
            finals.append([e for e in trainer.run_epoch() if isinstance(e, Epoch)][-1].tagger.params)
        finally:
            trainer.helper.close()
    for k in finals[0]:
        np.testing.assert_array_equal(finals[0][k], finals[1][k], err_msg=k)


def test_float32_scores_hundreds_apart_keep_float64_precision() -> None:
    """A helper's attack: float32's exp inside the loop rounded an emission 120 below its row's maximum to 0 and
    gave a negative NLL (-79.3). The loop computes in float64, as on the same numbers cast to float64."""
    S = np.array([[0, 0], [-120, 0]], np.float32)
    A = np.array([[0, -200], [0, -200]], np.float32)
    zero = np.zeros(2, np.float32)
    loss, *_ = crf_compiled.crf_loss_packed(S, np.array([0, 0]), np.array([2]), A, zero, zero, 1.0)
    loss64, *_ = crf_compiled.crf_loss_packed(S.astype(np.float64), np.array([0, 0]), np.array([2]),
                                              A.astype(np.float64), zero.astype(np.float64), zero.astype(np.float64),
                                              1.0)
    assert loss == pytest.approx(loss64, rel=1e-12) and loss == pytest.approx(np.log(2), abs=1e-4)


@pytest.mark.parametrize(("y", "lengths", "match"), [
    ([0, 3, 1], [3], "tags must lie"), ([0, -1, 1], [3], "tags must lie"), ([0, 1, 1], [2], "sum to 3"),
    ([0, 1, 1], [4, -1], ">= 0"), ([0, 1], [2], "do not fit")])
def test_inputs_the_loop_cannot_check_are_refused(y, lengths, match) -> None:
    """The loop does no bounds checks (a tag of 1e6 or lengths past the rows crashed the process in a helper's
    attack): its wrapper refuses them."""
    S, zero = np.zeros((3, 3)), np.zeros(3)
    with pytest.raises(ValueError, match=match):
        crf_compiled.crf_loss_packed(S, np.array(y), np.array(lengths), np.zeros((3, 3)), zero, zero, 1.0)


def test_float16_takes_the_numpy_path() -> None:
    S, y, lens, p = problem(np.random.default_rng(2), [3, 2], 3, np.float16)
    assert crf_compiled.crf_loss_packed(S, y, lens, p["A"], p["A_start"], p["A_end"], 1.0) is None
    loss, dS, _ = _crf_loss(p, S, y, lens, compiled=True)
    assert loss == _crf_loss(p, S, y, lens)[0] and dS.dtype == np.float16


def test_the_numpy_fallback_gives_finite_marginals_where_a_normaliser_underflows() -> None:
    """A helper's attack: where the compiled loop declines (a per-position normaliser underflows, scores
    hundreds apart), numpy's scaled marginals gave NaN in ∂/∂A; they now come from the log-space tables."""
    p = {"A": np.array([[-168.0, -636], [1124, -35]]), "A_start": np.zeros(2), "A_end": np.zeros(2)}
    S = np.array([[-940.0, -598], [-455, 261]])
    assert crf_compiled.crf_loss_packed(S, np.array([0, 1]), np.array([2]), p["A"], p["A_start"], p["A_end"],
                                        1.0) is None
    loss, dS, grads = _crf_loss(p, S, np.array([0, 1]), np.array([2]), compiled=True)
    np.testing.assert_allclose(grads["A"], [[0, -0.5], [0.5, 0]], atol=1e-12)   # p(1 -> 0) = 1, gold 0 -> 1; / 2 tokens
    assert np.isfinite(loss) and np.isfinite(dS).all()


def test_without_a_writable_cache_the_loops_compile_anyway(tmp_path) -> None:
    """A read-only install with no writable home: numba cannot cache, and training crashed ("no locator
    available") in a helper's attack. The loops then compile in every process."""
    import subprocess
    import sys

    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    code = "from ner_cli.nn.compiled import warm_up; warm_up(); print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**__import__("os").environ, "NUMBA_CACHE_DIR": str(blocked / "cache")})
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_compiled_row_sums_equal_numpys_to_rounding() -> None:
    """`scatter_rows` with `compiled`: the same rows, and sums equal to float32 rounding (added in another
    order), for the word and casing tables of a batch and for an empty batch."""
    from ner_cli.nn.model import scatter_rows

    rng = np.random.default_rng(5)
    for vocab, d in ((1000, 50), (8, 4)):
        ids = rng.integers(0, vocab, (200, 5))
        grads = rng.normal(size=(200, 5, d)).astype(np.float32)
        a, b = scatter_rows(ids, grads, (vocab, d)), scatter_rows(ids, grads, (vocab, d), compiled=True)
        np.testing.assert_array_equal(a.rows, b.rows)
        np.testing.assert_allclose(b.values, a.values, rtol=1e-5, atol=1e-5)
        expected = np.zeros((vocab, d))
        np.add.at(expected, ids.ravel(), grads.reshape(-1, d))              # the scatter-add written plainly
        np.testing.assert_allclose(b.dense(), expected, atol=1e-4)
    empty = scatter_rows(np.zeros((0, 5), np.int64), np.zeros((0, 5, 3), np.float32), (10, 3), compiled=True)
    assert empty.rows.shape == (0,) and empty.values.shape == (0, 3)


def test_a_checkpoint_resumes_with_another_kernel(tmp_path) -> None:
    """train.kernel may change on resuming (a helper's attack: a numba checkpoint could not be resumed on a
    machine without numba)."""
    from test_train_threads import sample_config

    from ner_cli.io.checkpoint import load_checkpoint, save_checkpoint
    from ner_cli.train import Trainer

    cfg = sample_config()
    cfg.train.kernel = "numba"
    trainer = Trainer.from_config(cfg, threads=1)
    list(trainer.run_epoch())
    trainer.helper.close()
    save_checkpoint(tmp_path / "x.ckpt", trainer.state_dict())
    cfg.train.kernel = "numpy"
    other = Trainer.from_config(cfg, threads=1)
    other.load_state_dict(load_checkpoint(tmp_path / "x.ckpt"))
    other.helper.close()
    assert other.epoch == 1 and not other.compiled


def test_info_says_which_kernel_trained_the_model(sample_model) -> None:
    from ner_cli.cli.info import model_info
    from ner_cli.io.modelfile import load_model_arrays

    _, meta = load_model_arrays(sample_model)
    assert model_info(sample_model, meta)["train_kernel"] == "numba"       # conftest trains with kernel auto
    assert model_info(sample_model, {**meta, "train_kernel": None})["train_kernel"] is None
