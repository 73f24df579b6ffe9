"""Training's hot loops compiled with numba (the `fast` extra), when it is installed: the choice and the compiler.

`train.kernel` chooses: "numba" (an error without it), "numpy", or "auto" (numba when installed). With numba,
training runs three loops compiled from plain Python written beside the numpy code they stand for:

- the CRF's loss and gradients (`crf_compiled.py`): the same quantities as `crf.py`, summed in float64, so
  rounded differently from numpy's float32 path: the same seed takes another, equally good trajectory;
- Adam's update (`optim.Adam`): the same operations in the same order and precision as numpy's, so bit for bit
  the same numbers (a test checks);
- the sums of the embedding rows' gradients (`model.scatter_rows`), added in reading order where numpy's
  `add.reduceat` groups them its own way: rounded differently.

numpy stays the reference: `ner tag`, `ner eval` and every other command never import numba.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from typing import Any

from ..errors import ConfigError

KERNELS = ("auto", "numba", "numpy")


def available() -> bool:
    """Whether numba is installed (the `fast` extra), without importing it."""
    return importlib.util.find_spec("numba") is not None


def use_compiled(kernel: str) -> bool:
    """Resolve `train.kernel`: "numba" (a ConfigError without numba), "numpy", or "auto" (numba when installed)."""
    if kernel == "numba" and not available():
        raise ConfigError("train.kernel: numba is not installed",
                          hint="pip install 'ner-cli[fast]', or --set train.kernel=auto (numpy without numba)")
    return kernel == "numba" or (kernel == "auto" and available())


def jit(loop: Callable[..., Any]) -> Callable[..., Any]:
    """`loop` compiled on its first call (numba caches the machine code on disk: ~3 s once per loop and
    argument types, then a fraction of a second a process; where no cache directory can be written, it compiles
    in every process). nogil: it runs beside training's helper thread;
    error_model "numpy": a division by zero gives inf/NaN as in numpy instead of raising, which lets LLVM
    vectorise loops with divisions (the loops check their own denominators)."""
    compiled = None

    def call(*args: Any) -> Any:
        nonlocal compiled
        if compiled is None:
            from numba import njit

            try:
                compiled = njit(cache=True, nogil=True, error_model="numpy")(loop)
            except RuntimeError:        # no writable cache directory (a read-only install, no home): compile each run
                compiled = njit(nogil=True, error_model="numpy")(loop)
        return compiled(*args)

    return functools.wraps(loop)(call)


def warm_up() -> None:
    """One CRF training step of a tiny model in float32 through every compiled loop, so that numba compiles them
    (or loads them from its cache) now, before the first epoch: `Trainer` runs it and `ner train` says how long
    it took. (In a thread beside reading the corpus it saved nothing: both hold the GIL.)"""
    import numpy as np

    from .model import Batch, ModelSpec, backward, forward, init_params
    from .optim import Adam

    spec = ModelSpec(vocab_size=6, n_classes=3, window=1, dim=2, case_dim=2, n_cases=3, hidden=4, loss="crf",
                     dropout_input=0.1, dropout_hidden=0.1)
    rng = np.random.default_rng(0)
    params = init_params(spec, rng)
    ids = np.array([[0, 2, 3], [2, 3, 4], [3, 4, 0], [0, 5, 0]], dtype=np.int32)
    batch = Batch(ids, np.ones_like(ids, dtype=np.int8), np.array([0, 1, 2, 0]), np.array([3, 1]))
    _, cache = forward(params, spec, batch, rng, compiled=True)
    Adam(1e-3, compiled=True).step(params, backward(params, spec, cache))
