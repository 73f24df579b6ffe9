"""Fallback rows: pretrained vectors for words that training never saw, added to the saved model.

The vocabulary holds the `pretrained_limit` most frequent GloVe words plus every training word; any other word is
`<UNK>` at tag time, one vector for all of them. Yet GloVe has 400,000 words, and a word that training never saw
gets no update anyway: its row would stay its pretrained vector. So after training, the GloVe words among the
`fallback_limit` most frequent that the vocabulary lacks are appended to the vocabulary and to E, with their
pretrained vectors: a name that CoNLL-2003 never mentions but GloVe knows now reads like the names it resembles.
The trained network is unchanged; only lookups that were `<UNK>` change. The rows are kept at 4-bit precision
(`modelfile.to_int4_rows`), in memory as in the file, so the dev F1 measured in training is the file's.

The words are the vocabulary's `tail`: sorted, as one array of fixed-width UTF-8 bytes, found by binary search
(`vocab.find_sorted`). A model file loads them as one array (~10 ms) instead of 92k JSON strings and dict
entries (~55 ms of `ner tag`'s start-up). Words longer than `MAX_BYTES` are left out (36 of the default 91,880:
URLs and rules of underscores), so the array stays narrow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..io.modelfile import from_int4_rows, to_int4_rows, vocab_rows
from .vocab import UNK_ID, Vocab, sorted_words

MAX_BYTES = 24          # the longest fallback word, in UTF-8 bytes: the width of the sorted words array


@dataclass
class Fallback:
    """Words not in the vocabulary and their pretrained vectors, as int4 rows (`to_int4_rows`)."""

    words: np.ndarray           # (n,) sorted distinct UTF-8 words (`vocab.sorted_words`)
    packed: np.ndarray          # (n, ⌈d/2⌉) uint8
    scale: np.ndarray           # (n,) float32
    dim: int

    def vectors(self, out: np.ndarray | None = None) -> np.ndarray:
        """(n, d) float32: the vectors as the model file keeps them (into `out` if given)."""
        return from_int4_rows(self.packed, self.scale, self.dim, out=out)


def select_fallback(words: list[str], vectors: np.ndarray, vocab: Vocab, limit: int) -> Fallback | None:
    """The pretrained words among the first `limit` that `vocab` reads as `<UNK>` (None if none), sorted: a word
    that has a row, or whose digit-normalised form has one ("1997" -> "0000"), keeps the row it trained with.
    Words of more than `MAX_BYTES` UTF-8 bytes or with a NUL are left out; of a word listed twice, the first."""
    if limit <= 0:
        return None
    keep: dict[str, int] = {}                                      # word -> its first row in `vectors`
    for i, w in enumerate(words[:limit]):
        if w and "\x00" not in w and len(w.encode("utf-8")) <= MAX_BYTES and vocab.lookup(w) == UNK_ID:
            keep.setdefault(w, i)
    if not keep:
        return None
    sorted_ = sorted_words(keep)
    rows = [keep[w.decode("utf-8")] for w in sorted_.tolist()]
    packed, scale = to_int4_rows(vectors[rows])
    return Fallback(sorted_, packed, scale, vectors.shape[1])


def extended_vocab(vocab: Vocab, fallback: Fallback | None) -> Vocab:
    """The vocabulary of the saved model: `vocab` with the fallback words after it (their rows follow E's)."""
    if fallback is None:
        return vocab
    return vocab.with_tail(fallback.words)


def with_fallback(params: dict[str, np.ndarray], meta: dict[str, Any], fallback: Fallback | None
                  ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """A model's arrays and metadata with the fallback rows appended to E and to the vocabulary (the metadata's
    vocab.fallback_rows says how many rows at the end of E are fallback rows, vocab.fallback_words holds their
    words, the numpy array that `modelfile` stores as a member of its own)."""
    if fallback is None:
        return params, meta
    E = params["E"]
    vocab = {**meta["vocab"], "fallback_rows": len(fallback.words), "fallback_words": fallback.words}
    full = np.empty((len(E) + len(fallback.words), E.shape[1]), dtype=E.dtype)
    full[:len(E)] = E
    fallback.vectors(out=full[len(E):])                            # no float32 copy of the rows first (18 MB)
    return {**params, "E": full}, _with(meta, vocab)


def without_fallback(params: dict[str, np.ndarray], meta: dict[str, Any]
                     ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The inverse of `with_fallback`: the model as trained, every word it never saw `<UNK>` again (for a paired
    comparison: the same network with and without the fallback rows)."""
    n = int(meta["vocab"].get("fallback_rows", 0))
    if not n:
        return params, meta
    vocab = {k: v for k, v in meta["vocab"].items() if k not in ("fallback_rows", "fallback_words")}
    if "fallback_words" not in meta["vocab"]:                   # format 4: the words ended the keys
        vocab["keys"] = vocab["keys"][:-n]
    return {**params, "E": params["E"][:-n]}, _with(meta, vocab)


def _with(meta: dict[str, Any], vocab: dict[str, Any]) -> dict[str, Any]:
    """`meta` with this vocabulary, and the spec's vocab_size to match."""
    return {**meta, "vocab": vocab, "spec": {**meta["spec"], "vocab_size": vocab_rows(vocab)}}
