"""Sentences -> integer arrays the network consumes: word-id windows, casing-id windows, target ids.

The whole corpus is encoded once, flat: one list comprehension over its words, one vectorised window build.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .casing import PAD_CASE, CaseEncoder
from .vocab import PAD_ID, Vocab
from .windows import make_windows


@dataclass
class Encoded:
    """A corpus as arrays. Token i of sentence k is row starts[k] + i."""

    words: np.ndarray                 # (N, 2w+1) int32 word ids
    cases: np.ndarray | None          # (N, 2w+1) int8 casing ids, or None without the casing feature
    lengths: np.ndarray               # (S,) tokens per sentence
    targets: np.ndarray | None = None  # (N,) tag ids (or 0/1 for a binary model)

    @property
    def starts(self) -> np.ndarray:
        return np.concatenate(([0], np.cumsum(self.lengths)[:-1])).astype(np.int64)

    def rows_of(self, sentence_ids: np.ndarray) -> np.ndarray:
        """Token rows of the given sentences, in order (vectorised)."""
        lens = self.lengths[sentence_ids]
        first = self.starts[sentence_ids]
        offset_in_batch = np.repeat(np.cumsum(lens) - lens, lens)
        return np.repeat(first, lens) + (np.arange(lens.sum()) - offset_in_batch)


@dataclass
class Featurizer:
    """Turns word sequences into windows for one model: its vocabulary, window size and casing feature."""

    vocab: Vocab
    window: int
    use_case: bool

    def __post_init__(self) -> None:
        self._cases = CaseEncoder()

    def encode(self, sentences: Sequence[Sequence[str]], targets: np.ndarray | None = None) -> Encoded:
        lengths = np.fromiter((len(s) for s in sentences), dtype=np.int64, count=len(sentences))
        flat = [w for s in sentences for w in s]
        words = make_windows(self.vocab.encode(flat), self.window, PAD_ID, lengths=lengths)
        cases = None
        if self.use_case:
            cases = make_windows(self._cases.encode(flat), self.window, PAD_CASE, lengths=lengths).astype(np.int8)
        return Encoded(words, cases, lengths, targets)
