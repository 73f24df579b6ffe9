"""Document consistency at decode time: the mentions of a word in one document tend to agree.

A window of 2w+1 words decides each mention on its own, so "Clinton" after "Mr." is a person while the same
"Clinton" alone in a headline or a list may come out as an organisation or as nothing. Here the CRF's own
belief about every mention is shared across the document before decoding, with no new parameter to train:

    q_t(k)      = Σ_{y: type(y) = k} p(y_t = y)          the CRF's node marginals (forward-backward per
                                                         sentence), summed per type k (O or an entity type)
    q̄_{d,v}(k)  = mean of q_t(k) over the mentions t of word v in document d
    S'_t(y)     = S_t(y) + λ · log q̄_{d,v}(type(y))     for every token of a word that recurs in d

and Viterbi decodes S'. λ (`model.consistency`) is chosen on dev. Words that occur once in their document keep
their scores. A word is its vocabulary id, which is lowercased (a headline's "CLINTON" and the text's "Clinton"
are mentions of one word); words the vocabulary lacks are told apart by their lowercased form
(`featurizer.word_keys`). An entity's probability (`ner tag -f jsonl`) stays the one the network's own lattice
gives it in its sentence (`Tagger._scored_chunks`).
"""

from __future__ import annotations

import numpy as np

from .crf import node_marginals_flat

FLOOR = 1e-4          # q̄ is floored here before the log: one unanimous document cannot forbid a type outright


def recurring_groups(word_keys: np.ndarray, token_docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows (M,), group (M,)): the tokens whose word (key) occurs two or more times in their document, in order,
    and the number 0..G-1 of each one's (document, word) pair."""
    if len(word_keys) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    pair = token_docs.astype(np.int64) * (int(word_keys.max()) + 1) + word_keys
    _, group, counts = np.unique(pair, return_inverse=True, return_counts=True)
    group = group.reshape(-1)
    keep = counts > 1
    rows = np.flatnonzero(keep[group])
    return rows, (np.cumsum(keep) - 1)[group[rows]]


def type_marginals(S: np.ndarray, lengths: np.ndarray, crf: tuple[np.ndarray, np.ndarray, np.ndarray],
                   masks: tuple[np.ndarray, np.ndarray, np.ndarray] | None, label_types: np.ndarray,
                   rows: np.ndarray) -> np.ndarray:
    """q (len(rows), K) of the given token rows: their CRF node marginals (scores S (N, C) of whole sentences)
    summed per type. crf: (A, A_start, A_end); masks: the decoder's (start_ok, allowed, end_ok) or None;
    label_types (C,): the type (0 = O, 1.. entity types) of each label."""
    start_ok, allowed, end_ok = masks if masks is not None else (None, None, None)
    starts = np.cumsum(lengths) - lengths
    sentence = np.searchsorted(starts, rows, side="right") - 1     # forward-backward only where a row is
    held = np.zeros(len(lengths), dtype=bool)
    held[sentence] = True
    if not held.all():
        skipped = np.where(held, 0, lengths)
        rows = rows - (np.cumsum(skipped) - skipped)[sentence]     # less the tokens of sentences left out before
        S, lengths = S[np.repeat(held, lengths)], lengths[held]
    node = node_marginals_flat(S, lengths, *crf, allowed=allowed, start_ok=start_ok, end_ok=end_ok, rows=rows)
    to_type = np.zeros((len(label_types), int(label_types.max()) + 1), dtype=node.dtype)
    to_type[np.arange(len(label_types)), label_types] = 1
    return node @ to_type


def log_prior(type_probs: np.ndarray, group: np.ndarray) -> np.ndarray:
    """(M, K) log q̄ of each token's group: the mean of q (M, K) over the tokens of the group, floored."""
    if len(group) == 0:
        return np.zeros(type_probs.shape)
    n_groups, k = int(group.max()) + 1, type_probs.shape[1]
    sums = np.empty((n_groups, k))
    for j in range(k):                                             # K is 1 + entity types: a few bincounts
        sums[:, j] = np.bincount(group, weights=type_probs[:, j], minlength=n_groups)
    mean = sums / np.bincount(group, minlength=n_groups)[:, None]
    return np.log(np.maximum(mean, FLOOR))[group]


def consistent_scores(S: np.ndarray, rows: np.ndarray, type_probs: np.ndarray, group: np.ndarray,
                      label_types: np.ndarray, weight: float) -> np.ndarray:
    """S' = S + weight · log q̄ (the module docstring) for scores S (N, C): a copy, changed at `rows` (the recurring
    tokens, `recurring_groups`) whose q (M, K) comes from `type_marginals`."""
    out = S.copy()
    if weight and len(rows):
        out[rows] += (weight * log_prior(type_probs, group)[:, label_types]).astype(S.dtype)
    return out
