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

DISALLOWED = -1e9


def argmax_decode(S: np.ndarray) -> np.ndarray:
    """Greedy decoding: ``y_t = argmax_c S[t, c]``. S: (T, C) -> (T,) int64."""
    return np.asarray(S).argmax(axis=-1).astype(np.int64)


def lengths_to_mask(lengths: np.ndarray, T: int) -> np.ndarray:
    """Left-aligned padding mask: ``mask[b, t] = t < lengths[b]``. lengths: (B,) -> (B, T) bool."""
    return np.arange(T)[None, :] < np.asarray(lengths)[:, None]


def _penalised(scores: np.ndarray | None, ok: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    """``scores`` (zeros if None) in float64, plus ``DISALLOWED`` where ``ok`` is False."""
    out = np.zeros(shape) if scores is None else np.array(scores, dtype=np.float64)
    if out.shape != shape:
        raise ValueError(f"expected shape {shape}, got {out.shape}")
    if ok is not None:
        out = out + np.where(np.asarray(ok, dtype=bool), 0.0, DISALLOWED)
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
    """The recursion of `viterbi_batch` over a padded batch (B, T, C), B and T >= 1."""
    B, T, C = S.shape
    tr = _penalised(trans, allowed, (C, C))
    st = _penalised(start, start_ok, (C,))
    en = _penalised(end, end_ok, (C,))
    delta = st + S[:, 0]  # (B, C) float64
    backptr = np.empty((B, T, C), dtype=np.int64)
    identity = np.arange(C)
    for t in range(1, T):
        cand = delta[:, :, None] + tr  # (B, C_prev, C_next)
        best = cand.argmax(axis=1)  # (B, C)
        new = cand.max(axis=1) + S[:, t]
        keep = valid[:, t, None]
        delta = np.where(keep, new, delta)
        backptr[:, t] = np.where(keep, best, identity)
    return _backtrack(backptr, (delta + en).argmax(axis=1), valid, out)


def _backtrack(backptr: np.ndarray, last: np.ndarray, valid: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Follow back-pointers (B, T, C) from the final tags (B,); padding back-pointers are identity."""
    B, T, _ = backptr.shape
    rows = np.arange(B)
    path = np.empty((B, T), dtype=np.int64)
    path[:, T - 1] = last
    for t in range(T - 1, 0, -1):
        path[:, t - 1] = backptr[rows, t, path[:, t]]
    return np.where(valid, path, out)


def viterbi(
    S: np.ndarray,
    trans: np.ndarray | None = None,
    start: np.ndarray | None = None,
    end: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
    start_ok: np.ndarray | None = None,
    end_ok: np.ndarray | None = None,
) -> np.ndarray:
    """Best path of one sentence under the module's path score. S: (T, C) -> (T,) int64."""
    S = np.asarray(S)
    return viterbi_batch(S[None], np.array([S.shape[0]]), trans, start, end, allowed, start_ok, end_ok)[0]
