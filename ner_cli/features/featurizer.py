"""Sentences -> integer arrays the network consumes: word-id windows, casing-id windows, target ids.

The whole corpus is encoded once, flat: one list comprehension over its words, one vectorised window build.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from ..nn.charbag import CharBag
from .casing import CASES, COMPOUND_LOWER, PAD_CASE, compound_case, compound_parts, head_part, word_case
from .chars import bag_of, ngram_rows
from .document import PAD_ELSEWHERE, apply_regime, elsewhere_ids, token_docs
from .gazetteer import Gazetteer
from .memo import MemoEncoder
from .mentions import BLANK, PAD_MENTION, mention_groups
from .vocab import PAD_ID, UNK_ID, Vocab
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
    elsewhere: np.ndarray | None = None  # (N, 2w+1) int8 "cased elsewhere in the document" ids (document.py)
    gazetteer: np.ndarray | None = None  # (N, 2w+1) int32 gazetteer-match ids (gazetteer.py)
    chars: np.ndarray | None = None      # (N, 2w+1) int32 word-type ids into char_bag (chars.py)
    char_bag: CharBag | None = None      # n-gram rows of each word type
    mentions: np.ndarray | None = None   # (N, 2w+1) int32 ids of the first pass's "other mentions" (mentions.py)
    mention_group: np.ndarray | None = None  # (N,) (document, lowercased word) group: set while pass 2 is to come
    docs: np.ndarray | None = None       # (N,) document of each token (decode-time consistency, nn/consistency.py)
    word_keys: np.ndarray | None = None  # (N,) one key per distinct word, <UNK> words told apart (`word_keys`)

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
    """Turns word sequences into windows for one model: its vocabulary, window size, casing and suffixes,
    and the document-level features (document.py) when the model has them."""

    vocab: Vocab
    window: int
    use_case: bool
    suffixes: SuffixTable | None = None
    case_regime: bool = False             # letter tokens of caseless documents get the casing id CASELESS
    doc_case: bool = False                # the "cased elsewhere in the document" ids
    gazetteer: Gazetteer | None = None    # name lists matched in each sentence
    chars: tuple[int, int, int] | None = None  # character n-grams: (rows of Q, min_n, max_n)
    mentions: bool = False                # the two-pass "other mentions" ids (mentions.py): blank until pass 2
    compounds: str = "none"               # hyphenated compounds: "case" own casing ids, "part" + read via a part

    def __post_init__(self) -> None:
        lookup = self.vocab.lookup
        # word -> id << CASE_BITS | case id: one dict hit per token for both
        if self.compounds == "none":
            self._encode_codes = MemoEncoder(lambda w: lookup(w) << CASE_BITS | word_case(w))
        else:
            # a part is looked up among the trained rows only: the fallback rows (features/fallback.py) join the
            # vocabulary after training, and a compound must read the same row in training as when tagging
            self._encode_codes = MemoEncoder(partial(compound_code, lookup=lookup, by_part=self.compounds == "part",
                                                     trained_rows=len(self.vocab.keys)))
        if self.chars is not None:                             # lowercased word -> its hashed n-gram rows
            n_buckets, min_n, max_n = self.chars
            self._ngrams = MemoEncoder(lambda t: ngram_rows(t, n_buckets, min_n, max_n))

    def encode(self, sentences: Sequence[Sequence[str]], targets: np.ndarray | None = None,
               docs: Sequence[int] | np.ndarray | None = None) -> Encoded:
        """Windows of every token. `docs` (S,): the document of each sentence (None: each its own)."""
        lengths = np.fromiter((len(s) for s in sentences), dtype=np.int64, count=len(sentences))
        return self.encode_flat([w for s in sentences for w in s], lengths, targets, docs)

    def encode_flat(self, flat: list[str], lengths: np.ndarray, targets: np.ndarray | None = None,
                    docs: Sequence[int] | np.ndarray | None = None) -> Encoded:
        """`encode` for sentences given flat: the words of all sentences in one list, and their lengths."""
        enc = self._encode_flat(flat, lengths, targets, docs)
        if self.mentions:                                      # pass 1 sees them blank (mentions.py)
            enc.mention_group = mention_groups(lower_keys(flat), enc.docs)
            enc.mentions = make_windows(np.full(len(flat), BLANK, dtype=np.int8), self.window, PAD_MENTION,
                                        lengths=lengths)
        return enc

    def _encode_flat(self, flat: list[str], lengths: np.ndarray, targets: np.ndarray | None = None,
                     docs: Sequence[int] | np.ndarray | None = None) -> Encoded:
        suffixes = gazetteer = chars = bag = elsewhere = None
        tok_doc = token_docs(lengths, None if docs is None else np.asarray(docs))
        if self.suffixes is not None:
            suffixes = make_windows(self.suffixes.encode(flat), self.window, 0, lengths=lengths)
        if self.gazetteer is not None:
            gazetteer = make_windows(self.gazetteer.encode(flat, lengths), self.window, 0, lengths=lengths)
        keys, types = lower_types(flat) if self.chars is not None or self.doc_case else (None, [])
        if self.chars is not None:                             # type 0 pads; type k + 1 is types[k]
            chars = make_windows((keys + 1).astype(np.int32), self.window, 0, lengths=lengths)
            bag = bag_of([[], *self._ngrams.values(types)])
        if not self.use_case:
            ids = self.vocab.encode(flat)
            words = make_windows(ids, self.window, PAD_ID, lengths=lengths)
            return Encoded(words, None, lengths, targets, suffixes, None, gazetteer, chars, bag, docs=tok_doc,
                           word_keys=word_keys(ids, flat))
        codes = self._encode_codes(flat)
        # a compound read through its part is still its own word for document consistency
        keys_of_words = word_keys(codes >> CASE_BITS, flat,
                                  (codes & CASE_MASK) >= COMPOUND_LOWER if self.compounds == "part" else None)
        if self.case_regime or self.doc_case:
            cases = codes & CASE_MASK
            if self.doc_case:
                elsewhere = make_windows(elsewhere_ids(keys, cases, lengths, tok_doc), self.window,
                                         PAD_ELSEWHERE, lengths=lengths)
            if self.case_regime:
                codes = codes - cases + apply_regime(cases, tok_doc)
        codes = make_windows(codes, self.window, PAD_ID << CASE_BITS | PAD_CASE, lengths=lengths)
        return Encoded(codes >> CASE_BITS, (codes & CASE_MASK).astype(np.int8), lengths, targets, suffixes,
                       elsewhere, gazetteer, chars, bag, docs=tok_doc, word_keys=keys_of_words)


def compound_code(word: str, lookup: Callable[[str], int], by_part: bool, trained_rows: int) -> int:
    """id << CASE_BITS | case id of one word, with the compound categories; `by_part`: a compound's id is its
    head part's ("based" for "Ontario-based") when that part has one of the first `trained_rows` rows, else its
    own."""
    parts = compound_parts(word)
    if parts is None:
        return lookup(word) << CASE_BITS | word_case(word)
    wid = lookup(head_part(parts)) if by_part else UNK_ID
    if wid == UNK_ID or wid >= trained_rows:
        wid = lookup(word)
    return wid << CASE_BITS | compound_case(parts)


def word_keys(ids: np.ndarray, flat: list[str], apart: np.ndarray | None = None) -> np.ndarray:
    """(N,) int64 one key per distinct word: its vocabulary id, or for an <UNK> word (they share one id) and
    for the tokens `apart` marks, a key above every id, one per lowercased form. Python work only for those."""
    keys = ids.astype(np.int64)
    unknown = np.flatnonzero(ids == UNK_ID if apart is None else (ids == UNK_ID) | apart)
    if len(unknown):
        index: dict[str, int] = {}
        keys[unknown] = int(keys.max()) + 1 + np.fromiter(
            (index.setdefault(flat[i].lower(), len(index)) for i in unknown.tolist()), dtype=np.int64,
            count=len(unknown))
    return keys


def lower_types(flat: list[str]) -> tuple[np.ndarray, list[str]]:
    """(N,) int64 ids of the lowercased words (equal lowercased forms get equal ids, first seen first) and
    the lowercased forms in id order."""
    index: dict[str, int] = {}
    ids = np.fromiter((index.setdefault(w.lower(), len(index)) for w in flat), dtype=np.int64, count=len(flat))
    return ids, list(index)


def lower_keys(flat: list[str]) -> np.ndarray:
    """(N,) int64 ids of the lowercased words: equal lowercased forms get equal ids (first seen, first id)."""
    return lower_types(flat)[0]
