"""Word vocabulary: word <-> row of the embedding matrix E, with padding and unknown-word entries.

Row 0 is `<PAD>` (the sentence-edge padding of the lecture's windows), row 1 is `<UNK>`. Words are looked up
through `normalise` (optional lowercasing) and, when `digit_fallback` is set, through a digit-normalised form
(every digit replaced by 0), so "1996" can fall back to "0000" when only that form has a row.
"""

from __future__ import annotations

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
    """An ordered list of keys (row i of E is the vector of `keys[i]`) and a memoised word -> id encoder."""

    def __init__(self, keys: Sequence[str], *, lowercase: bool = True, digit_fallback: bool = True) -> None:
        if list(keys[:2]) != [PAD, UNK]:
            keys = [PAD, UNK, *[k for k in keys if k not in (PAD, UNK)]]
        self.keys: list[str] = list(keys)
        self.lowercase = lowercase
        self.digit_fallback = digit_fallback
        self.index: dict[str, int] = {k: i for i, k in enumerate(self.keys)}
        self.encode = MemoEncoder(self.lookup)
        """Ids of a word sequence as int32 (`MemoEncoder`: repeated words cost one dict hit)."""

    def __len__(self) -> int:
        return len(self.keys)

    def normalise(self, word: str) -> str:
        """The key a word is looked up under (lowercased when the vocabulary is lowercase)."""
        return word.lower() if self.lowercase else word

    def lookup(self, word: str) -> int:
        """Row id of one word: its key, else its digit-normalised key, else UNK."""
        key = self.normalise(word)
        i = self.index.get(key)
        if i is None and self.digit_fallback:
            i = self.index.get(digit_normalise(key))
        return UNK_ID if i is None else i


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
