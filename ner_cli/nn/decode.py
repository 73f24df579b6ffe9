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

    Recursion: ``delta_1 = start + S_1``; ``delta_t[j] = max_i(delta_{t-1}[i] + trans[i, j]) + S_t[j]``,
    then ``y_T = argmax(delta_T + end)`` and back-pointers. Sentence b uses ``S[b, :lengths[b]]``.
    """
    S = np.asarray(S)
    B, T, C = S.shape
    lengths = np.asarray(lengths, dtype=np.int64)
    out = np.full((B, T), pad, dtype=np.int64)
    if B == 0 or T == 0:
        return out
    valid = lengths_to_mask(lengths, T)
    if trans is None and start is None and end is None:
        greedy = S.argmax(axis=2)
        if allowed is None and start_ok is None and end_ok is None:
            return np.where(valid, greedy, out)  # no transition scores: Viterbi = argmax
        # Only hard constraints: every allowed path adds 0, so the per-token argmax path is the best path
        # whenever it breaks none of them; the recursion runs only for the sentences where it does.
        out = np.where(valid, greedy, out)
        bad = np.flatnonzero(_breaks_constraints(greedy, lengths, valid, allowed, start_ok, end_ok))
        if len(bad):
            T_bad = int(lengths[bad].max())
            out[bad, :T_bad] = _viterbi_full(S[bad, :T_bad], lengths[bad], valid[bad, :T_bad], trans, start, end,
                                             allowed, start_ok, end_ok, out[bad, :T_bad].copy())
        return out
    return _viterbi_full(S, lengths, valid, trans, start, end, allowed, start_ok, end_ok, out)


def _breaks_constraints(paths: np.ndarray, lengths: np.ndarray, valid: np.ndarray, allowed: np.ndarray | None,
                        start_ok: np.ndarray | None, end_ok: np.ndarray | None) -> np.ndarray:
    """(B,) True where a padded batch of paths (B, T) uses a forbidden start, transition or end."""
    B, T = paths.shape
    bad = np.zeros(B, dtype=bool)
    has = lengths > 0
    if start_ok is not None:
        bad |= has & ~np.asarray(start_ok, dtype=bool)[paths[:, 0]]
    if end_ok is not None:
        last = paths[np.arange(B), np.maximum(lengths - 1, 0)]
        bad |= has & ~np.asarray(end_ok, dtype=bool)[last]
    if allowed is not None and T > 1:
        forbidden = ~np.asarray(allowed, dtype=bool)[paths[:, :-1], paths[:, 1:]] & valid[:, 1:]
        bad |= forbidden.any(axis=1)
    return bad


def _viterbi_full(S: np.ndarray, lengths: np.ndarray, valid: np.ndarray, trans: np.ndarray | None,
                  start: np.ndarray | None, end: np.ndarray | None, allowed: np.ndarray | None,
                  start_ok: np.ndarray | None, end_ok: np.ndarray | None, out: np.ndarray) -> np.ndarray:
    """The recursion of `viterbi_batch` over a padded batch (B, T, C), B and T >= 1.

    Sentences are visited longest first, so step t touches only the n_t sentences still running: no work
    is spent on padding, however uneven the lengths.
    """
    B, T, C = S.shape
    dtype = np.result_type(S.dtype, np.float32)                    # float32 scores stay float32
    tr = with_constraints(trans, allowed, (C, C)).astype(dtype)
    st = with_constraints(start, start_ok, (C,)).astype(dtype)
    en = with_constraints(end, end_ok, (C,)).astype(dtype)
    order = np.argsort(-lengths, kind="stable")
    lens = lengths[order]
    S = S[order].astype(dtype, copy=False)                         # (B, T, C), longest sentence first
    running = (lens[None, :] > np.arange(T)[:, None]).sum(axis=1)  # running[t] = #{b: lens[b] > t}
    delta = st + S[:, 0]                                            # (B, C)
    backptr = np.zeros((B, T, C), dtype=np.int16 if C < 2**15 else np.int64)
    for t in range(1, T):
        n = running[t]
        if n == 0:
            break
        cand = delta[:n, :, None] + tr                              # (n, C_prev, C_next)
        backptr[:n, t] = cand.argmax(axis=1)
        delta[:n] = cand.max(axis=1) + S[:n, t]
    last = (delta + en).argmax(axis=1)
    path = np.zeros((B, T), dtype=np.int64)
    has = lens > 0
    path[np.flatnonzero(has), lens[has] - 1] = last[has]
    for t in range(T - 1, 0, -1):                                  # follow back-pointers, longest first
        n = running[t]
        if n:
            path[:n, t - 1] = backptr[np.arange(n), t, path[:n, t]]
    result = np.empty_like(path)
    result[order] = path
    return np.where(valid, result, out)


def viterbi(S: np.ndarray, *args: np.ndarray | None, **kwargs: np.ndarray | None) -> np.ndarray:
    """Best path of one sentence under the module's path score. S: (T, C) -> (T,) int64; the other arguments
    are those of `viterbi_batch` (trans, start, end, allowed, start_ok, end_ok), positional or by keyword."""
    S = np.asarray(S)
    return viterbi_batch(S[None], np.array([S.shape[0]]), *args, **kwargs)[0]
