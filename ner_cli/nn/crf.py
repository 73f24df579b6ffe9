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

import functools
from dataclasses import dataclass

import numpy as np

from .decode import Packed, lengths_to_mask, pack, with_constraints


@dataclass
class CrfCache:
    """What ``crf_backward`` needs: effective (penalised) parameters, inputs and forward/backward tables.

    The tables are either in log space (``alpha``, ``beta``) or scaled (``a``, ``b``: each row rescaled to
    sum to 1, so ``alpha_t = log a_t + const_t``; with ``P = exp(S - max_j S)`` and ``Et = exp(A - max A)``).
    """

    S: np.ndarray  # (B, T, C) emission scores
    tags: np.ndarray  # (B, T) gold tags, padding set to 0
    mask: np.ndarray  # (B, T) bool
    lengths: np.ndarray  # (B,)
    trans: np.ndarray  # (C, C) A plus constraint penalties
    start: np.ndarray  # (C,)
    end: np.ndarray  # (C,)
    alpha: np.ndarray | None  # (B, T, C) log forward scores, each row rescaled to peak at 0 (log-space path)
    beta: np.ndarray | None  # (B, T, C) log backward scores, each row rescaled to peak at 0 (log-space path)
    log_z: np.ndarray  # (B,) float64 log partition (0 for empty sentences)
    param_dtype: np.dtype  # dtype of A, for the returned dA
    scaled: tuple[np.ndarray, ...] | None = None  # (a, b, P, Et) of the scaled path


