"""One helper thread for training: a second core's worth of work without a second BLAS thread.

numpy releases the GIL inside matrix products, ufunc loops and the random generator's fills, so while the main
thread runs a step, a helper thread can draw the next batch's dropout masks, compute ∂J/∂W = δᵀx beside ∂J/∂x =
Wᵀδ, or apply the optimiser's update to W while the other parameters are updated. A second OpenBLAS thread would
split each product too, but it spins while it waits: with the other core busy (other processes on a 2-core machine)
one 230 x 290 x 300 product took 10 ms with 2 BLAS threads against 0.6 ms with one. A helper thread that finds the
core busy just waits its turn. The results do not depend on the thread count: the same operations run on the same
arrays, only on another core.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


def default_threads() -> int:
    """Threads `ner train` uses: $NER_TRAIN_THREADS if set, else 2 when this process may use 2 cores, else 1."""
    if os.environ.get("NER_TRAIN_THREADS", "").strip():
        return max(1, int(os.environ["NER_TRAIN_THREADS"]))
    return min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


class Helper:
    """Runs functions in one background thread (`threads=2`) or at once in the caller's (`threads=1`)."""

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="ner-train") if threads > 1 else None

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        """`fn(*args)` in the helper thread; its Future. Without one, called now (the Future is done)."""
        if self._pool is not None:
            return self._pool.submit(fn, *args)
        done: Future = Future()
        done.set_result(fn(*args))
        return done

    def close(self) -> None:
        """Stop the thread (after what was submitted has run)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


INLINE = Helper(1)        # no thread: what `backward` uses unless given a helper
