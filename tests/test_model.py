"""The network's hand-written gradients against centred finite differences, for every activation and loss."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ner_cli.nn.activations import ACTIVATIONS
from ner_cli.nn.gradcheck import gradcheck
from ner_cli.nn.model import LOSSES as TASK_LOSSES
from ner_cli.nn.model import Batch, ModelSpec, RowGrad, backward, forward, init_params, scores

LOSSES = [(task, loss) for task, losses in TASK_LOSSES.items() for loss in losses]   # (task, loss) pairs


def random_problem(task: str, loss: str, activation: str, window: int, case_dim: int, seed: int,
                   dropout: float = 0.0, suffix_dim: int = 2):
    rng = np.random.default_rng(seed)
    C = 1 if task == "binary" else int(rng.integers(3, 6))
    spec = ModelSpec(vocab_size=int(rng.integers(12, 30)), n_classes=C, window=window, dim=int(rng.integers(2, 5)),
                     case_dim=case_dim, n_cases=8, suffix_dim=suffix_dim, n_suffixes=9,
                     hidden=int(rng.integers(3, 7)), activation=activation, task=task,
                     loss=loss, dropout_input=dropout, dropout_hidden=dropout, l2=0.01)
    params = init_params(spec, rng, dtype=np.float64)
    params["W"] *= 3                                  # push pre-activations out of the flat middle
    for k in ("A", "A_start", "A_end", "b", "c"):
        if k in params:
            params[k] = rng.normal(0, 0.5, params[k].shape)
    lengths = rng.integers(1, 5, size=3)
    n = int(lengths.sum())
    words = rng.integers(0, spec.vocab_size, size=(n, spec.width)).astype(np.int32)
    cases = rng.integers(0, 8, size=(n, spec.width)).astype(np.int8) if case_dim else None
    suffixes = rng.integers(0, 9, size=(n, spec.width)).astype(np.int32) if suffix_dim else None
    targets = rng.integers(0, 2 if task == "binary" else C, size=n)
    return spec, params, Batch(words, cases, targets, lengths, suffixes)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_derivative_matches_finite_differences(name):
    f, f_prime = ACTIVATIONS[name]
    z = np.linspace(-3.05, 3.05, 124)                 # steps past the kinks at 0 and ±1
    eps = 1e-6
    numeric = (f(z + eps) - f(z - eps)) / (2 * eps)
    np.testing.assert_allclose(f_prime(z, f(z)), numeric, rtol=1e-6, atol=1e-8, err_msg=name)


@pytest.mark.parametrize(("task", "loss"), LOSSES)
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("window", [1, 2])
def test_every_gradient_matches_finite_differences(task, loss, activation, window):
    spec, params, batch = random_problem(task, loss, activation, window, case_dim=2, seed=window * 7)
    results = gradcheck(params, spec, batch, seed=3, entries=25)
    assert {r.name for r in results} == set(params)
    for r in results:
        assert r.max_rel_error < 1e-5, f"{task}/{loss}/{activation}/w={window}: {r.name} off by {r.max_rel_error:.1e}"


@pytest.mark.parametrize(("task", "loss"), LOSSES)
def test_gradients_with_dropout_match(task, loss):
    spec, params, batch = random_problem(task, loss, "tanh", 2, case_dim=0, seed=11, dropout=0.3)
    for r in gradcheck(params, spec, batch, seed=5, entries=25):
        assert r.max_rel_error < 1e-5, f"{loss}: {r.name} off by {r.max_rel_error:.1e}"


def test_backward_returns_one_gradient_per_parameter_with_its_shape():
    for task, loss in LOSSES:
        spec, params, batch = random_problem(task, loss, "relu", 2, case_dim=3, seed=1)
        _, cache = forward(params, spec, batch, np.random.default_rng(0))
        grads = backward(params, spec, cache)
        assert grads.keys() == params.keys()
        for k, g in grads.items():
            dense = g.dense() if isinstance(g, RowGrad) else g
            assert dense.shape == params[k].shape, k


def test_embedding_gradient_touches_only_the_rows_in_the_batch():
    spec, params, batch = random_problem("multiclass", "softmax", "relu", 2, case_dim=0, seed=2)
    _, cache = forward(params, spec, batch)
    gE = backward(params, spec, cache)["E"]
    assert set(gE.rows.tolist()) == set(np.unique(batch.words).tolist())


def test_lecture_delta_for_a_single_binary_window():
    """With ∂J/∂s = 1: δ = uᵀ ∘ f'(z), ∂s/∂W = δᵀxᵀ, ∂s/∂b = δ, ∂s/∂x = Wᵀδ — written out for one window."""
    rng = np.random.default_rng(0)
    spec = ModelSpec(vocab_size=10, n_classes=1, window=2, dim=3, hidden=4, activation="sigmoid", task="binary",
                     loss="logistic")
    params = init_params(spec, rng, dtype=np.float64)
    words = rng.permutation(np.arange(2, 10))[:5].astype(np.int32)[None, :]   # five different words
    x = params["E"][words].reshape(-1)                             # x ∈ R^{5d}
    z = params["W"] @ x + params["b"]
    h = 1 / (1 + np.exp(-z))
    s = params["u"] @ h
    assert np.isclose(scores(params, spec, words)[0], s)
    delta = params["u"] * h * (1 - h)                              # δ = uᵀ ∘ f'(z)
    # logistic loss with y = 1: ∂J/∂s = -σ(-s)
    _, cache = forward(params, spec, Batch(words, None, np.array([1]), np.array([1])))
    grads = backward(params, spec, cache)
    ds = -1 / (1 + np.exp(s))
    np.testing.assert_allclose(grads["W"], ds * np.outer(delta, x))
    np.testing.assert_allclose(grads["b"], ds * delta)
    dx = ds * params["W"].T @ delta                                # ∂J/∂x = Wᵀδ · ∂J/∂s, (5d,)
    assert np.abs(dx).max() > 1e-6                                 # not trivially zero
    dE = grads["E"].dense()
    np.testing.assert_allclose(dE[words[0]], dx.reshape(5, 3))     # row of each window word = its slice of ∂J/∂x
    untouched = np.setdiff1d(np.arange(10), words[0])
    assert not dE[untouched].any()                                 # the other rows of E get nothing