def constrained(A: np.ndarray | None, A_start: np.ndarray | None, A_end: np.ndarray | None,
                allowed: np.ndarray | None, start_ok: np.ndarray | None, end_ok: np.ndarray | None, C: int,
                dtype: np.dtype | type) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(trans, start, end) in `dtype`: the transition scores (zeros where None) plus ``decode.DISALLOWED`` where
    a constraint mask says False."""
    return (with_constraints(A, allowed, (C, C), dtype), with_constraints(A_start, start_ok, (C,), dtype),
            with_constraints(A_end, end_ok, (C,), dtype))


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
    """Scaled forward recursion: (alpha_hat (B, T, C), log_scale (B, T) float64).

    ``alpha_1 = start + S_1``, ``alpha_t[j] = lse_i(alpha_{t-1}[i] + A[i, j]) + S_t[j]``. Each row is stored
    rescaled, ``alpha_hat_t = alpha_t - c_t`` with ``c_t = max(alpha_t)`` taken from the rescaled previous row,
    and the c_t are summed in float64: the stored numbers stay near 0 whatever the length, so float32 keeps
    its precision on a 100,000-token sentence (raw alpha grows to ~1e6 there, where a float32 step is 0.1).
    ``log alpha_t = alpha_hat_t + log_scale_t``. Past a sentence's end alpha_hat and log_scale are carried
    forward, so ``alpha_hat[:, T-1]`` is its last valid row and ``log_scale[:, T-1]`` its total.
    """
    B, T, C = S.shape
    alpha = np.empty_like(S)
    scale = np.zeros((B, T), dtype=np.float64)
    if T == 0:
        return alpha, scale
    exp_trans, top = _exp_trans(trans)
    alpha[:, 0], scale[:, 0] = _normalised(start + S[:, 0])
    for t in range(1, T):
        new, c = _normalised(_log_matmul(alpha[:, t - 1], exp_trans, top) + S[:, t])
        alpha[:, t] = np.where(mask[:, t, None], new, alpha[:, t - 1])
        scale[:, t] = scale[:, t - 1] + np.where(mask[:, t], c, 0)
    return alpha, scale


def log_backward(S: np.ndarray, mask: np.ndarray, trans: np.ndarray, end: np.ndarray, *, with_scale: bool = False
                 ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Scaled backward recursion, beta_hat (B, T, C): ``beta_L = end``,
    ``beta_t[i] = lse_j(A[i, j] + S_{t+1}[j] + beta_{t+1}[j])``, each row rescaled to peak at 0 (as alpha_hat).

    Marginals need no scales (normalised per position, they cancel); with `with_scale` also log_scale (B, T)
    float64, ``log beta_t = beta_hat_t + log_scale_t`` (span marginals need the true values).
    """
    B, T, C = S.shape
    beta = np.empty_like(S)
    scale = np.zeros((B, T), dtype=np.float64)
    if T == 0:
        return (beta, scale) if with_scale else beta
    exp_trans_t, top = _exp_trans(trans.T)
    end_hat, end_top = _normalised(end)
    beta[:, T - 1] = end_hat
    scale[:, T - 1] = end_top
    for t in range(T - 2, -1, -1):
        new, c = _normalised(_log_matmul(S[:, t + 1] + beta[:, t + 1], exp_trans_t, top))
        beta[:, t] = np.where(mask[:, t + 1, None], new, end_hat)
        scale[:, t] = np.where(mask[:, t + 1], scale[:, t + 1] + c, end_top)
    return (beta, scale) if with_scale else beta


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
    Optional constraints ``allowed`` (C, C), ``start_ok`` / ``end_ok`` (C,) add decode.DISALLOWED where False.
    """
    S = np.asarray(S)
    dtype = S.dtype
    mask = np.asarray(mask, dtype=bool)
    lengths = _lengths(mask)
    tags = np.where(mask, np.asarray(tags), 0).astype(np.int64)
    C = S.shape[-1]
    trans, start, end = constrained(A, A_start, A_end, allowed, start_ok, end_ok, C, dtype)
    scaled = _scaled_tables(S, mask, lengths, trans, start, end)
    if scaled is not None:
        log_z, tables = scaled
        alpha = beta = None
    else:                                        # a normaliser underflowed (only via disallowed transitions)
        alpha, scale = log_forward(S, mask, trans, start)             # rows rescaled: stable at any length
        beta = log_backward(S, mask, trans, end)
        log_z = np.zeros(S.shape[0], dtype=np.float64)
        if S.shape[1] > 0:
            log_z = np.where(lengths > 0, scale[:, -1] + _lse(alpha[:, -1] + end, axis=1), 0)
        tables = None
    loss = float((log_z - gold_score(S, tags, mask, trans, start, end).astype(np.float64)).sum())
    cache = CrfCache(S, tags, mask, lengths, trans, start, end, alpha, beta, log_z, np.asarray(A).dtype, tables)
    return loss, cache


def _scaled_tables(S: np.ndarray, mask: np.ndarray, lengths: np.ndarray, trans: np.ndarray, start: np.ndarray,
                   end: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, ...]] | None:
    """Forward-backward in probability space with per-step rescaling (Rabiner's scaling): log Z and (a, b, P, Et).

    a_1 ∝ exp(start) ∘ P_1,  a_t ∝ (a_{t-1} @ Et) ∘ P_t,  each row scaled to sum 1 by c_t, so
    log Z = Σ_t log c_t + (the maxima taken out of S and A) + log Σ_j a_L[j] exp(end[j]).
    b_t ∝ (P_{t+1} ∘ b_{t+1}) @ Etᵀ from b_L ∝ exp(end). Returns None if a normaliser underflows (then use log
    space, whose rows are rescaled too, so both paths hold at any length). log Z is float64.

    Both recursions run in one loop, side by side in a (2, B, C) array per step: the forward one at position r,
    the backward one at position len - 1 - r of each sentence (so it starts at r = 0 for every sentence). A step
    is one stacked product with [Et; Etᵀ], a product with P, a sum and a division for both: half the numpy calls
    of two loops. Rows past a sentence's end hold values that nothing reads.
    """
    B, T, C = S.shape
    if T == 0 or B == 0:
        return None
    dtype = S.dtype
    m_S = S.max(axis=2)                                            # (B, T)
    P = np.exp(S - m_S[:, :, None])                                # (B, T, C), max 1 per row
    top = float(trans.max())
    Et = np.exp(trans - top)                                       # (C, C)
    s_top, e_top = float(start.max()), float(end.max())
    exp_end = np.exp(end - e_top)
    rows = np.arange(B)[:, None]
    from_end = np.maximum(lengths[:, None] - 1 - np.arange(T), 0)  # (B, T): position len - 1 - r (0 past the start)
    after = np.ones((T, 2, B, C), dtype=dtype)                     # step r multiplies the product by [P_r; 1] ...
    after[:, 0] = P.transpose(1, 0, 2)
    before = np.ones((T, 2, B, C), dtype=dtype)                    # ... and the next product's input by [1; P]
    before[:, 1] = P[rows, from_end].transpose(1, 0, 2)
    tables = np.empty((T, 2, B, C), dtype=dtype)                   # [a_r; b_{len-1-r}], rows summing to 1
    inputs = np.empty((T, 2, B, C), dtype=dtype)                   # [a_r; P ∘ b]: the next step's product input
    scales = np.ones((T, 2, B), dtype=dtype)                       # [c_r; the backward row's normaliser]
    first = np.exp(start - s_top) * P[:, 0]
    scales[0, 0] = first.sum(axis=1)
    tables[0, 0] = first / scales[0, 0, :, None]
    tables[0, 1] = exp_end / exp_end.sum()                         # b at each sentence's last position
    np.multiply(tables[0], before[0], out=inputs[0])
    Ets = np.stack([Et, Et.T])                                     # (2, C, C)
    # Steps where only the longest sentence has a backward row left: the two-loop version multiplied a one-row
    # matrix by a transposed one there, which numpy does with gemv, rounding differently from gemm. That row gets
    # the one-row product itself, so that for the default model (9 tags, float32) the tables are bit for bit the
    # two loops' (a test checks) and training keeps its trajectory. With other shapes or float64, BLAS rounds some
    # products differently by their row count or order: results can differ in the last bit.
    longest = int(np.argmax(lengths))
    solo = int(lengths[longest]) - (int(np.partition(lengths, -2)[-2]) if B > 1 else 0)
    Et_T = Et.T
    with np.errstate(divide="ignore", invalid="ignore"):           # c = 0 is caught just below
        for r in range(1, T):
            new = np.matmul(inputs[r - 1], Ets, out=tables[r])     # [a_{r-1} @ Et; (P ∘ b) @ Etᵀ]
            if r <= solo:
                new[1, longest:longest + 1] = inputs[r - 1, 1, longest:longest + 1] @ Et_T
            new *= after[r]                                        # a_r ∝ (a_{r-1} @ Et) ∘ P_r
            c = np.add.reduce(new, axis=2, out=scales[r])
            new /= c[:, :, None]                                   # [a_r; b_{len-1-r}] each sum to 1
            np.multiply(new, before[r], out=inputs[r])             # [a_r; P_{len-1-r} ∘ b_{len-1-r}]
    valid = np.arange(T)[None, :] < lengths[:, None]               # (B, T)
    c = np.where(valid, scales[:, 0].T, 1)                         # (B, T) c[b, t]: 1 past the end
    if not (c > 0).all() or not (np.where(valid, scales[:, 1].T, 1) > 0).all():   # forward or backward underflow
        return None
    has = lengths > 0
    a = tables[:, 0].transpose(1, 0, 2)                            # (B, T, C)
    b = tables[:, 1].transpose(1, 0, 2)[rows, from_end]            # (B, T, C) back in reading order
    last = np.ones(B, dtype=dtype)
    last[has] = a[np.flatnonzero(has), lengths[has] - 1] @ exp_end  # Σ_j a_L[j] exp(end[j] - max end)
    if not (last > 0).all():
        return None
    f8 = np.float64                                                # log Z summed in float64 at any length
    log_z = np.where(has, np.log(c).sum(axis=1, dtype=f8) + (m_S * valid).sum(axis=1, dtype=f8)
                     + top * np.maximum(lengths - 1, 0) + s_top + np.log(last).astype(f8) + e_top, 0)
    return log_z, (a, b, P, Et)


def _softmax_last(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """exp(x) normalised to sum 1 over `axes` (max subtracted first)."""
    e = np.exp(x - x.max(axis=axes, keepdims=True))
    return e / e.sum(axis=axes, keepdims=True)


def crf_marginals(cache: CrfCache) -> tuple[np.ndarray, np.ndarray]:
    """Node marginals (B, T, C) and pairwise ones summed over b, t (C, C): from the scaled tables
    (`_scaled_marginals`), else from the rescaled log-space ones.

    ``p(y_t = j) = alpha_t[j] beta_t[j] / Z`` and ``sum_j alpha_t[j] beta_t[j] = Z`` at every t, so the node
    marginals are a softmax over j of ``alpha_hat_t + beta_hat_t``: each position normalised on its own, the
    scales cancel, and no large logZ is subtracted (exact in any length). Pairwise likewise:
    ``p(y_{t-1}=i, y_t=j)`` is a softmax over (i, j) of ``alpha_hat_{t-1}[i] + A[i, j] + S_t[j] + beta_hat_t[j]``.
    Both are zero at padding positions.
    """
    c = cache
    if c.scaled is not None:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            node, pair = _scaled_marginals(c)
        if np.isfinite(node).all() and np.isfinite(pair).all():
            return node, pair
        # a per-position normaliser underflowed (scores hundreds apart): the log-space tables instead
        c.alpha, c.beta = log_forward(c.S, c.mask, c.trans, c.start)[0], log_backward(c.S, c.mask, c.trans, c.end)
    node = _softmax_last(c.alpha + c.beta, (2,)) * c.mask[:, :, None]
    if c.S.shape[1] < 2:
        return node, np.zeros_like(c.trans)
    right = (c.S + c.beta)[:, 1:, None, :]  # (B, T-1, 1, C)
    pair = _softmax_last(c.alpha[:, :-1, :, None] + c.trans + right, (2, 3)) * c.mask[:, 1:, None, None]
    return node, pair.sum(axis=(0, 1))


def _scaled_marginals(c: CrfCache) -> tuple[np.ndarray, np.ndarray]:
    """`crf_marginals` from the scaled tables: p(y_t) ∝ a_t ∘ b_t, and the pairwise sum as one product.

    p(y_{t-1}=i, y_t=j) ∝ a_{t-1}[i] Et[i, j] P_t[j] b_t[j], normalised per (b, t); summed over b and t this is
    Et ∘ (a_prevᵀ @ (P b / n)) over the valid (b, t) rows: a (C, K) @ (K, C) product, no (B, T, C, C) tensor.
    """
    a, b, P, Et = c.scaled
    ab = a * b
    node = np.divide(ab, ab.sum(axis=2, keepdims=True), out=np.zeros_like(ab), where=c.mask[:, :, None])
    if c.S.shape[1] < 2:
        return node, np.zeros_like(c.trans)
    valid = c.mask[:, 1:]                                          # (B, T-1): transition t-1 -> t exists
    prev = a[:, :-1][valid]                                        # (K, C)
    right = (P[:, 1:] * b[:, 1:])[valid]                           # (K, C)
    n = ((prev @ Et) * right).sum(axis=1, keepdims=True)           # (K, 1) normaliser of each pairwise table
    return node, Et * (prev.T @ (right / n))


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


def span_marginals(
    S: np.ndarray,
    lengths: np.ndarray,
    spans: np.ndarray,
    A: np.ndarray | None = None,
    A_start: np.ndarray | None = None,
    A_end: np.ndarray | None = None,
    *,
    allowed: np.ndarray | None = None,
    start_ok: np.ndarray | None = None,
    end_ok: np.ndarray | None = None,
    scaled: bool = True,
) -> np.ndarray:
    """p(span) for each span: the probability that the path has exactly the span's tags, by forward-backward.

    S: (B, T, C) padded scores; lengths: (B,); spans: (n, 7) int rows ``(b, s, e, first, mid, last, stop)``:
    sentence b, tokens [s, e), tag `first` at s, `mid` at s+1..e-2, `last` at e-1 (first == last when
    e - s == 1) and, when ``stop >= 0``, any tag but `stop` at e (or the sentence ends at e). For an IOB2
    span of type X: (B-X, I-X, I-X, I-X) — B-X at s, I-X through e-1, not I-X at e. For IOBES: (B-X, I-X,
    E-X, -1), or (S-X, S-X, S-X, -1) for one token.

        log p = alpha_s[first] - S_s[first]                 every path prefix, ending in `first` at s
              + S_s[first] + Σ_{s<t<e} (A[y_{t-1}, y_t] + S_t[y_t])          the span's own tags
              + lse_{j != stop}(A[last, j] + S_e[j] + beta_e[j])    every suffix after it (A_end[last] at the end)
              - logZ

    Without A / A_start / A_end (None) the tokens are independent and, with S = log-softmax, p is the product
    of per-token probabilities. The constraint masks add ``decode.DISALLOWED`` like `crf_nll`, so the marginals are
    those of the constrained lattice. Only the sentences that hold a span are computed. With `scaled` (the
    default) the tables are probability-space ones (`_packed_tables`, `_span_probs_scaled`); without, or when a
    scaled sum underflows, the log-space ones (`_span_probs_log`). In S's precision (float32 or float64); returns (n,)
    in [0, 1].
    """
    S = np.asarray(S)
    lengths = np.asarray(lengths, dtype=np.int64)
    return span_marginals_flat(S[lengths_to_mask(lengths, S.shape[1])], lengths, spans, A, A_start, A_end,
                               allowed=allowed, start_ok=start_ok, end_ok=end_ok, scaled=scaled)


def span_marginals_flat(
    S: np.ndarray,
    lengths: np.ndarray,
    spans: np.ndarray,
    A: np.ndarray | None = None,
    A_start: np.ndarray | None = None,
    A_end: np.ndarray | None = None,
    *,
    allowed: np.ndarray | None = None,
    start_ok: np.ndarray | None = None,
    end_ok: np.ndarray | None = None,
    scaled: bool = True,
) -> np.ndarray:
    """`span_marginals` for sentences given flat: S (N, C), the rows of all sentences one after the other."""
    S = np.asarray(S)
    if S.dtype != np.float32:                                      # float32 scores keep float32 tables (4% faster
        S = S.astype(np.float64)                                   # jsonl, probabilities within 1e-4)
    C = S.shape[1]
    spans = np.asarray(spans, dtype=np.int64).reshape(-1, 7)
    if len(spans) == 0:
        return np.zeros(0)
    lengths = np.asarray(lengths, dtype=np.int64)
    b, s, e = spans[:, 0], spans[:, 1], spans[:, 2]
    if np.any(e - s < 1) or np.any(e > lengths[b]) or np.any(s < 0):
        raise ValueError("every span needs 0 <= s < e <= sentence length")
    held, b = np.unique(b, return_inverse=True)                    # only the sentences that hold a span
    S = S[np.repeat(np.isin(np.arange(len(lengths)), held), lengths)]
    lengths = lengths[held]
    spans = np.column_stack([b, spans[:, 1:]])
    trans, start, end = constrained(A, A_start, A_end, allowed, start_ok, end_ok, C, S.dtype)
    tables = _packed_tables(S, lengths, trans, start, end) if scaled else None
    if tables is not None:
        return _span_probs_scaled(tables, lengths, spans)
    return _span_probs_log(S, lengths, spans, trans, start, end)


def node_marginals_flat(
    S: np.ndarray,
    lengths: np.ndarray,
    A: np.ndarray,
    A_start: np.ndarray,
    A_end: np.ndarray,
    *,
    allowed: np.ndarray | None = None,
    start_ok: np.ndarray | None = None,
    end_ok: np.ndarray | None = None,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """p(y_t = j) for every token of sentences given flat (S (N, C), their lengths), or for the given `rows`:
    forward-backward over the (constrained) lattice, ``p(y_t = j) ∝ a_t[j] b_t[j]`` from the scaled tables
    (`_packed_tables`), or from the log-space ones a group of sentences at a time when a scaled sum underflows.
    (N, C), or (len(rows), C), in S's precision (float32 or float64: float32 tables are ~1/3 faster and agree
    with float64 to ~1e-7); rows sum to 1."""
    S = np.asarray(S)
    if S.dtype != np.float32:
        S = S.astype(np.float64)
    lengths = np.asarray(lengths, dtype=np.int64)
    C = S.shape[1]
    if len(S) == 0:
        return np.zeros((0 if rows is None else len(rows), C), dtype=S.dtype)
    trans, start, end = constrained(A, A_start, A_end, allowed, start_ok, end_ok, C, S.dtype)
    tables = _packed_tables(S, lengths, trans, start, end)
    if tables is not None:
        packed, a, b = tables[:3]
        at = np.empty_like(packed.index)                           # packed row of each flat row
        at[packed.index] = np.arange(len(at))
        at = at if rows is None else at[rows]
        ab = a[at] * b[at]
        return ab / row_sums(ab)
    trans, start, end = (x.astype(np.float64) for x in (trans, start, end))
    out = np.zeros(S.shape)
    for _, _, tokens, S_pad, mask in _padded_groups(S, lengths):
        alpha = log_forward(S_pad, mask, trans, start)[0]
        beta = log_backward(S_pad, mask, trans, end)
        out[tokens] = _softmax_last(alpha + beta, (2,))[mask]
    return out if rows is None else out[rows]


RESCALE_STEPS = 8      # `_packed_tables` rescales its rows every 8 steps: a row's sum changes at most 9x a step
SMALLEST_SUM = 1e-290  # ... and gives up (the log-space path takes over) if a sum came near float64's subnormals
SMALLEST_SUM_32 = 1e-30  # the same for float32 tables (its subnormals start at 1.2e-38)


def _packed_tables(S: np.ndarray, lengths: np.ndarray, trans: np.ndarray, start: np.ndarray, end: np.ndarray
                   ) -> tuple[Packed, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Scaled forward-backward in probability space (as `_scaled_tables`) over the time-major `Packed` layout of
    sentences given flat: (packed, a, b, P, Et), the tables (N, C) in packed row order, or None if a row's sum
    came near underflow (the caller then uses log space).

    P = exp(S - max_j S) per row, Et = exp(A - max A); a_1 ∝ exp(start) ∘ P_1, a_t ∝ (a_{t-1} @ Et) ∘ P_t;
    b_L ∝ exp(end), b_t ∝ (P_{t+1} ∘ b_{t+1}) @ Etᵀ. Each step is one product over the contiguous rows of the
    sentences still running. Every use of a row (`_span_probs_scaled`) is a ratio within it, so rows need no
    common scale: they are rescaled to sum 1 only every RESCALE_STEPS steps, to stay far from underflow.
    """
    packed = pack(lengths)
    P = S[packed.index]
    P = np.exp(P - row_max(P))                                     # (N, C), max 1 per row
    Et = np.exp(trans - trans.max())                               # (C, C)
    a = np.empty_like(P)
    a[packed.step(0)] = np.exp(start - start.max()) * P[packed.step(0)]
    for t in range(1, packed.steps):
        prev, rows = packed.step(t - 1), packed.step(t)
        np.multiply(a[prev.start:prev.start + rows.stop - rows.start] @ Et, P[rows], out=a[rows])
        if t % RESCALE_STEPS == 0 and not _rescaled(a[rows]):
            return None
    b = np.empty_like(P)
    b[:] = np.exp(end - end.max())                                 # b_t at every sentence's last token
    Et_T = Et.T
    for t in range(packed.steps - 2, -1, -1):
        rows, nxt = packed.step(t), packed.step(t + 1)
        n = nxt.stop - nxt.start                                   # the sentences with a token after t
        np.matmul(P[nxt] * b[nxt], Et_T, out=b[rows.start:rows.start + n])
        if t % RESCALE_STEPS == 0 and not _rescaled(b[rows.start:rows.start + n]):
            return None
    if not (_rescaled(a) and _rescaled(b)):
        return None
    return packed, a, b, P, Et


