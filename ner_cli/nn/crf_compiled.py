"""The CRF's training loss and gradients as one compiled loop (numba), when the `fast` extra is installed.

It computes what `crf.crf_nll` + `crf.crf_backward` compute, for the packed rows of a batch (no padding), with
the same scaled forward-backward recursion (see `crf._scaled_tables`), written per sentence and per tag:

    P_t = exp(S_t - max S_t),  Et = exp(A - max A)
    a_1 ∝ exp(start) ∘ P_1,     a_t ∝ (a_{t-1} @ Et) ∘ P_t        (each row scaled by c_t to sum 1)
    b_L ∝ exp(end),             b_t ∝ Et @ (P_{t+1} ∘ b_{t+1})
    log Z = Σ_t log c_t + Σ_t max S_t + (L-1) max A + max start + max end + log Σ_j a_L[j] exp(end[j] - max end)
    p(y_t = j) ∝ a_t[j] b_t[j];   p(y_{t-1} = i, y_t = j) ∝ a_{t-1}[i] Et[i, j] P_t[j] b_t[j]
    ∂NLL/∂S_t = p(y_t) - onehot(gold_t);  ∂NLL/∂A = Σ_t p(y_{t-1}, y_t) - gold transition counts

numpy runs the recursion as ~5 calls a step for a whole batch, ~0.7 ms a batch of 16 CoNLL sentences, most of
it call overhead on (16, 9) arrays; this loop takes ~0.08 ms. It computes in float64 whatever S's dtype (so
float32 scores hundreds apart keep the paths float32's exp would round to 0), so its numbers differ from the
numpy path's float32 ones in the last bits (≤ 1e-6 relative; tests compare the two): a training run takes a
different, equally good trajectory (README, "Performance").
"""

from __future__ import annotations

import math

import numpy as np

from .compiled import jit

TINY = float(np.finfo(np.float64).tiny)     # a normaliser below it has lost precision: the caller takes numpy's path


