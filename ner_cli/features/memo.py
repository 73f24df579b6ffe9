"""One memoised word -> integer encoder, shared by the vocabulary, the suffix table and the featurizer (which
also memoises each word type's character n-gram rows with it, through `values`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

MAX_ENTRIES = 1_000_000        # cleared beyond this, so memory stays flat on endless streams


class MemoEncoder:
    """Encodes words with `fn`, once per distinct surface form: a repeated word costs one dict hit."""

    def __init__(self, fn: Callable[[str], Any]) -> None:
        self.fn = fn
        self.cache: dict[str, int] = {}

    def __call__(self, words: Iterable[str]) -> np.ndarray:
        """(N,) int32 codes of a word sequence."""
        words = self._fill(words)
        return np.fromiter(map(self.cache.__getitem__, words), dtype=np.int32, count=len(words))

    def values(self, words: Iterable[str]) -> list[Any]:
        """fn(w) of each word, for an `fn` that gives something other than an int."""
        return list(map(self.cache.__getitem__, self._fill(words)))

    def _fill(self, words: Iterable[str]) -> list[str] | tuple[str, ...]:
        words = words if isinstance(words, list | tuple) else list(words)
        cache = self.cache
        if len(cache) > MAX_ENTRIES:
            cache.clear()
        fn = self.fn
        for w in set(words).difference(cache):                    # new surface forms only; the rest is C-level
            cache[w] = fn(w)
        return words