def row_max(x: np.ndarray) -> np.ndarray:
    """(n, 1) maximum of each row of x (n, C): C column maxima, ~6x faster than x.max(axis=1) for a few columns."""
    return functools.reduce(np.maximum, (x[:, j] for j in range(1, x.shape[1])), x[:, 0])[:, None]


def row_sums(x: np.ndarray) -> np.ndarray:
    """(n, 1) sum of each row of x (n, C): one product with a vector of ones, ~8x faster than x.sum(axis=1)."""
    return (x @ np.ones(x.shape[1], dtype=x.dtype))[:, None]


def _rescaled(rows: np.ndarray) -> bool:
    """Rows (n, C) scaled in place to sum 1; False (and left as they are) if a sum is below SMALLEST_SUM or nan."""
    sums = row_sums(rows)
    if not (sums >= (SMALLEST_SUM_32 if rows.dtype == np.float32 else SMALLEST_SUM)).all():
        return False
    rows /= sums
    return True


def _span_probs_scaled(tables: tuple[Packed, np.ndarray, np.ndarray, np.ndarray, np.ndarray], lengths: np.ndarray,
                       spans: np.ndarray) -> np.ndarray:
    """`span_marginals` from the scaled tables of `_packed_tables`: no log Z, no scales needed.

    The posterior over paths is a Markov chain: p(y_s = i) = a_s[i] b_s[i] / (a_s · b_s), and the step
    q_t(i -> j) = Et[i, j] P_t[j] b_t[j] / Σ_j' Et[i, j'] P_t[j'] b_t[j']. So
    p(span) = p(y_s = first) · Π_{s<t<e} q_t(y_{t-1} -> y_t) · Σ_{j != stop} q_e(last -> j),
    the last factor 1 when the span ends its sentence or has no stop tag. Every factor is a ratio of sums of
    positive terms (no cancellation); the product is summed in logs, over all spans' inner steps at once.
    """
    packed, a, b, P, Et = tables
    sent, s, e, first, mid, last, stop = spans.T
    at_s = packed.rows(sent, s)
    ab = a[at_s] * b[at_s]                                         # (n, C)
    n_inner = e - s - 1                                            # the steps into s+1, ..., e-1
    k = np.repeat(np.arange(len(s)), n_inner)                      # (K,) the span of each inner step
    t = s[k] + 1 + np.arange(len(k)) - np.repeat(np.cumsum(n_inner) - n_inner, n_inner)   # (K,) its token
    at_t = packed.rows(sent[k], t)
    prev = np.where(t - 1 == s[k], first[k], mid[k])
    cur = np.where(t == e[k] - 1, last[k], mid[k])
    j = np.flatnonzero((stop >= 0) & (e < lengths[sent]))         # spans with a stop tag and a token after them
    at_e = packed.rows(sent[j], e[j])
    w = Et[last[j]] * P[at_e] * b[at_e]                            # (m, C) their step e-1 -> e, unnormalised
    w_go = w.copy()
    w_go[np.arange(len(j)), stop[j]] = 0.0                         # ... to any tag but `stop`
    with np.errstate(divide="ignore", invalid="ignore"):           # a forbidden span: p = 0, log 0 = -inf
        log_p = np.log(ab[np.arange(len(s)), first] / ab.sum(axis=1))
        log_p += np.bincount(k, np.log(_step_probs(Et, P[at_t] * b[at_t], prev, cur)), minlength=len(s))
        log_p[j] += np.log(w_go.sum(axis=1) / w.sum(axis=1))
    return np.clip(np.exp(log_p), 0.0, 1.0)


