"""Sentence-level log-likelihood (Collobert et al. 2011, sec. 3.3.2): a linear-chain CRF on window scores.

Shapes: B sentences padded to length T, C tags. ``S`` (B, T, C) are the network's per-token
(emission) scores; ``A`` (C, C) transition scores (``A[i, j]`` = tag j following tag i);
``A_start`` (C,), ``A_end`` (C,). ``mask`` (B, T) bool is left-aligned (``mask[b, t] = t < len_b``).

Path score:  s(y) = A_start[y_1] + sum_t S[t, y_t] + sum_{t>1} A[y_{t-1}, y_t] + A_end[y_L]
Loss:        sum_b [ logZ_b - s_b(gold_b) ],  logZ = logsumexp over all C^L paths (forward recursion)
Gradients:   dS = p(y_t = j) - 1[gold_t = j];  dA = sum_t p(y_{t-1} = i, y_t = j) - gold counts
             (node / pairwise marginals from forward-backward); padding positions get zero gradient.

Tag-scheme constraints: optional bool masks ``allowed`` (C, C), ``start_ok`` (C,), ``end_ok`` (C,).
A forbidden transition is treated as -inf by adding ``decode.DISALLOWED`` (-1e9, the decoders' penalty) to its
score, so its probability is exp(-1e9) = 0 while every quantity and gradient stays finite (float32 too).
A gold path that breaks a constraint therefore costs ~1e9 per violation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .decode import lengths_to_mask, with_constraints


@dataclass
class CrfCache:
    """What ``crf_backward`` needs: effective (penalised) parameters, inputs and forward/backward tables."""

    S: np.ndarray  # (B, T, C) emission scores
    tags: np.ndarray  # (B, T) gold tags, padding set to 0
    mask: np.ndarray  # (B, T) bool
    lengths: np.ndarray  # (B,)
    trans: np.ndarray  # (C, C) A plus constraint penalties
    start: np.ndarray  # (C,)
    end: np.ndarray  # (C,)
    alpha: np.ndarray  # (B, T, C) log forward scores, each row rescaled to peak at 0
    beta: np.ndarray  # (B, T, C) log backward scores, each row rescaled to peak at 0
    log_z: np.ndarray  # (B,) float64 log partition (0 for empty sentences)
    param_dtype: np.dtype  # dtype of A, for the returned dA


def _lse(x: np.ndarray, axis: int) -> np.ndarray:
    """Stable ``log(sum(exp(x), axis))`` (inputs are finite)."""
    m = x.max(axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.exp(x - m).sum(axis=axis))


def _lengths(mask: np.ndarray) -> np.ndarray:
    """Lengths (B,) of a left-aligned mask (B, T); raises ValueError if the mask has holes."""
    lengths = mask.sum(axis=1)
    if not np.array_equal(mask, lengths_to_mask(lengths, mask.shape[1])):
        raise ValueError("mask must be left-aligned: True for t < length, False after")
    return lengths


def _exp_trans(trans: np.ndarray) -> tuple[np.ndarray, float]:
    """exp(A - max A) and max A: lse over transitions becomes a (B, C) @ (C, C) matrix product."""
    top = float(trans.max()) if trans.size else 0.0
    return np.exp(trans - top), top


def _log_matmul(v: np.ndarray, exp_trans: np.ndarray, top: float) -> np.ndarray:
    """``lse_i(v[:, i] + A[i, j])`` for all j, as ``m + log(exp(v - m) @ exp(A))`` with m = max_i v.

    A product that underflows to 0 (only reachable through disallowed transitions) is floored at the
    dtype's smallest normal number instead of giving log(0) = -inf.
    """
    m = v.max(axis=1, keepdims=True)
    prod = np.exp(v - m) @ exp_trans
    return m + top + np.log(np.maximum(prod, np.finfo(v.dtype).tiny))


def _normalised(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x - max(x)`` over the last axis, and ``max(x)`` (B,): a row of log scores rescaled to peak at 0."""
    c = x.max(axis=-1)
    return x - c[..., None], c


