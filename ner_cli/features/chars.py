"""Character n-grams of word types, hashed into a fixed number of rows (the table Q of `nn.charbag`).

A word is lowercased (so the feature reads the same in lowercased or uppercased text), digits become 0, and
it is wrapped in boundary marks: "Smith" -> "<smith>". Its n-grams are every substring of `min_n`..`max_n`
characters plus the whole wrapped word; each is hashed with CRC-32 (stable across processes and machines)
into rows 1..n_buckets-1 (row 0 is unused: the padding type has no n-grams). A name never seen in training
("Wojciechowski") still shares "ski>", "owsk"... with names that were.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import numpy as np

from ..nn.charbag import CharBag

_DIGIT = re.compile(r"\d")
MAX_WORD = 30                 # longer tokens (URLs) are cut: their n-grams past this say little


def ngram_rows(word: str, n_buckets: int, min_n: int, max_n: int) -> list[int]:
    """Hashed n-gram rows of one word type, duplicates kept (a repeated n-gram counts twice in the mean)."""
    w = "<" + _DIGIT.sub("0", word.lower()[:MAX_WORD]) + ">"
    grams = [w[i:i + n] for n in range(min_n, max_n + 1) for i in range(len(w) - n + 1)]
    if len(w) > max_n:
        grams.append(w)
    return [1 + zlib.crc32(g.encode("utf-8")) % (n_buckets - 1) for g in grams]


def char_bag(types: Sequence[str], n_buckets: int, min_n: int, max_n: int) -> CharBag:
    """CSR of the n-gram rows of `types`; type 0 is the padding type (give it as "", it gets no n-grams)."""
    return bag_of([ngram_rows(t, n_buckets, min_n, max_n) if t else [] for t in types])


def bag_of(per_type: Sequence[Sequence[int]]) -> CharBag:
    """CSR of the given n-gram rows of each type."""
    counts = np.fromiter((len(r) for r in per_type), dtype=np.int64, count=len(per_type))
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    flat = np.fromiter((j for r in per_type for j in r), dtype=np.int32, count=int(offsets[-1]))
    return CharBag(offsets, flat)
