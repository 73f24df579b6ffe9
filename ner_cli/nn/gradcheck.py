"""Check every analytic gradient against centred finite differences, in float64.

For a sample of entries θ_i of each parameter: numeric = (J(θ_i + ε) - J(θ_i - ε)) / 2ε, compared with the
analytic ∂J/∂θ_i from `backward`. The relative error |a - n| / max(|a| + |n|, 1e-8) is reported per parameter;
dropout masks and corrupted windows are redrawn from the same seed for every evaluation, so J is one function.
An entry whose error is large is measured again with steps ten times larger and smaller, keeping the smallest
error: a step across a kink of ReLU, hard tanh or the hinge, or round-off swamping a tiny gradient, is wrong at
one step size only; a wrong analytic gradient is wrong at all three.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import TABLES, Batch, ModelSpec, Params, RowGrad, backward, forward


@dataclass
class GradCheck:
    name: str
    shape: tuple[int, ...]
    checked: int                # entries compared
    max_rel_error: float
    max_abs_analytic: float


def analytic_gradients(params: Params, spec: ModelSpec, batch: Batch, seed: int, compiled: bool = False
                       ) -> dict[str, np.ndarray]:
    _, cache = forward(params, spec, batch, np.random.default_rng(seed), compiled=compiled)
    grads = backward(params, spec, cache)
    return {k: g.dense() if isinstance(g, RowGrad) else g for k, g in grads.items()}


def sample_entries(name: str, shape: tuple[int, ...], batch: Batch, n: int, rng: np.random.Generator) -> np.ndarray:
    """Flat indices to check: for the lookup tables (`TABLES`) mostly entries of rows the batch uses
    (the others have gradient 0)."""
    size = int(np.prod(shape))
    if size <= n:
        return np.arange(size)
    fields = dict(TABLES)
    if name in fields:
        ids = getattr(batch, fields[name])
        if name == "Q":                                            # the n-gram rows of the batch's word types
            ids = batch.char_bag.rows_of(ids)
        n_used = n - 2 if n > 2 else n                             # and 2 anywhere, when there are more than 2
        rows = rng.choice(np.unique(ids), size=n_used)
        used = rows * shape[1] + rng.integers(0, shape[1], len(rows))
        return np.concatenate([used, rng.integers(0, size, n - n_used)])
    return rng.choice(size, size=n, replace=False)


def _central_difference(J, flat: np.ndarray, i: int, eps: float) -> float:
    """(J(θ_i + ε) - J(θ_i - ε)) / 2ε, restoring θ_i afterwards."""
    old = flat[i]
    flat[i] = old + eps
    plus = J()
    flat[i] = old - eps
    minus = J()
    flat[i] = old
    return (plus - minus) / (2 * eps)


def _relative_error(a: float, n: float) -> float:
    return abs(a - n) / max(abs(a) + abs(n), 1e-8)


def gradcheck(params: Params, spec: ModelSpec, batch: Batch, *, seed: int = 0, entries: int = 30,
              eps: float = 1e-6, compiled: bool = False) -> list[GradCheck]:
    """Compare analytic and numeric gradients for every parameter; the params are cast to float64 first.
    `compiled`: the CRF's loss and gradients from its compiled loop (`forward`'s flag), numeric ones too."""
    params = {k: v.astype(np.float64) for k, v in params.items()}
    analytic = analytic_gradients(params, spec, batch, seed, compiled)
    if analytic.keys() != params.keys():
        raise AssertionError(f"backward returned {sorted(analytic)}, params are {sorted(params)}")
    rng = np.random.default_rng(seed + 1)

    def J() -> float:
        return forward(params, spec, batch, np.random.default_rng(seed), compiled=compiled)[0]

    results = []
    for name, p in params.items():
        flat = p.reshape(-1)                                       # a view: perturb in place, then restore
        worst = 0.0
        picked = sample_entries(name, p.shape, batch, entries, rng)
        a = analytic[name].reshape(-1)[picked]
        for j, i in enumerate(picked):
            # a step across a kink (ReLU, hard tanh, hinge at 0) gives a wrong numeric slope, and a tiny gradient
            # drowns in round-off; both depend on the step, a wrong analytic gradient does not: retry, keep the best
            err = np.inf
            for step in (eps, eps * 10, eps / 10):
                err = min(err, _relative_error(a[j], _central_difference(J, flat, i, step)))
                if err < 1e-7:
                    break
            worst = max(worst, err)
        results.append(GradCheck(name, p.shape, len(picked), worst, float(np.abs(a).max(initial=0.0))))
    return results