def log_forward(S: np.ndarray, mask: np.ndarray, trans: np.ndarray, start: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Scaled forward recursion: (alpha_hat (B, T, C), log_scale (B,) float64).

    ``alpha_1 = start + S_1``, ``alpha_t[j] = lse_i(alpha_{t-1}[i] + A[i, j]) + S_t[j]``. Each row is stored
    rescaled, ``alpha_hat_t = alpha_t - c_t`` with ``c_t = max(alpha_t)`` taken from the rescaled previous row,
    and the c_t are summed in float64: the stored numbers stay near 0 whatever the length, so float32 keeps
    its precision on a 100,000-token sentence (raw alpha grows to ~1e6 there, where a float32 step is 0.1).
    ``log alpha_t = alpha_hat_t + log_scale_t``. Past a sentence's end alpha_hat is carried forward, so
    ``alpha_hat[:, T-1]`` is its last valid row and ``log_scale`` its total.
    """
    B, T, C = S.shape
    alpha = np.empty_like(S)
    scale = np.zeros(B, dtype=np.float64)
    if T == 0:
        return alpha, scale
    exp_trans, top = _exp_trans(trans)
    alpha[:, 0], c = _normalised(start + S[:, 0])
    scale += c
    for t in range(1, T):
        new, c = _normalised(_log_matmul(alpha[:, t - 1], exp_trans, top) + S[:, t])
        alpha[:, t] = np.where(mask[:, t, None], new, alpha[:, t - 1])
        scale += np.where(mask[:, t], c, 0)
    return alpha, scale


def log_backward(S: np.ndarray, mask: np.ndarray, trans: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Scaled backward recursion, beta_hat (B, T, C): ``beta_L = end``,
    ``beta_t[i] = lse_j(A[i, j] + S_{t+1}[j] + beta_{t+1}[j])``, each row rescaled to peak at 0 (as alpha_hat).

    The scales are not needed: marginals are normalised per position, where they cancel.
    """
    B, T, C = S.shape
    beta = np.empty_like(S)
    if T == 0:
        return beta
    exp_trans_t, top = _exp_trans(trans.T)
    end_hat = _normalised(end)[0]
    beta[:, T - 1] = end_hat
    for t in range(T - 2, -1, -1):
        new = _normalised(_log_matmul(S[:, t + 1] + beta[:, t + 1], exp_trans_t, top))[0]
        beta[:, t] = np.where(mask[:, t + 1, None], new, end_hat)
    return beta


def gold_score(
    S: np.ndarray, tags: np.ndarray, mask: np.ndarray, trans: np.ndarray, start: np.ndarray, end: np.ndarray
) -> np.ndarray:
    """s(gold) (B,): emissions + transitions + start + end along the gold path (tags padded with 0)."""
    B, T, _ = S.shape
    if T == 0:
        return np.zeros(B, dtype=S.dtype)
    lengths = mask.sum(axis=1)
    nonempty = lengths > 0
    emit = (np.take_along_axis(S, tags[:, :, None], axis=2)[:, :, 0] * mask).sum(axis=1)
    tran = (trans[tags[:, :-1], tags[:, 1:]] * mask[:, 1:]).sum(axis=1)
    last = tags[np.arange(B), np.maximum(lengths - 1, 0)]
    return emit + tran + (start[tags[:, 0]] + end[last]) * nonempty


def crf_nll(
    S: np.ndarray,
    tags: np.ndarray,
    mask: np.ndarray,
    A: np.ndarray,
    A_start: np.ndarray,
    A_end: np.ndarray,
    *,
    allowed: np.ndarray | None = None,
    start_ok: np.ndarray | None = None,
    end_ok: np.ndarray | None = None,
) -> tuple[float, CrfCache]:
    """Negative sentence-level log-likelihood, a SUM (not a mean) over sentences: sum_b logZ_b - s_b(gold).

    S: (B, T, C) float32/float64 (all computation in S's dtype); tags: (B, T) int (padding ignored);
    mask: (B, T) bool, left-aligned; A: (C, C); A_start, A_end: (C,). Empty sentences contribute 0.
    Optional constraints ``allowed`` (C, C), ``start_ok`` / ``end_ok`` (C,) add -1e4 where False.
    """
    S = np.asarray(S)
    dtype = S.dtype
    mask = np.asarray(mask, dtype=bool)
    lengths = _lengths(mask)
    tags = np.where(mask, np.asarray(tags), 0).astype(np.int64)
    C = S.shape[-1]
    trans = with_constraints(A, allowed, (C, C), dtype)
    start = with_constraints(A_start, start_ok, (C,), dtype)
    end = with_constraints(A_end, end_ok, (C,), dtype)
    alpha, scale = log_forward(S, mask, trans, start)
    beta = log_backward(S, mask, trans, end)
    log_z = np.zeros(S.shape[0], dtype=np.float64)
    if S.shape[1] > 0:
        log_z = np.where(lengths > 0, scale + _lse(alpha[:, -1] + end, axis=1), 0)
    loss = float((log_z - gold_score(S, tags, mask, trans, start, end).astype(np.float64)).sum())
    cache = CrfCache(S, tags, mask, lengths, trans, start, end, alpha, beta, log_z, np.asarray(A).dtype)
    return loss, cache


def _softmax_last(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """exp(x) normalised to sum 1 over `axes` (max subtracted first)."""
    e = np.exp(x - x.max(axis=axes, keepdims=True))
    return e / e.sum(axis=axes, keepdims=True)


def crf_marginals(cache: CrfCache) -> tuple[np.ndarray, np.ndarray]:
    """Node marginals (B, T, C) and pairwise ones summed over b, t (C, C), from the rescaled tables.

    ``p(y_t = j) = alpha_t[j] beta_t[j] / Z`` and ``sum_j alpha_t[j] beta_t[j] = Z`` at every t, so the node
    marginals are a softmax over j of ``alpha_hat_t + beta_hat_t``: each position normalised on its own, the
    scales cancel, and no large logZ is subtracted (exact in any length). Pairwise likewise:
    ``p(y_{t-1}=i, y_t=j)`` is a softmax over (i, j) of ``alpha_hat_{t-1}[i] + A[i, j] + S_t[j] + beta_hat_t[j]``.
    Both are zero at padding positions.
    """
    c = cache
    node = _softmax_last(c.alpha + c.beta, (2,)) * c.mask[:, :, None]
    if c.S.shape[1] < 2:
        return node, np.zeros_like(c.trans)
    right = (c.S + c.beta)[:, 1:, None, :]  # (B, T-1, 1, C)
    pair = _softmax_last(c.alpha[:, :-1, :, None] + c.trans + right, (2, 3)) * c.mask[:, 1:, None, None]
    return node, pair.sum(axis=(0, 1))


def _counts(index: np.ndarray, size: int, dtype: np.dtype) -> np.ndarray:
    """Histogram of the integer array `index` over ``range(size)``."""
    return np.bincount(index.ravel(), minlength=size).astype(dtype)


def crf_backward(cache: CrfCache) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of ``crf_nll``: dS (B, T, C), dA (C, C), dA_start (C,), dA_end (C,).

    dS = node marginals - one-hot(gold); dA = pairwise marginals - gold transition counts;
    dA_start / dA_end = first / last node marginals - one-hot(first / last gold tag).
    """
    c = cache
    B, T, C = c.S.shape
    node, pair = crf_marginals(c)
    onehot = (c.tags[:, :, None] == np.arange(C)) & c.mask[:, :, None]
    dS = node - onehot
    if T == 0:
        zero = np.zeros(C, dtype=c.param_dtype)
        return dS, np.zeros((C, C), dtype=c.param_dtype), zero, zero.copy()
    pairs = (c.tags[:, :-1] * C + c.tags[:, 1:])[c.mask[:, 1:]]
    dA = pair - _counts(pairs, C * C, c.S.dtype).reshape(C, C)
    nonempty = c.lengths > 0
    last = np.maximum(c.lengths - 1, 0)
    rows = np.arange(B)
    dA_start = node[:, 0].sum(axis=0) - _counts(c.tags[nonempty, 0], C, c.S.dtype)
    dA_end = node[rows, last].sum(axis=0) - _counts(c.tags[rows, last][nonempty], C, c.S.dtype)
    pd = c.param_dtype
    return dS, dA.astype(pd), dA_start.astype(pd), dA_end.astype(pd)
