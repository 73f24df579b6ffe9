"""Sentences -> integer arrays the network consumes: word-id windows, casing-id windows, target ids.

The whole corpus is encoded once, flat: one list comprehension over its words, one vectorised window build.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .casing import CASES, PAD_CASE, word_case
from .vocab import PAD_ID, Vocab
from .windows import make_windows

CASE_BITS = max(1, (len(CASES) - 1).bit_length())   # casing ids packed into the low bits of a word id
CASE_MASK = (1 << CASE_BITS) - 1


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
        self._codes: dict[str, int] = {}   # word -> id << CASE_BITS | case id: one dict hit per token for both

    def encode(self, sentences: Sequence[Sequence[str]], targets: np.ndarray | None = None) -> Encoded:
        lengths = np.fromiter((len(s) for s in sentences), dtype=np.int64, count=len(sentences))
        flat = [w for s in sentences for w in s]
        if not self.use_case:
            words = make_windows(self.vocab.encode(flat), self.window, PAD_ID, lengths=lengths)
            return Encoded(words, None, lengths, targets)
        codes = make_windows(self._encode_codes(flat), self.window, PAD_ID << CASE_BITS | PAD_CASE, lengths=lengths)
        return Encoded(codes >> CASE_BITS, (codes & CASE_MASK).astype(np.int8), lengths, targets)

    def _encode_codes(self, flat: list[str]) -> np.ndarray:
        """(N,) int32 codes id << CASE_BITS | case of each word, memoised like Vocab.encode."""
        cache = self._codes
        if len(cache) > 1_000_000:  # keep memory flat on endless streams
            cache.clear()
        lookup = self.vocab.lookup
        for w in set(flat).difference(cache):
            cache[w] = lookup(w) << CASE_BITS | word_case(w)
        return np.fromiter(map(cache.__getitem__, flat), dtype=np.int32, count=len(flat))