def _step_probs(Et: np.ndarray, v: np.ndarray, prev: np.ndarray, cur: np.ndarray) -> np.ndarray:
    """q(prev -> cur) = Et[prev, cur] v[cur] / Σ_j Et[prev, j] v[j] for rows v = P_t ∘ b_t (K, C)."""
    return Et[prev, cur] * v[np.arange(len(v)), cur] / (Et[prev] * v).sum(axis=1)


def _span_probs_log(S: np.ndarray, lengths: np.ndarray, spans: np.ndarray, trans: np.ndarray, start: np.ndarray,
                    end: np.ndarray) -> np.ndarray:
    """`span_marginals` from the log-space tables of sentences given flat, padded a group of sentences at a time
    (`_padded_groups`)."""
    out = np.zeros(len(spans))
    for first, last, _, S_pad, _ in _padded_groups(S, lengths):
        sel = (spans[:, 0] >= first) & (spans[:, 0] < last)
        rows = np.column_stack([spans[sel, 0] - first, spans[sel, 1:]])
        out[sel] = _span_probs_log_padded(S_pad, lengths[first:last], rows, trans, start, end)
    return out


def _padded_groups(S: np.ndarray, lengths: np.ndarray):
    """(first sentence, end sentence, their token rows as a slice, their scores padded (B, T, C) float64, mask
    (B, T)) of consecutive groups of sentences given flat (`model.length_groups`: memory stays bounded by
    MAX_PADDED_TOKENS), for the log-space recursions."""
    from .model import MAX_PADDED_TOKENS, length_groups

    bounds = np.concatenate(([0], np.cumsum(lengths)))
    for first, last in length_groups(lengths, MAX_PADDED_TOKENS):
        group = lengths[first:last]
        mask = lengths_to_mask(group, int(group.max()))
        tokens = slice(int(bounds[first]), int(bounds[last]))
        S_pad = np.zeros((len(group), mask.shape[1], S.shape[1]))
        S_pad[mask] = S[tokens]
        yield first, last, tokens, S_pad, mask


