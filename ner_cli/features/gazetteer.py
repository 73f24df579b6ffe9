"""Gazetteer features: does this token begin or continue an entry of a list of names (cities, first names...)?

Each list is a set of entries, each a tuple of lowercased tokens ("new", "york"). Matching is case-blind, so a
lowercased or all-caps text matches like a cased one. In a sentence, each list is matched on its own, left to
right, longest entry first, without overlaps; a token gets per list one state: 0 (no match), 1 (first token
of a match) or 2 (a later token). The token's gazetteer id packs the states of all lists in base 3,
id = Σ_i state_i · 3^i, and indexes the model's table G (0 is also the window padding: "no list matches").

The lists are stored in the model file (see `to_meta`), so tagging needs none of the packages they came from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


class Gazetteer:
    """Named lists of entries (tuples of lowercased tokens), matched in sentences."""

    def __init__(self, lists: Mapping[str, Sequence[Sequence[str]]]) -> None:
        self.names = list(lists)
        self.entries: dict[tuple[str, ...], int] = {}        # entry -> bit mask of the lists holding it
        for i, name in enumerate(self.names):
            for entry in lists[name]:
                key = tuple(t.lower() for t in entry)
                if key:
                    self.entries[key] = self.entries.get(key, 0) | 1 << i
        self.max_len = max((len(k) for k in self.entries), default=1)
        self.firsts: dict[str, int] = {}                        # first token -> longest entry starting with it
        for key in self.entries:
            self.firsts[key[0]] = max(self.firsts.get(key[0], 0), len(key))

    @property
    def n_ids(self) -> int:
        """Rows of G: 3 ** (number of lists)."""
        return 3 ** len(self.names)

    def to_meta(self) -> dict[str, list[str]]:
        """{list name: entries as space-joined strings}, for the model file's JSON metadata."""
        out: dict[str, list[str]] = {name: [] for name in self.names}
        for key, mask in self.entries.items():
            for i, name in enumerate(self.names):
                if mask >> i & 1:
                    out[name].append(" ".join(key))
        return {name: sorted(v) for name, v in out.items()}

    @classmethod
    def from_meta(cls, meta: Mapping[str, Sequence[str]]) -> Gazetteer:
        return cls({name: [e.split(" ") for e in entries] for name, entries in meta.items()})

    def encode(self, flat: Sequence[str], lengths: np.ndarray) -> np.ndarray:
        """(N,) int32 gazetteer id of every token of sentences given flat, with their lengths (S,)."""
        lowered = [w.lower() for w in flat]
        firsts = self.firsts
        states = np.zeros((len(self.names), len(flat)), dtype=np.int32)
        ends = np.cumsum(lengths)
        sentence_end = np.repeat(ends, lengths)                 # (N,) one past the sentence's last token
        busy = np.zeros(len(self.names), dtype=np.int64)       # per list: first position not yet covered
        for t in (i for i, w in enumerate(lowered) if w in firsts):   # only tokens that can open an entry
            longest = min(firsts[lowered[t]], int(sentence_end[t]) - t)
            free = busy <= t
            for n in range(longest, 0, -1):                     # longest match first
                mask = self.entries.get(tuple(lowered[t:t + n]), 0)
                if not mask:
                    continue
                for i in range(len(self.names)):
                    if mask >> i & 1 and free[i]:
                        states[i, t] = 1
                        states[i, t + 1:t + n] = 2
                        busy[i] = t + n
                        free[i] = False
                if not free.any():
                    break
        powers = 3 ** np.arange(len(self.names), dtype=np.int32)
        return (powers @ states).astype(np.int32)
