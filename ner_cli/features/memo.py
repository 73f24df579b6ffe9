"""One memoised word -> integer encoder, shared by the vocabulary, the suffix table and the featurizer."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

MAX_ENTRIES = 1_000_000        # cleared beyond this, so memory stays flat on endless streams


class MemoEncoder:
    """Encodes words with `fn`, once per distinct surface form: a repeated word costs one dict hit."""

    def __init__(self, fn: Callable[[str], int]) -> None:
        self.fn = fn
        self.cache: dict[str, int] = {}

    def __call__(self, words: Iterable[str]) -> np.ndarray:
        """(N,) int32 codes of a word sequence."""
        words = words if isinstance(words, list | tuple) else list(words)
        cache = self.cache
        if len(cache) > MAX_ENTRIES:
            cache.clear()
        fn = self.fn
        for w in set(words).difference(cache):                    # new surface forms only; the rest is C-level
            cache[w] = fn(w)
        return np.fromiter(map(cache.__getitem__, words), dtype=np.int32, count=len(words))
