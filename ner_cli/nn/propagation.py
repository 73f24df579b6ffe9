"""Name propagation at decode time: a surname alone names the person the document named in full.

News writes a person's full name once ("Neil Jordan", "MaliVai Washington") and the surname alone after it. A
window of 2w+1 words cannot see the full name, so the lone "Jordan" reads as the country. After decoding:

- the last word of every entity of the propagated type (`model.name_propagation`, PER for CoNLL-2003) that
  spans two or more tokens is a name of its document;
- every other mention of that word in the document becomes a one-token entity of that type, if the tagger read
  it as a one-token entity of another type, or as no entity while it is written capitalised (initcap or
  miXed, a hyphenated compound by its capitals; so not in a headline or a caseless document: the casing
  feature's own categories).

Entities of two or more tokens are never changed, and a one-token entity stays valid in IOB2 and IOBES alike,
so the output remains a valid sequence; the decoder must be Viterbi, whose sequences are valid to begin with
(argmax can leave a stray I- tag, which this reading of entities would take for the end of a longer one). A
two-pass model (features/mentions.py) feeds its first pass's tags to the second without propagation.

A word is the document consistency's key (`featurizer.word_keys`:
lowercased, unknown words told apart). Vectorised over the whole encoded input: no Python work per token.
"""

from __future__ import annotations

import numpy as np

from ..features.casing import BASE_CASE, INITCAP, MIXED
from ..tags import tag_type


class NamePropagation:
    """The label ids a model's paths use for one propagated entity type."""

    def __init__(self, labels: list[str], out_labels: list[str], to_out: np.ndarray | None, scheme: str,
                 entity: str) -> None:
        out_type = np.array([tag_type(t) if t != "O" else "" for t in out_labels])
        self.to_out = to_out
        self.is_begin = np.array([t.startswith("B-") for t in out_labels])        # out labels are IOB2
        self.is_inside = np.array([t.startswith("I-") for t in out_labels])
        self.is_entity = out_type == entity
        self.is_o = np.array([t == "O" for t in out_labels])
        single = ("S-" if scheme == "IOBES" else "B-") + entity
        self.single = labels.index(single)                                          # a one-token entity

    def apply(self, paths: np.ndarray, lengths: np.ndarray, docs: np.ndarray, keys: np.ndarray,
              cases: np.ndarray | None) -> np.ndarray:
        """`paths` (N,) model label ids of whole sentences (`lengths`), with the propagated mentions relabelled
        (a new array when anything changes). docs (N,): document of each token; keys (N,): its word; cases (N,):
        its casing id, or None (then only entities of another type are relabelled, never O tokens)."""
        N = len(paths)
        if N == 0:
            return paths
        out = paths if self.to_out is None else self.to_out[paths]                 # IOB2 ids
        last = np.zeros(N, dtype=bool)
        last[np.cumsum(lengths[lengths > 0]) - 1] = True                            # a sentence's last token
        inside = self.is_inside[out]
        continues = np.zeros(N, dtype=bool)                                          # the next token is I- of it
        continues[:-1] = inside[1:] & ~last[:-1]
        names = inside & self.is_entity[out] & ~continues                           # end of a 2+ token entity
        if not names.any():
            return paths
        single_other = self.is_begin[out] & ~continues & ~self.is_entity[out]
        if cases is not None:
            base = BASE_CASE[cases]                                                 # compounds by their capitals
            single_other |= self.is_o[out] & ((base == INITCAP) | (base == MIXED))
        candidates = np.flatnonzero(single_other)
        if len(candidates) == 0:
            return paths
        code = docs.astype(np.int64) * (int(keys.max()) + 1) + keys               # one code per (document, word)
        known = np.sort(code[names])
        at = np.minimum(np.searchsorted(known, code[candidates]), len(known) - 1)
        hit = candidates[known[at] == code[candidates]]
        if len(hit) == 0:
            return paths
        paths = paths.copy()
        paths[hit] = self.single
        return paths