@pytest.mark.parametrize(("task", "loss"), LOSSES)
def test_forward_is_pure(task, loss):
    spec, params, batch = random_problem(task, loss, "gelu", 2, case_dim=2, seed=4, dropout=0.2)
    before = {k: v.copy() for k, v in params.items()}
    a, _ = forward(params, spec, batch, np.random.default_rng(9))
    b, _ = forward(params, spec, batch, np.random.default_rng(9))
    assert a == b
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])


def test_gradchecks_cover_every_combination_a_config_accepts():
    """The gradient tests above run exactly the activation x (task, loss) combinations a config accepts."""
    from ner_cli.config import CHOICES, build_config
    from ner_cli.errors import ConfigError

    accepted = set()
    for activation, task, loss in itertools.product(CHOICES["model.activation"], CHOICES["model.task"],
                                                    CHOICES["model.loss"]):
        try:
            build_config({"model": {"activation": activation, "task": task, "loss": loss, "target": "PER"}})
        except ConfigError:
            continue
        accepted.add((activation, (task, loss)))
    assert accepted == set(itertools.product(ACTIVATIONS, LOSSES))
    assert len(accepted) == 20


def test_gradcheck_catches_a_wrong_gradient(monkeypatch):
    """The check must be able to fail: a backward pass off by 1% in W is reported."""
    import ner_cli.nn.gradcheck as gc

    spec, params, batch = random_problem("multiclass", "softmax", "tanh", 2, case_dim=2, seed=3)
    real = gc.backward

    def off_by_one_percent(p, s, cache):
        grads = real(p, s, cache)
        grads["W"] = grads["W"] * 1.01
        return grads
    monkeypatch.setattr(gc, "backward", off_by_one_percent)
    errors = {r.name: r.max_rel_error for r in gc.gradcheck(params, spec, batch, seed=0, entries=25)}
    assert errors["W"] > 1e-3 and errors["b"] < 1e-5
