"""How sure the tagger is of each entity it found: a probability per predicted entity span.

- CRF models: the span marginal from forward-backward over the constrained lattice the decoder uses
  (`ner_cli.nn.crf.span_marginals_flat`): p(the path has exactly this span's tags, and the entity ends there).
- softmax models: the same quantity under the per-token softmax distribution (tokens independent):
  p(first tag) · Π p(inside tags) · (1 − p(the entity goes on at the next token)).
- binary models: Π σ(s_t) over the run, times 1 − σ(s) of the tokens just before and after it.

Entities are found with conlleval's rules on the IOB2 output (`tags.chunk_spans`), over a whole chunk at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .nn.crf import span_marginals_flat
from .nn.model import log_softmax
from .tags import tag_type


def find_spans(out_ids: np.ndarray, lengths: np.ndarray, labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """conlleval's chunks of output label ids (N,) of sentences of `lengths`: (starts, ends exclusive), in
    order, none across a sentence start (`tags.chunk_spans`, the one vectorised reading of chunks)."""
    from .tags import chunk_spans, encode_tags

    prefix_of, type_of, _ = encode_tags(labels)                     # per label, not per token
    cuts = np.cumsum(lengths)[:-1]
    return chunk_spans(prefix_of[out_ids], type_of[out_ids], cuts)


def span_scores(S: np.ndarray, lengths: np.ndarray, paths: np.ndarray, starts: np.ndarray, ends: np.ndarray, *,
                labels: list[str], scheme: str, crf: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
                masks: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> np.ndarray:
    """p of each span (n,) for a multi-class model: spans [starts, ends) over the chunk's flat tokens.

    S (N, C): the network's scores of the chunk's tokens; paths (N,): decoded ids into `labels` (the model's
    scheme); crf: (A, A_start, A_end) or None for a softmax model (then S is turned into log-probabilities and
    tokens are independent); masks: (start_ok, trans_ok, end_ok) when decoding is constrained (CRF only).
    """
    if len(starts) == 0:
        return np.zeros(0)
    S = np.asarray(S)
    if crf is None:
        S = log_softmax(S.astype(np.float64))
    rows = span_rows(lengths, paths, starts, ends, labels, scheme)
    if crf is None:
        return span_marginals_flat(S, lengths, rows)
    start_ok, trans_ok, end_ok = masks if masks is not None else (None, None, None)
    A, A_start, A_end = crf
    return span_marginals_flat(S, lengths, rows, A, A_start, A_end, allowed=trans_ok, start_ok=start_ok,
                               end_ok=end_ok)


def span_rows(lengths: np.ndarray, paths: np.ndarray, starts: np.ndarray, ends: np.ndarray, labels: list[str],
              scheme: str) -> np.ndarray:
    """The (n, 7) rows (sentence, s, e, first, mid, last, stop) that `nn.crf.span_marginals` takes for spans
    [starts, ends) over a chunk's flat tokens, their tags read off the decoded `paths` (ids into `labels`)."""
    index = {t: i for i, t in enumerate(labels)}
    inside = np.array([index.get("I-" + tag_type(t), -1) if t != "O" else -1 for t in labels])
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    s, e = starts, ends
    sentence = np.searchsorted(offsets, s, side="right") - 1
    n = e - s
    first, last = paths[s], paths[e - 1]
    mid = np.where(n >= 3, paths[np.minimum(s + 1, len(paths) - 1)], first)
    stop = inside[last] if scheme == "IOB2" else np.full(len(s), -1)
    return np.stack([sentence, s - offsets[sentence], e - offsets[sentence], first, mid, last, stop], axis=1)


def binary_span_scores(s: np.ndarray, lengths: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """p of each positive run [starts, ends) of a binary model: Π σ(s_t) inside, (1 − σ) of its neighbours in
    the sentence."""
    if len(starts) == 0:
        return np.zeros(0)
    s = np.asarray(s, dtype=np.float64).reshape(-1)
    log_pos = -np.logaddexp(0.0, -s)                                   # log σ(s)
    log_neg = -np.logaddexp(0.0, s)                                    # log (1 − σ(s))
    cum = np.concatenate(([0.0], np.cumsum(log_pos)))
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    a, b = starts, ends
    sentence = np.searchsorted(offsets, a, side="right") - 1
    lo, hi = offsets[sentence], offsets[sentence] + np.asarray(lengths)[sentence]
    before = np.where(a > lo, log_neg[np.maximum(a - 1, 0)], 0.0)
    after = np.where(b < hi, log_neg[np.minimum(b, len(s) - 1)], 0.0)
    return np.clip(np.exp(cum[b] - cum[a] + before + after), 0.0, 1.0)


@dataclass
class CalibrationBin:
    low: float             # the bin holds scores in [low, high) (the last bin includes 1.0)
    high: float
    count: int             # predicted entities in the bin
    mean_score: float      # their mean score (nan if empty)
    accuracy: float        # the fraction of them that conlleval counts as correct (nan if empty)


def calibration(scores: np.ndarray, correct: np.ndarray, bins: int = 10) -> tuple[list[CalibrationBin], float]:
    """A reliability table of predicted entities, and the expected calibration error.

    scores (n,): each predicted entity's probability; correct (n,) bool: it matches a gold entity exactly.
    ECE = Σ_bins (count / n) · |accuracy − mean score|: 0 when every score is the frequency it claims.
    """
    scores = np.asarray(scores, dtype=np.float64)
    correct = np.asarray(correct, dtype=bool)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, scores, side="right") - 1, 0, bins - 1)
    out, ece = [], 0.0
    for k in range(bins):
        sel = which == k
        n = int(sel.sum())
        mean = float(scores[sel].mean()) if n else float("nan")
        acc = float(correct[sel].mean()) if n else float("nan")
        out.append(CalibrationBin(float(edges[k]), float(edges[k + 1]), n, mean, acc))
        if n:
            ece += n / len(scores) * abs(acc - mean)
    return out, ece
