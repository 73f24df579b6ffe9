"""Optimisers written by hand: SGD, AdaGrad and Adam, each updating only the embedding rows a batch touched.

`step(params, grads)` walks the one params dict; a RowGrad (the sparse gradient of a lookup table E, K or X)
updates the rows it touched only.
For Adam this is the "lazy" variant: the moment estimates of a row move only when the row is used.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .compiled import jit
from .helper import INLINE, Helper
from .model import Params, RowGrad


class Optimizer:
    """Base class: per-parameter learning-rate scaling lives in `lr_scale` (e.g. a smaller rate for E)."""

    def __init__(self, lr: float, lr_scale: dict[str, float] | None = None, compiled: bool = False) -> None:
        self.lr = lr
        self.lr_scale = lr_scale or {}
        self.t = 0
        self.compiled = compiled            # numba's loop where an optimiser has one (Adam), the same numbers

    def step(self, params: Params, grads: dict[str, Any], helper: Helper = INLINE) -> None:
        """Update every parameter from its gradient. With a helper thread, the largest dense one (W) is updated
        there while the others are updated here (its dozen passes over 87k floats release the GIL); every
        parameter is final when `step` returns."""
        self.t += 1
        dense = [name for name, g in grads.items() if not isinstance(g, RowGrad)]
        aside = max(dense, key=lambda name: grads[name].size, default=None)
        done = helper.submit(self._apply, aside, params[aside], grads[aside]) if aside is not None else None
        for name, g in grads.items():
            if name != aside:
                self._apply(name, params[name], g)
        if done is not None:
            done.result()

    def _apply(self, name: str, p: np.ndarray, g: np.ndarray | RowGrad) -> None:
        lr = self.lr * self.lr_scale.get(name, 1.0)
        if isinstance(g, RowGrad):
            self._update(name, p, g.values, g.rows, lr)
        else:
            self._update(name, p, g, None, lr)

    def _update(self, name: str, p: np.ndarray, g: np.ndarray, rows: np.ndarray | None, lr: float) -> None:
        raise NotImplementedError

    def state(self) -> dict[str, np.ndarray]:
        """Arrays to checkpoint (for resuming)."""
        return {"t": np.array(self.t)}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        self.t = int(state["t"])

    def state_shapes(self, params: dict[str, np.ndarray]) -> dict[str, tuple[int, ...]]:
        """The arrays `state()` holds once every parameter has been updated, and their shapes."""
        return {"t": ()}

    def free(self) -> None:
        """Drop the moment arrays once training is over (for Adam, twice the parameters' memory)."""


class SGD(Optimizer):
    """θ ← θ - lr · g."""

    def _update(self, name, p, g, rows, lr):
        if rows is None:
            p -= lr * g
        else:
            p[rows] -= lr * g


class _Accumulating(Optimizer):
    """Optimisers with per-parameter moment arrays, created on first use and shaped like the parameter."""

    slots: tuple[str, ...] = ()

    def __init__(self, lr: float, lr_scale: dict[str, float] | None = None, compiled: bool = False) -> None:
        super().__init__(lr, lr_scale, compiled)
        self.moments: dict[str, dict[str, np.ndarray]] = {s: {} for s in self.slots}

    def _slot(self, slot: str, name: str, p: np.ndarray) -> np.ndarray:
        m = self.moments[slot]
        if name not in m:
            m[name] = np.zeros_like(p)
        return m[name]

    def free(self) -> None:
        self.moments = {s: {} for s in self.slots}

    def state(self) -> dict[str, np.ndarray]:
        out = super().state()
        for slot, arrays in self.moments.items():
            out.update({f"{slot}.{name}": a for name, a in arrays.items()})
        return out

    def state_shapes(self, params: dict[str, np.ndarray]) -> dict[str, tuple[int, ...]]:
        return {**super().state_shapes(params),
                **{f"{slot}.{name}": p.shape for slot in self.slots for name, p in params.items()}}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        super().load_state(state)
        for key, a in state.items():
            if "." in key:
                slot, name = key.split(".", 1)
                self.moments[slot][name] = np.array(a)


class AdaGrad(_Accumulating):
    """G ← G + g²;  θ ← θ - lr · g / (√G + ε)."""

    slots = ("G",)
    eps = 1e-8

    def _update(self, name, p, g, rows, lr):
        G = self._slot("G", name, p)
        if rows is None:
            G += g * g
            p -= lr * g / (np.sqrt(G) + self.eps)
        else:
            G[rows] += g * g
            p[rows] -= lr * g / (np.sqrt(G[rows]) + self.eps)


class Adam(_Accumulating):
    """m ← β1 m + (1-β1) g;  v ← β2 v + (1-β2) g²;  θ ← θ - lr · m̂ / (√v̂ + ε), bias-corrected at step t."""

    slots = ("m", "v")

    def __init__(self, lr: float, lr_scale: dict[str, float] | None = None, compiled: bool = False,
                 beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        super().__init__(lr, lr_scale, compiled)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self._buffers: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def free(self) -> None:
        super().free()
        self._buffers = {}

    def _scratch(self, name: str, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Two arrays shaped like `p` for intermediate results (not state: never saved)."""
        if name not in self._buffers or self._buffers[name][0].shape != p.shape:
            self._buffers[name] = (np.empty_like(p), np.empty_like(p))
        return self._buffers[name]

    def _update(self, name, p, g, rows, lr):
        m, v = self._slot("m", name, p), self._slot("v", name, p)
        b1, b2 = self.beta1, self.beta2
        step = lr * np.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        if self.compiled and all(a.dtype == np.float32 and a.flags.c_contiguous for a in (p, g, m, v)):
            f4 = np.float32                                         # one pass of a compiled loop: the same bits
            consts = (f4(b1), f4(1 - b1), f4(b2), f4(1 - b2), f4(self.eps), float(step))
            if rows is None:
                _adam_dense(p.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1), *consts)
            else:                                                   # the loop does no bounds checks
                if len(rows) and not (int(rows.min()) >= 0 and int(rows.max()) < len(p)):
                    raise IndexError(f"{name}: rows out of range 0..{len(p) - 1}")
                _adam_rows(p, g, m, v, rows, *consts)
        elif rows is None:                                          # in place, through two scratch arrays
            buf, buf2 = self._scratch(name, p)
            m *= b1
            m += np.multiply(g, 1 - b1, out=buf)                    # m += (1-b1) g
            v *= b2
            np.multiply(g, 1 - b2, out=buf)
            v += np.multiply(buf, g, out=buf)                       # v += (1-b2) g²
            np.sqrt(v, out=buf)
            buf += self.eps
            np.multiply(m, step, out=buf2)
            p -= np.divide(buf2, buf, out=buf2)                     # θ -= step m / (√v + ε)
        else:                                                       # lazy: only the touched rows move
            m_r = b1 * m[rows] + (1 - b1) * g
            v_r = b2 * v[rows] + (1 - b2) * g * g
            m[rows], v[rows] = m_r, v_r
            p[rows] -= step * m_r / (np.sqrt(v_r) + self.eps)


@jit
def _adam_dense(p, g, m, v, b1, c1, b2, c2, eps, step):  # noqa: ANN001 (compiled: numba infers the types)
    """`Adam._update` of flat float32 p, g, m, v, one element at a time in numpy's order and precision: the same
    bits. c1 = 1 - β1 and c2 = 1 - β2 in float32; `step` = lr √(1-β2^t)/(1-β1^t) in float64, as numpy has it."""
    for i in range(p.shape[0]):
        mi = m[i] * b1 + g[i] * c1                                  # m ← β1 m + (1-β1) g
        vi = v[i] * b2 + g[i] * c2 * g[i]                           # v ← β2 v + (1-β2) g²
        m[i], v[i] = mi, vi
        p[i] -= np.float32(mi * step) / (np.sqrt(vi) + eps)         # numpy: m·step rounded to float32, then ÷


@jit
def _adam_rows(p, g, m, v, rows, b1, c1, b2, c2, eps, step):  # noqa: ANN001
    """The lazy update of rows `rows` (distinct, in range: a RowGrad's) of 2-D float32 p, m, v (g: one row each),
    as numpy's fancy-indexed one."""
    for k in range(rows.shape[0]):
        r = rows[k]
        for j in range(p.shape[1]):
            mi = m[r, j] * b1 + g[k, j] * c1
            vi = v[r, j] * b2 + g[k, j] * c2 * g[k, j]
            m[r, j], v[r, j] = mi, vi
            p[r, j] = np.float32(p[r, j] - mi * step / np.float64(np.sqrt(vi) + eps))   # numpy: float64 here


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adagrad": AdaGrad, "adam": Adam}


def make_optimizer(name: str, lr: float, lr_scale: dict[str, float] | None = None, compiled: bool = False
                   ) -> Optimizer:
    """The optimiser `name`; `compiled`: numba's loop where it has one (Adam: the same numbers, faster)."""
    return OPTIMIZERS[name](lr, lr_scale, compiled)