def _span_probs_log_padded(S: np.ndarray, lengths: np.ndarray, spans: np.ndarray, trans: np.ndarray,
                           start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """`span_marginals` from the log-space tables (`log_forward`, `log_backward`) of a padded batch: exact at
    any length."""
    B, T, C = S.shape
    mask = lengths_to_mask(lengths, T)
    alpha, a_scale = log_forward(S, mask, trans, start)            # (B, T, C) rescaled, (B, T) its log scales
    beta, b_scale = log_backward(S, mask, trans, end, with_scale=True)
    rows, last_t = np.arange(B), np.maximum(lengths - 1, 0)
    log_z = a_scale[rows, last_t] + _lse(alpha[rows, last_t] + end, axis=1)       # (B,)
    b, s, e, first, mid, last, stop = spans.T
    L = lengths[b]
    n = e - s
    cum = np.concatenate([np.zeros((B, 1, C)), np.cumsum(S, axis=1)], axis=1)      # cum[:, t] = Σ_{t'<t} S
    head = alpha[b, s, first] + a_scale[b, s]                       # log alpha_s[first], includes S_s[first]
    inner_emit = np.where(n >= 3, cum[b, np.maximum(e - 1, 0), mid] - cum[b, s + 1, mid], 0.0) \
        + np.where(n >= 2, S[b, e - 1, last], 0.0)
    inner_trans = np.where(n == 2, trans[first, last], 0.0) \
        + np.where(n >= 3, trans[first, mid] + (n - 3) * trans[mid, mid] + trans[mid, last], 0.0)
    e_in = np.minimum(e, T - 1)                                     # index e where it exists
    after = trans[last] + S[b, e_in] + beta[b, e_in] + b_scale[b, e_in, None]    # (n, C): A[last, j] + S_e[j]
    #                                                                                      + log beta_e[j]
    after[np.arange(len(spans))[stop >= 0], stop[stop >= 0]] = -np.inf
    tail = np.where(e < L, _lse_masked(after), end[last])
    log_p = head + inner_emit + inner_trans + tail - log_z[b]
    return np.clip(np.exp(log_p), 0.0, 1.0)


def _lse_masked(x: np.ndarray) -> np.ndarray:
    """``log(sum(exp(x), axis=1))`` where entries may be -inf (a row of all -inf gives -inf)."""
    m = x.max(axis=1)
    m_safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return m_safe + np.log(np.exp(x - m_safe[:, None]).sum(axis=1))
