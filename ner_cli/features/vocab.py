"""Word vocabulary: word <-> row of the embedding matrix E, with padding and unknown-word entries.

Row 0 is `<PAD>` (the sentence-edge padding of the lecture's windows), row 1 is `<UNK>`. Words are looked up
through `normalise` (optional lowercasing) and, when `digit_fallback` is set, through a digit-normalised form
(every digit replaced by 0), so "1996" can fall back to "0000" when only that form has a row.

A vocabulary may end with a `tail`: words kept as one sorted array of fixed-width UTF-8 bytes (numpy `S`) and
found by binary search instead of through the dict. The fallback rows (`features/fallback.py`) are such a tail:
92k words that a model file loads as one array, with no Python string or dict entry made for each at start-up.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from .memo import MemoEncoder

PAD, UNK = "<PAD>", "<UNK>"
PAD_ID, UNK_ID = 0, 1
_DIGITS = re.compile(r"\d")


def digit_normalise(word: str) -> str:
    """Replace every digit by 0: '1996-08-22' -> '0000-00-00'."""
    return _DIGITS.sub("0", word)


class Vocab:
    """An ordered list of keys (row i of E is the vector of `keys[i]`), then the `tail` words if any (row
    len(keys) + j is `tail[j]`), and a memoised word -> id encoder."""

    def __init__(self, keys: Sequence[str], *, lowercase: bool = True, digit_fallback: bool = True,
                 tail: np.ndarray | None = None) -> None:
        if list(keys[:2]) != [PAD, UNK]:
            keys = [PAD, UNK, *[k for k in keys if k not in (PAD, UNK)]]
        self.keys: list[str] = list(keys)
        self.lowercase = lowercase
        self.digit_fallback = digit_fallback
        self.index: dict[str, int] = dict(zip(self.keys, range(len(self.keys)), strict=True))
        self.tail: np.ndarray | None = tail if tail is not None and len(tail) else None
        """Sorted, distinct UTF-8 words as a numpy `S` array (`sorted_words`), or None."""
        self.encode = MemoEncoder(self.lookup)
        """Ids of a word sequence as int32 (`MemoEncoder`: repeated words cost one dict hit)."""

    def with_tail(self, tail: np.ndarray | None) -> Vocab:
        """This vocabulary with `tail` words after its keys, sharing its keys and index (no second 100k-word
        dictionary)."""
        other = copy.copy(self)
        other.tail = tail if tail is not None and len(tail) else None
        other.encode = MemoEncoder(other.lookup)
        return other

    def __len__(self) -> int:
        return len(self.keys) + (0 if self.tail is None else len(self.tail))

    def normalise(self, word: str) -> str:
        """The key a word is looked up under (lowercased when the vocabulary is lowercase)."""
        return word.lower() if self.lowercase else word

    def lookup(self, word: str) -> int:
        """Row id of one word: its key, else its digit-normalised key, else UNK."""
        key = self.normalise(word)
        i = self.find(key)
        if i is None and self.digit_fallback:
            i = self.find(digit_normalise(key))
        return UNK_ID if i is None else i

    def find(self, key: str) -> int | None:
        """Row id of this exact key (no normalising), in the dict and then in the tail; None if neither."""
        i = self.index.get(key)
        if i is None and self.tail is not None:
            j = find_sorted(self.tail, key)
            i = None if j is None else len(self.keys) + j
        return i


def sorted_words(words: Iterable[str]) -> np.ndarray:
    """Distinct words as a sorted numpy `S` array of their UTF-8 bytes (the `tail` form). A word must be
    non-empty and hold no NUL (numpy strips trailing NULs from `S` items)."""
    encoded = [w.encode("utf-8") for w in words]
    if not all(encoded) or any(b"\x00" in b for b in encoded):
        raise ValueError("tail words must be non-empty and hold no NUL character")
    return np.unique(np.array(encoded, dtype=bytes))


def find_sorted(tail: np.ndarray, key: str) -> int | None:
    """Index of `key` in a sorted `S` array (`sorted_words`), or None."""
    b = key.encode("utf-8", "surrogatepass")     # a lone surrogate gives bytes no valid word has
    if not b or len(b) > tail.itemsize or b"\x00" in b:
        return None
    j = int(tail.searchsorted(b))
    return j if j < len(tail) and tail[j] == b else None


def count_words(sentences: Iterable[Sequence[str]], *, lowercase: bool) -> Counter[str]:
    """Frequency of each (optionally lowercased) word over the corpus."""
    counts: Counter[str] = Counter()
    for words in sentences:
        counts.update(w.lower() for w in words) if lowercase else counts.update(words)
    return counts


def build_vocab(
    counts: Counter[str],
    *,
    min_count: int = 1,
    lowercase: bool = True,
    pretrained: Iterable[str] = (),
    digit_fallback: bool = True,
) -> Vocab:
    """Keys: PAD, UNK, then `pretrained` keys in order, then training words seen >= min_count times that
    neither they nor their digit-normalised form already have a row (most frequent first)."""
    keys = [PAD, UNK, *pretrained]
    known = set(keys)
    extra = []
    for word, n in counts.most_common():
        if n < min_count:
            break
        key = digit_normalise(word) if digit_fallback else word
        if word in known or key in known:
            continue
        known.add(key)
        extra.append(key)
    return Vocab(keys + extra, lowercase=lowercase, digit_fallback=digit_fallback)


def rare_ids(vocab: Vocab, sentences: Iterable[Sequence[str]], max_count: int) -> np.ndarray:
    """(len(vocab),) bool: rows whose words occur at most `max_count` times in `sentences` (never PAD or UNK)."""
    counts = np.bincount(vocab.encode([w for words in sentences for w in words]), minlength=len(vocab))
    rare = (counts > 0) & (counts <= max_count)
    rare[[PAD_ID, UNK_ID]] = False
    return rare
