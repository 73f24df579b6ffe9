"""Sentences -> integer arrays the network consumes: word-id windows, casing-id windows, target ids.

The whole corpus is encoded once, flat: one list comprehension over its words, one vectorised window build.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .casing import CASES, PAD_CASE, word_case
from .memo import MemoEncoder
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
    suffixes: np.ndarray | None = None  # (N, 2w+1) int32 suffix ids, or None without the suffix feature

    @property
    def starts(self) -> np.ndarray:
        return np.concatenate(([0], np.cumsum(self.lengths)[:-1])).astype(np.int64)

    def rows_of(self, sentence_ids: np.ndarray) -> np.ndarray:
        """Token rows of the given sentences, in order (vectorised)."""
        lens = self.lengths[sentence_ids]
        first = self.starts[sentence_ids]
        offset_in_batch = np.repeat(np.cumsum(lens) - lens, lens)
        return np.repeat(first, lens) + (np.arange(lens.sum()) - offset_in_batch)


class SuffixTable:
    """Word -> id of its last `length` letters (lowercased); row i of X is the vector of `keys[i]`.

    Row 0 is padding, row 1 unknown suffixes. GloVe has no row for a rare name, but "-ski" or "-burg" still
    says something about it.
    """

    def __init__(self, keys: Sequence[str], length: int) -> None:
        self.keys, self.length = list(keys), length
        self.index = {k: i for i, k in enumerate(self.keys)}
        self.encode = MemoEncoder(self.lookup)          # (N,) int32 suffix ids of a word list

    def key(self, word: str) -> str:
        return word.lower()[-self.length:]

    def lookup(self, word: str) -> int:
        """Row of the word's suffix in X; 1 (unknown) for a suffix not in the table."""
        return self.index.get(self.key(word), 1)


def build_suffixes(counts: Counter[str], length: int, min_count: int = 2) -> SuffixTable:
    """Suffixes of the training words seen at least `min_count` times (counting word occurrences)."""
    totals: Counter[str] = Counter()
    for word, n in counts.items():
        totals[word.lower()[-length:]] += n
    keys = ["<pad>", "<unk>", *sorted(k for k, n in totals.items() if n >= min_count)]
    return SuffixTable(keys, length)


@dataclass
class Featurizer:
    """Turns word sequences into windows for one model: its vocabulary, window size, casing and suffixes."""

    vocab: Vocab
    window: int
    use_case: bool
    suffixes: SuffixTable | None = None

    def __post_init__(self) -> None:
        lookup = self.vocab.lookup
        # word -> id << CASE_BITS | case id: one dict hit per token for both
        self._encode_codes = MemoEncoder(lambda w: lookup(w) << CASE_BITS | word_case(w))

    def encode(self, sentences: Sequence[Sequence[str]], targets: np.ndarray | None = None) -> Encoded:
        lengths = np.fromiter((len(s) for s in sentences), dtype=np.int64, count=len(sentences))
        return self.encode_flat([w for s in sentences for w in s], lengths, targets)

    def encode_flat(self, flat: list[str], lengths: np.ndarray, targets: np.ndarray | None = None) -> Encoded:
        """`encode` for sentences given flat: the words of all sentences in one list, and their lengths."""
        suffixes = None
        if self.suffixes is not None:
            suffixes = make_windows(self.suffixes.encode(flat), self.window, 0, lengths=lengths)
        if not self.use_case:
            words = make_windows(self.vocab.encode(flat), self.window, PAD_ID, lengths=lengths)
            return Encoded(words, None, lengths, targets, suffixes)
        codes = make_windows(self._encode_codes(flat), self.window, PAD_ID << CASE_BITS | PAD_CASE, lengths=lengths)
        return Encoded(codes >> CASE_BITS, (codes & CASE_MASK).astype(np.int8), lengths, targets, suffixes)