def crf_loss_packed(S: np.ndarray, y: np.ndarray, lengths: np.ndarray, A: np.ndarray, A_start: np.ndarray,
                    A_end: np.ndarray, scale: float
                    ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Σ_sentences NLL, and scale x its gradients: ∂/∂S (N, C) in S's dtype, ∂/∂A, ∂/∂A_start, ∂/∂A_end in A's.

    S (N, C) holds the batch's sentences one after another (`lengths`), y (N,) their gold tags. None if a
    normaliser underflows (scores hundreds apart where every allowed path is improbable), or for a dtype other
    than float32/float64: the caller then takes the numpy path, which falls back to log space. The loop does
    no bounds checks, so the shapes, lengths and tags are checked here (ValueError)."""
    S = np.ascontiguousarray(S)
    y = np.ascontiguousarray(y, dtype=np.int64)
    lengths = np.ascontiguousarray(lengths, dtype=np.int64)
    N, C = S.shape
    if A.shape != (C, C) or A_start.shape != (C,) or A_end.shape != (C,) or y.shape != (N,):
        raise ValueError(f"crf_loss_packed: S {S.shape}, y {y.shape}, A {A.shape}, A_start {A_start.shape}, "
                         f"A_end {A_end.shape} do not fit together")
    if (lengths < 0).any() or int(lengths.sum()) != N:
        raise ValueError(f"crf_loss_packed: lengths must be >= 0 and sum to {N} rows, got {lengths.tolist()[:8]}")
    if N and not (int(y.min()) >= 0 and int(y.max()) < C):
        raise ValueError(f"crf_loss_packed: tags must lie in [0, {C}), got {int(y.min())}..{int(y.max())}")
    if S.dtype not in (np.float32, np.float64) or A.dtype not in (np.float32, np.float64):
        return None
    bad, nll, dS, dA, d_start, d_end = _crf_loss_loop(S, y, lengths, A, A_start, A_end, scale)
    if bad:
        return None
    pd = A.dtype
    return nll, dS, dA.astype(pd), d_start.astype(pd), d_end.astype(pd)


@jit
def _crf_loss_loop(S, y, lengths, A, A_start, A_end, scale):  # noqa: C901 (one loop, written out for numba)
    """(underflow?, Σ NLL, scale ∂/∂S, scale ∂/∂A, scale ∂/∂A_start, scale ∂/∂A_end), all sums in float64."""
    N, C = S.shape
    dS = np.zeros((N, C), dtype=S.dtype)
    dA = np.zeros((C, C))
    d_start = np.zeros(C)
    d_end = np.zeros(C)
    top, s_top, e_top = A.max(), A_start.max(), A_end.max()
    Et = np.exp(A.astype(np.float64) - top)                        # (C, C)
    exp_start = np.exp(A_start.astype(np.float64) - s_top)
    exp_end = np.exp(A_end.astype(np.float64) - e_top)
    longest = lengths.max() if len(lengths) else 0
    P = np.empty((longest, C))
    a = np.empty((longest, C))
    b = np.empty((longest, C))
    nll = 0.0
    o = 0                                                          # the sentence's first row in S
    for L in lengths:
        if L == 0:
            continue
        log_z = 0.0
        for t in range(L):                                         # P_t = exp(S_t - max S_t)
            m = np.float64(S[o + t].max())
            log_z += m
            for j in range(C):                                     # in float64: float32's exp is 0 below -103
                P[t, j] = math.exp(np.float64(S[o + t, j]) - m)
        for t in range(L):                                         # forward: a_t ∝ (a_{t-1} @ Et) ∘ P_t
            c = 0.0
            for j in range(C):
                if t == 0:
                    v = exp_start[j]
                else:
                    v = 0.0
                    for i in range(C):
                        v += a[t - 1, i] * Et[i, j]
                v *= P[t, j]
                a[t, j] = v
                c += v
            if not c >= TINY:
                return True, 0.0, dS, dA, d_start, d_end
            log_z += math.log(c)
            for j in range(C):
                a[t, j] /= c
        last = 0.0
        for j in range(C):
            last += a[L - 1, j] * exp_end[j]
        if not last >= TINY:
            return True, 0.0, dS, dA, d_start, d_end
        log_z += math.log(last) + top * (L - 1) + s_top + e_top
        total = exp_end.sum()
        for j in range(C):                                         # backward: b_t ∝ Et @ (P_{t+1} ∘ b_{t+1})
            b[L - 1, j] = exp_end[j] / total
        for t in range(L - 2, -1, -1):
            c = 0.0
            for i in range(C):
                v = 0.0
                for j in range(C):
                    v += Et[i, j] * P[t + 1, j] * b[t + 1, j]
                b[t, i] = v
                c += v
            if not c >= TINY:
                return True, 0.0, dS, dA, d_start, d_end
            for i in range(C):
                b[t, i] /= c
        gold = np.float64(A_start[y[o]]) + A_end[y[o + L - 1]]      # s(gold), summed in float64
        for t in range(L):
            gold += S[o + t, y[o + t]]
            if t > 0:
                gold += A[y[o + t - 1], y[o + t]]
        nll += log_z - gold
        for t in range(L):                                         # node marginals: ∂/∂S, ∂/∂A_start, ∂/∂A_end
            n = 0.0
            for j in range(C):
                n += a[t, j] * b[t, j]
            if not n >= TINY:
                return True, 0.0, dS, dA, d_start, d_end
            for j in range(C):
                p = a[t, j] * b[t, j] / n
                dS[o + t, j] = p * scale
                if t == 0:
                    d_start[j] += p
                if t == L - 1:
                    d_end[j] += p
            dS[o + t, y[o + t]] -= scale
        d_start[y[o]] -= 1.0
        d_end[y[o + L - 1]] -= 1.0
        for t in range(1, L):                                      # pairwise marginals: ∂/∂A
            n = 0.0
            for i in range(C):
                for j in range(C):
                    n += a[t - 1, i] * Et[i, j] * P[t, j] * b[t, j]
            if not n >= TINY:
                return True, 0.0, dS, dA, d_start, d_end
            for i in range(C):
                ai = a[t - 1, i] / n
                for j in range(C):
                    dA[i, j] += ai * Et[i, j] * P[t, j] * b[t, j]
            dA[y[o + t - 1], y[o + t]] -= 1.0
        o += L
    return False, nll, dS, dA * scale, d_start * scale, d_end * scale
