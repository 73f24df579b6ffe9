"""Decoding of per-token tag scores: greedy argmax and (constrained) Viterbi.

Scores ``S`` are additive log-space scores, one row of ``C`` tag scores per token. A path
``y_1..y_T`` scores::

    score(y) = start[y_1] + sum_t S[t, y_t] + sum_{t>1} trans[y_{t-1}, y_t] + end[y_T]

``trans[i, j]`` is the score of tag ``j`` following tag ``i``. ``trans`` / ``start`` / ``end``
default to zeros (plain per-token scores); with a CRF they are its ``A`` / ``A_start`` /
``A_end``. Boolean masks ``allowed`` (C, C), ``start_ok`` (C,), ``end_ok`` (C,) (e.g. from
``ner_cli.tags.transition_mask``) forbid transitions: a forbidden one adds ``DISALLOWED``
(-1e9, in float64) to the score, so an allowed path always wins when one exists and scores
are far below 1e9 in magnitude; if none exists the path with the fewest violations wins.

Decoding is vectorised over sentences and tags and loops over time positions only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DISALLOWED = -1e9                     # the one penalty for a forbidden transition (decoders and the CRF)
DECODERS = ("viterbi", "argmax")


def argmax_decode(S: np.ndarray) -> np.ndarray:
    """Greedy decoding: ``y_t = argmax_c S[t, c]``. S: (T, C) -> (T,) int64."""
    return np.asarray(S).argmax(axis=-1).astype(np.int64)


def lengths_to_mask(lengths: np.ndarray, T: int) -> np.ndarray:
    """Left-aligned padding mask: ``mask[b, t] = t < lengths[b]``. lengths: (B,) -> (B, T) bool."""
    return np.arange(T)[None, :] < np.asarray(lengths)[:, None]


def with_constraints(scores: np.ndarray | None, ok: np.ndarray | None, shape: tuple[int, ...],
                     dtype: np.dtype | type = np.float64) -> np.ndarray:
    """``scores`` (zeros if None) in `dtype`, plus ``DISALLOWED`` where the bool mask ``ok`` is False."""
    out = np.zeros(shape, dtype=dtype) if scores is None else np.array(scores, dtype=dtype)
    if out.shape != shape:
        raise ValueError(f"expected shape {shape}, got {out.shape}")
    if ok is not None:
        out = out + np.where(np.asarray(ok, dtype=bool), 0, DISALLOWED).astype(dtype)
    return out


@dataclass(frozen=True)
class Packed:
    """Sentences given flat (their tokens in one array, sentence after sentence) laid out time-major for a
    recursion over positions: packed row ``offsets[t] + i`` is token t of the i-th longest sentence. Step t
    reads and writes the contiguous rows ``offsets[t]:offsets[t + 1]``, one per sentence still running, and
    no row is padding (PyTorch's PackedSequence)."""

    order: np.ndarray     # (B,) sentence ids, longest first
    lens: np.ndarray      # (B,) their lengths
    offsets: np.ndarray   # (T + 1,) first packed row of each step t
    index: np.ndarray     # (N,) flat row of each packed row: packed = flat[index]

    @property
    def steps(self) -> int:
        return len(self.offsets) - 1

    def step(self, t: int) -> slice:
        """The packed rows of step t."""
        return slice(int(self.offsets[t]), int(self.offsets[t + 1]))

    def rows(self, sentence: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Packed rows of token t of the given (flat-order) sentences."""
        rank = np.empty_like(self.order)
        rank[self.order] = np.arange(len(self.order))
        return self.offsets[t] + rank[sentence]

    def last_rows(self) -> np.ndarray:
        """Packed row of the last token of each sentence, in `order` (sentences with tokens only)."""
        has = self.lens > 0
        return self.offsets[self.lens[has] - 1] + np.flatnonzero(has)


def pack(lengths: np.ndarray) -> Packed:
    """The time-major `Packed` layout of sentences of `lengths` (B,), given flat."""
    lengths = np.asarray(lengths, dtype=np.int64)
    order = np.argsort(-lengths, kind="stable")
    lens = lengths[order]
    T = int(lens[0]) if len(lens) else 0
    running = len(lens) - np.cumsum(np.bincount(lens, minlength=T + 1))[:T]   # (T,) n_t = #{b: len_b > t}
    offsets = np.concatenate(([0], np.cumsum(running))).astype(np.int64)
    first = (np.cumsum(lengths) - lengths)[order]                  # flat row of each sentence's first token
    t = np.repeat(np.arange(T), running)
    return Packed(order, lens, offsets, first[np.arange(len(t)) - offsets[t]] + t)


def viterbi_batch(
    S: np.ndarray,
    lengths: np.ndarray,
    trans: np.ndarray | None = None,
    start: np.ndarray | None = None,
    end: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
    start_ok: np.ndarray | None = None,
    end_ok: np.ndarray | None = None,
    *,
    pad: int = 0,
) -> np.ndarray:
    """Best paths of a padded batch. S: (B, T, C), lengths: (B,) -> (B, T) int64, padding = ``pad``.
    Sentence b uses ``S[b, :lengths[b]]`` (`viterbi_flat` of the unpadded rows)."""
    S = np.asarray(S)
    B, T, C = S.shape
    lengths = np.asarray(lengths, dtype=np.int64)
    out = np.full((B, T), pad, dtype=np.int64)
    valid = lengths_to_mask(lengths, T)
    out[valid] = viterbi_flat(S[valid], lengths, trans, start, end, allowed, start_ok, end_ok)
    return out


def viterbi_flat(
    S: np.ndarray,
    lengths: np.ndarray,
    trans: np.ndarray | None = None,
    start: np.ndarray | None = None,
    end: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
    start_ok: np.ndarray | None = None,
    end_ok: np.ndarray | None = None,
) -> np.ndarray:
    """Best paths of sentences given flat. S: (N, C), the rows of all sentences one after the other; lengths:
    (B,) -> (N,) int64.

    Recursion: ``delta_1 = start + S_1``; ``delta_t[j] = max_i(delta_{t-1}[i] + trans[i, j]) + S_t[j]``,
    then ``y_T = argmax(delta_T + end)`` and back-pointers (`_viterbi_packed`).
    """
    S = np.asarray(S)
    lengths = np.asarray(lengths, dtype=np.int64)
    if len(S) == 0:
        return np.zeros(0, dtype=np.int64)
    if trans is None and start is None and end is None:
        greedy = S.argmax(axis=1)
        if allowed is None and start_ok is None and end_ok is None:
            return greedy                                          # no transition scores: Viterbi = argmax
        # Only hard constraints: every allowed path adds 0, so the per-token argmax path is the best path
        # whenever it breaks none of them; the recursion runs only for the sentences where it does.
        bad = _breaks_constraints(greedy, lengths, allowed, start_ok, end_ok)
        if bad.any():
            rows = np.repeat(bad, lengths)
            greedy[rows] = _viterbi_packed(S[rows], lengths[bad], trans, start, end, allowed, start_ok, end_ok)
        return greedy
    return _viterbi_packed(S, lengths, trans, start, end, allowed, start_ok, end_ok)


def _breaks_constraints(paths: np.ndarray, lengths: np.ndarray, allowed: np.ndarray | None,
                        start_ok: np.ndarray | None, end_ok: np.ndarray | None) -> np.ndarray:
    """(B,) True where a sentence's path (flat paths (N,)) uses a forbidden start, transition or end."""
    bad = np.zeros(len(lengths), dtype=bool)
    has = lengths > 0
    ends = np.cumsum(lengths)
    if start_ok is not None:
        bad[has] |= ~np.asarray(start_ok, dtype=bool)[paths[(ends - lengths)[has]]]
    if end_ok is not None:
        bad[has] |= ~np.asarray(end_ok, dtype=bool)[paths[ends[has] - 1]]
    if allowed is not None and len(paths) > 1:
        sentence = np.repeat(np.arange(len(lengths)), lengths)     # (N,) sentence of each token
        forbidden = ~np.asarray(allowed, dtype=bool)[paths[:-1], paths[1:]]     # (N-1,) step k -> k+1
        forbidden &= sentence[:-1] == sentence[1:]                 # no step across a sentence boundary
        bad |= np.bincount(sentence[:-1][forbidden], minlength=len(lengths)) > 0
    return bad


def _viterbi_packed(S: np.ndarray, lengths: np.ndarray, trans: np.ndarray | None, start: np.ndarray | None,
                    end: np.ndarray | None, allowed: np.ndarray | None, start_ok: np.ndarray | None,
                    end_ok: np.ndarray | None) -> np.ndarray:
    """The recursion of `viterbi_flat` over the `Packed` layout: step t touches only the n_t sentences still
    running, as contiguous rows, so no work is spent on padding however uneven the lengths.

    No back-pointer table: every delta_t is kept (N, C), and the way back recomputes the argmax for the one tag
    chosen at t, ``y_{t-1} = argmax_i(delta_{t-1}[i] + trans[i, y_t])`` (the same sums, the same first
    maximum), an (n, C) step instead of (n, C, C).
    """
    C = S.shape[1]
    dtype = np.result_type(S.dtype, np.float32)                    # float32 scores stay float32
    tr = with_constraints(trans, allowed, (C, C)).astype(dtype)
    st = with_constraints(start, start_ok, (C,)).astype(dtype)
    en = with_constraints(end, end_ok, (C,)).astype(dtype)
    packed = pack(lengths)
    if packed.steps == 0:
        return np.zeros(0, dtype=np.int64)
    S = S[packed.index].astype(dtype, copy=False)                  # (N, C) time-major
    delta = np.empty_like(S)                                       # delta_t of every sentence, packed
    delta[packed.step(0)] = st + S[packed.step(0)]
    for t in range(1, packed.steps):
        prev, rows = packed.step(t - 1), packed.step(t)
        _max_plus(delta[prev.start:prev.start + rows.stop - rows.start], tr, out=delta[rows])
        delta[rows] += S[rows]
    path = np.empty(len(S), dtype=np.int64)
    last = packed.last_rows()
    path[last] = (delta[last] + en).argmax(axis=1)
    for t in range(packed.steps - 1, 0, -1):                       # back from each sentence's last tag
        rows, prev = packed.step(t), packed.step(t - 1)
        before = slice(prev.start, prev.start + rows.stop - rows.start)
        path[before] = (delta[before] + tr[:, path[rows]].T).argmax(axis=1)
    out = np.empty_like(path)
    out[packed.index] = path
    return out


def _max_plus(delta: np.ndarray, trans: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out[:, j] = max_i(delta[:, i] + trans[i, j])`` for delta (n, C), one (n, C) maximum per i (no (n, C, C)
    temporary, whose reduction over its middle axis is several times slower)."""
    np.add(delta[:, :1], trans[0], out=out)
    term = np.empty_like(out)
    for i in range(1, trans.shape[0]):
        np.add(delta[:, i:i + 1], trans[i], out=term)
        np.maximum(out, term, out=out)
    return out


def viterbi(S: np.ndarray, *args: np.ndarray | None, **kwargs: np.ndarray | None) -> np.ndarray:
    """Best path of one sentence under the module's path score. S: (T, C) -> (T,) int64; the other arguments
    are those of `viterbi_batch` (trans, start, end, allowed, start_ok, end_ok), positional or by keyword."""
    S = np.asarray(S)
    return viterbi_batch(S[None], np.array([S.shape[0]]), *args, **kwargs)[0]
