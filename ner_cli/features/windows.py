"""Integer index windows: for every token, the ids of the 2w+1 tokens around it, padded at sentence edges.

Sentences are concatenated into one flat id array with w padding slots on each side of every sentence; a
window is then `flat[pos + offsets]`. Only integer ids are stored for the corpus; float window vectors
x = [e(w_{t-w}); ...; e(w_{t+w})] are gathered from E one minibatch at a time (see model.forward).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def padded_positions(lengths: np.ndarray, window: int) -> tuple[np.ndarray, int]:
    """Flat positions of every token once each sentence is surrounded by `window` pads, and the flat size.

    lengths: (S,) tokens per sentence. Returns (positions (N,), M) with N = lengths.sum().
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    if len(lengths) == 0:
        return np.zeros(0, dtype=np.int64), 0
    padded = lengths + 2 * window
    starts = np.concatenate(([0], np.cumsum(padded)[:-1]))          # (S,) first slot of each sentence
    first_token = np.repeat(starts + window, lengths)               # (N,) slot of the sentence's first token
    within = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)  # (N,) j in sentence
    return (first_token + within).astype(np.int64), int(padded.sum())


def make_windows(ids: Sequence[np.ndarray] | np.ndarray, window: int, pad_id: int = 0,
                 lengths: np.ndarray | None = None) -> np.ndarray:
    """Window matrix (N, 2w+1) int32 of `ids` over sentences.

    ids: a list of per-sentence id arrays, or one flat array with `lengths` giving the sentence sizes.
    Row t holds [id(w_{t-w}), ..., id(w_t), ..., id(w_{t+w})], with `pad_id` past either sentence edge.
    """
    if lengths is None:
        lengths = np.fromiter((len(a) for a in ids), dtype=np.int64, count=len(ids))
        flat_ids = np.concatenate(ids) if len(ids) else np.zeros(0, dtype=np.int32)
    else:
        flat_ids = np.asarray(ids)
    positions, size = padded_positions(lengths, window)
    flat = np.full(size, pad_id, dtype=np.int32)
    flat[positions] = flat_ids
    offsets = np.arange(-window, window + 1)
    return flat[positions[:, None] + offsets[None, :]]              # (N, 2w+1)


def replace_tokens(windows: np.ndarray, lengths: np.ndarray, window: int, replace: np.ndarray,
                   new_id: int) -> np.ndarray:
    """The windows (N, 2w+1) of the same sentences with every token flagged in `replace` (N,) read as `new_id`,
    in each of the 2w+1 slots it occupies (its own window and its neighbours')."""
    centre = np.where(replace, new_id, windows[:, window]).astype(windows.dtype)
    return make_windows(centre, window, lengths=lengths)
