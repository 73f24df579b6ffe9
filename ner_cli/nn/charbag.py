"""Character n-gram bag: a word vector built from the pieces of its spelling, forward and backward by hand.

A word type w (lowercased) has the hashed character n-grams g(w) of `features.chars`; its vector is their mean
row of the table Q (fastText's subword vector):

    c(w) = (1 / |g(w)|) Σ_{j ∈ g(w)} Q[j]                 (d_char,)     0 for the padding type (no n-grams)

Backward: every n-gram row of w receives ∂J/∂c(w) / |g(w)|, summed over the window slots where w appears:

    ∂J/∂Q[j] = Σ_{slots s with type w, j ∈ g(w)} ∂J/∂c_s / |g(w)|

Vectors are computed once per distinct type of a batch (or a tagging chunk) and then gathered per slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class CharBag:
    """The n-grams of a corpus's word types as CSR: type t has ngrams[offsets[t]:offsets[t + 1]]."""

    offsets: np.ndarray          # (T + 1,) int64
    ngrams: np.ndarray           # (nnz,) int32 rows of Q

    def rows_of(self, types: np.ndarray) -> np.ndarray:
        """The rows of Q that the n-grams of these word types use (with repeats)."""
        return _segments(self, np.unique(types))[0]


def _segments(bag: CharBag, types: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For distinct `types` (U,): their n-gram rows (M,), the position in `types` of each (M,), counts (U,)."""
    starts, ends = bag.offsets[types], bag.offsets[types + 1]
    counts = ends - starts                                         # (U,) |g(w)|
    owner = np.repeat(np.arange(len(types)), counts)               # (M,)
    within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return bag.ngrams[np.repeat(starts, counts) + within], owner, counts


def bag_forward(Q: np.ndarray, bag: CharBag, slots: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """c for every window slot: slots (B, 2w+1) type ids -> (B, 2w+1, d_char), and a cache for `bag_backward`."""
    types, inverse = np.unique(slots, return_inverse=True)
    inverse = inverse.ravel()                                      # (B·(2w+1),) (numpy 2 keeps the input shape)
    rows, owner, counts = _segments(bag, types)
    # rows of a type are contiguous: Σ_j Q[j] per type = difference of two prefix sums (float64, exact enough)
    prefix = np.zeros((len(rows) + 1, Q.shape[1]))
    np.cumsum(Q[rows], axis=0, out=prefix[1:])
    ends = np.cumsum(counts)
    sums = prefix[ends] - prefix[ends - counts]                    # (U, d_char)
    vecs = (sums / np.maximum(counts, 1)[:, None]).astype(Q.dtype)   # (U, d_char)  c(w)
    out = vecs[inverse.reshape(slots.shape)]                       # (B, 2w+1, d_char)
    return out, dict(inverse=inverse, rows=rows, owner=owner, counts=counts, n_types=len(types))


def bag_backward(d_out: np.ndarray, cache: dict[str, Any], shape: tuple[int, int]):
    """∂J/∂Q from ∂J/∂c per slot (B, 2w+1, d_char), as a RowGrad over the n-gram rows used."""
    from .model import RowGrad

    flat = d_out.reshape(-1, shape[1])
    d_vecs = _sum_by(cache["inverse"], flat, cache["n_types"])                # Σ over the slots of each type
    d_vecs /= np.maximum(cache["counts"], 1)[:, None]                          # local gradient 1/|g(w)|
    rows, slot = np.unique(cache["rows"], return_inverse=True)                # each n-gram row of each type
    values = _sum_by(slot.ravel(), d_vecs[cache["owner"]], len(rows))
    return RowGrad(rows.astype(np.int64), values.astype(d_out.dtype), shape)


def _sum_by(group: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """(n, d) sums of the rows of `values` (M, d) by `group` (M,) in 0..n-1: one bincount per column."""
    return np.stack([np.bincount(group, weights=values[:, k], minlength=n) for k in range(values.shape[1])],
                    axis=1)
