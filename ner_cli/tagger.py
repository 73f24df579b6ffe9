"""Inference: a loaded model that turns word sequences into IOB2 tags. Pickle-free, so easy to ship to workers.

    tagger = Tagger.load("models/conll2003.npz")          # or Tagger.from_bytes(data) inside a worker
    tagger.predict([["Peter", "lives", "in", "Lyon"]])     # -> [["B-PER", "O", "O", "B-LOC"]]

Data flows one way: words -> ids/casing (features) -> windows -> scores (model) -> decode -> tags.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from .confidence import binary_span_scores, find_spans, span_scores
from .features.featurizer import Encoded, Featurizer, SuffixTable
from .features.gazetteer import Gazetteer
from .features.mentions import with_first_pass
from .features.vocab import Vocab
from .io.modelfile import QuantizedRows, load_model_arrays, model_bytes
from .nn import decode
from .nn.consistency import consistent_scores, recurring_groups, type_marginals
from .nn.model import (
    ModelSpec,
    Params,
    log_softmax,
    lookup_tables,
    scores,
    scores_from_types,
    table_products,
    type_products,
    type_rows,
)
from .nn.propagation import NamePropagation
from .tags import entity_types, iob2_label_map, tag_type, transition_mask

CHUNK_TOKENS = 32768  # tokens decoded together (whole sentences, never padded): keeps memory flat on any corpus size
SCORE_ROWS = 1024    # tokens per matrix product: enough for BLAS, small enough that x and h stay in cache
TYPE_MIN_TOKENS = 2048  # from this many tokens, score through per-type first-layer products (model.type_products)
TYPE_MAX_SHARE = 0.5    # ... unless the chunk has more distinct (word, case) types than this share of its tokens
TYPE_BLOCK_TOKENS = 32768  # tokens (whole sentences) that share one table of per-type products
# products kept across chunks (`TypeTable`): at most 192 MB (32,000 types of the default model), memory stays flat.
# Pages are touched only as types arrive: scoring CoNLL-2003 dev (~12k types) uses a fraction of it. 96 MB
# (16,000 types) held too few for the benchmark's 241k-token text (25k types), whose copies then recomputed; 160 MB
# (26,666) too few for its 5 copies' 26,947: each eviction of a quarter made later copies recompute, 70,516 types'
# products in all instead of 26,947 (in-process A/B, 6 runs each: median 3.10 -> 3.03 s).
TYPE_MAX_FLOATS = 48_000_000
# A loaded model's E stays as the file stores it (int8 and int4 rows) until tagging reads it: a text of fewer ids
# than this (window slots: 5 a token) dequantises only its rows (start-up ~20 ms less, a one-line `ner tag` peaks
# at 66 MB instead of 102), a larger one all of E at once (`Tagger._dequantise`).
LAZY_MAX_IDS = 5 * TYPE_MIN_TOKENS


class Tagger:
    """A model ready to tag: parameters, spec, vocabulary, labels and decoding settings."""

    def __init__(self, params: dict[str, np.ndarray | QuantizedRows], meta: dict[str, Any],
                 vocab: Vocab | None = None) -> None:
        """`vocab`: the vocabulary `meta` describes, already built (training's tagger of every epoch shares one)."""
        E = params.get("E")
        # E as the file stores it (`Tagger.load`): its rows are dequantised as words arrive (`_dequantise`)
        self._lazy: tuple[QuantizedRows, np.ndarray] | None = None
        if isinstance(E, QuantizedRows):
            self._lazy = (E, np.zeros(E.shape[0], dtype=bool))    # (stored rows, which rows are dequantised)
            E = np.empty(E.shape, dtype=np.float32)                # no page is touched until its rows are
        self._params: Params = params if self._lazy is None else {**params, "E": E}   # type: ignore[assignment]
        self.meta = meta
        self.spec = ModelSpec(**meta["spec"])
        v = meta["vocab"]
        self.vocab = vocab if vocab is not None else \
            Vocab(v["keys"], lowercase=v["lowercase"], digit_fallback=v["digit_fallback"], tail=v.get("fallback_words"))
        sx = meta.get("suffixes") if self.spec.suffix_dim else None
        suffixes = SuffixTable(sx["keys"], sx["length"]) if sx else None
        features = meta.get("features", {})
        gazetteer = Gazetteer.from_meta(meta["gazetteer"]) if self.spec.gaz_dim else None
        self.featurizer = Featurizer(self.vocab, self.spec.window, self.spec.case_dim > 0, suffixes,
                                     bool(features.get("case_regime")), self.spec.doc_dim > 0, gazetteer,
                                     (self.spec.n_char_buckets, self.spec.char_min_n, self.spec.char_max_n)
                                     if self.spec.char_dim else None, mentions=self.spec.mention_dim > 0,
                                     compounds=features.get("compounds", "none"))
        self.labels: list[str] = list(meta["labels"])           # in the model's scheme (IOB2 or IOBES)
        self.scheme: str = meta.get("tag_scheme", "IOB2")
        self.decoding: str = meta.get("decode", "viterbi")
        self.target: str | None = meta.get("target")
        if self.spec.task == "binary":
            self.out_labels, self._to_out = ["O", f"B-{self.target}", f"I-{self.target}"], None
        else:
            self.out_labels, to_out = iob2_label_map(self.labels)
            self._to_out = np.asarray(to_out, dtype=np.int64)      # model label id -> id into out_labels
        self._type_table: TypeTable | None = None                 # per-type products, kept across chunks
        self.type_floats = TYPE_MAX_FLOATS                        # their memory at most; 0: score token by token
        self._masks = transition_mask(self.labels, self.scheme) if self.spec.task != "binary" else None
        types = entity_types(self.out_labels)                   # output id -> 0 (O) or 1 + its entity type
        self._n_types = len(types)
        self._mention_types = np.array([types.index(tag_type(t)) + 1 if t != "O" else 0 for t in self.out_labels])
        # the weight of document consistency at decode time (nn/consistency.py); a CRF's only: 0 otherwise
        self.consistency = float(meta.get("consistency", 0.0)) if self.spec.loss == "crf" else 0.0
        # name propagation at decode time (nn/propagation.py): a multi-class model's, for a type it has
        entity = meta.get("name_propagation")
        self._propagation = NamePropagation(self.labels, self.out_labels, self._to_out, self.scheme, entity) \
            if entity and self.spec.task != "binary" and entity in types else None

    @classmethod
    def load(cls, source: str | Path | bytes) -> Tagger:
        """Load from a `.npz` path or its bytes (validated, allow_pickle=False). E stays as stored until tagging
        reads its rows (`_dequantise`): ~20 ms less start-up for the built-in model."""
        params, meta = load_model_arrays(source, lazy=("E",))
        return cls(params, meta)

    @property
    def params(self) -> Params:
        """Every parameter array (E wholly dequantised on first access: tagging reads only the rows it needs)."""
        self._dequantise(None)
        return self._params

    @params.setter
    def params(self, value: Params) -> None:
        self._params, self._lazy = value, None

    def _dequantise(self, words: np.ndarray | None) -> None:
        """Make the rows of E that `words` (ids, any shape) name ready to read; None: every row. A text of
        LAZY_MAX_IDS ids or more reads a good part of E: every row is then dequantised at once, in order, which
        keeps tagging a large text as fast as with E dequantised at load (row by row it was 7-13% slower)."""
        lazy = self._lazy
        if lazy is None:
            return
        rows, ready = lazy
        if words is None or words.size >= LAZY_MAX_IDS:
            rows.full(out=self._params["E"])
            self._lazy = None
            return
        need = np.zeros(len(ready), dtype=bool)      # not np.unique: it would import numpy.ma (~14 ms of start-up)
        need[words[~ready[words]]] = True
        need = np.flatnonzero(need)
        if len(need):
            rows.into(self._params["E"], need)
            ready[need] = True                                    # after the values: a reader never sees garbage

    @classmethod
    def from_bytes(cls, data: bytes) -> Tagger:
        return cls.load(data)

    def to_bytes(self) -> bytes:
        """The model as `.npz` bytes, every array as it is in memory: `from_bytes` gives the same tagger (its
        document consistency as set on this one too)."""
        return model_bytes(self.params, {**self.meta, "consistency": self.consistency}, store_dtype={})

    def predict(self, sentences: Sequence[Sequence[str]], docs: Sequence[int] | None = None) -> list[list[str]]:
        """IOB2 tags for each sentence (a sequence of words). `docs`: the document of each sentence, for the
        document features (None: each sentence is a document of its own). A string is refused: a sentence is a
        list of words."""
        _check_sentences(sentences)
        if not sentences:
            return []
        return self.predict_encoded(self.featurizer.encode(sentences, docs=docs))

    def predict_scored(self, sentences: Sequence[Sequence[str]], docs: Sequence[int] | None = None
                       ) -> tuple[list[list[str]], list[list[tuple[str, int, int, float]]]]:
        """IOB2 tags and, per sentence, its entities as (type, first token, end token exclusive, probability).

        The probability is the entity's span marginal (`ner_cli.confidence`): forward-backward over the
        decoder's constrained lattice for a CRF, the per-token softmax otherwise, sigmoids for a binary model.
        """
        _check_sentences(sentences)
        if not sentences:
            return [], []
        enc = self.featurizer.encode(sentences, docs=docs)
        ids, starts, ends, probs = self.predict_ids_scored(enc)
        sentence = np.searchsorted(enc.starts, starts, side="right") - 1
        first = enc.starts[sentence]
        type_of = [tag_type(lab) for lab in self.out_labels]
        entities: list[list[tuple[str, int, int, float]]] = [[] for _ in sentences]
        for k, a, b, t, p in zip(sentence.tolist(), (starts - first).tolist(), (ends - first).tolist(),
                                 ids[starts].tolist(), probs.tolist(), strict=True):
            entities[k].append((type_of[t], a, b, p))
        return self._split(ids, enc.lengths), entities

    def predict_flat(self, words: list[str], lengths: np.ndarray, docs: np.ndarray | None = None) -> np.ndarray:
        """(N,) ids into `out_labels` for sentences given flat: all their words in one list, their lengths and
        (optionally) the document of each sentence."""
        if not words:
            return np.zeros(0, dtype=np.int64)
        return self.predict_ids(self.featurizer.encode_flat(words, lengths, docs=docs))

    def predict_flat_scored(self, words: list[str], lengths: np.ndarray, docs: np.ndarray | None = None
                            ) -> tuple[np.ndarray, np.ndarray]:
        """`predict_flat`, and the probability of each entity, in order (the chunks `tags.chunk_spans` finds in
        the ids, cut at sentence starts)."""
        if not words:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        ids, _, _, probs = self.predict_ids_scored(self.featurizer.encode_flat(words, lengths, docs=docs))
        return ids, probs

    def predict_encoded(self, enc: Encoded) -> list[list[str]]:
        return self._split(self.predict_ids(enc), enc.lengths)

    def _split(self, ids: np.ndarray, lengths: np.ndarray) -> list[list[str]]:
        """Flat output ids -> a list of tag names per sentence."""
        flat = np.asarray(self.out_labels, dtype=object)[ids].tolist()
        bounds = np.cumsum(lengths).tolist()
        return [flat[a:b] for a, b in zip([0, *bounds[:-1]], bounds, strict=True)]

    def predict_ids(self, enc: Encoded, propagate: bool = True) -> np.ndarray:
        """(N,) ids into `out_labels` for an encoded corpus, scored and decoded in chunks of whole sentences;
        `propagate=False` leaves name propagation out (a two-pass model's first pass)."""
        if enc.mention_group is not None:                        # two passes (features/mentions.py)
            enc = self._second_pass(enc)
        paths = np.empty(len(enc.words), dtype=np.int64)
        for s, e, a, b, S, _ in self._scored_chunks(enc):
            paths[a:b] = self._paths(S, enc.lengths[s:e])
        paths = self._propagated(paths, enc) if propagate else paths
        return paths if self._to_out is None else self._to_out[paths]

    def predict_ids_scored(self, enc: Encoded) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Like `predict_ids`, plus every entity (conlleval's chunks of the output, in order) as flat token
        (starts, ends exclusive) and its probability (`ner_cli.confidence`)."""
        if enc.mention_group is not None:                        # two passes (features/mentions.py)
            enc = self._second_pass(enc)
        paths = np.empty(len(enc.words), dtype=np.int64)
        chunks = []
        for s, e, a, b, S, S_own in self._scored_chunks(enc):     # every path first: names cross chunks
            paths[a:b] = self._paths(S, enc.lengths[s:e])
            chunks.append((s, e, a, b, S, S_own))
        paths = self._propagated(paths, enc)
        out = paths if self._to_out is None else self._to_out[paths]
        found = [self._entities(S, S_own, enc.lengths[s:e], paths[a:b], out[a:b], a)
                 for s, e, a, b, S, S_own in chunks]
        if not found:
            return out, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        starts, ends, probs = (np.concatenate(x) for x in zip(*found, strict=True))
        return out, starts, ends, probs

    def _entities(self, S: np.ndarray, S_own: np.ndarray, lengths: np.ndarray, paths: np.ndarray, out: np.ndarray,
                  a: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The entities of one chunk of whole sentences (first token `a`): flat (starts, ends exclusive) and their
        probabilities, from its decoded `paths` (the model's labels) and `out` (output ids)."""
        starts, ends = find_spans(out, lengths, self.out_labels)
        if self.spec.task == "binary":
            p = binary_span_scores(S, lengths, starts, ends)
        else:
            crf = (self._params["A"], self._params["A_start"], self._params["A_end"]) \
                if self.spec.loss == "crf" else None
            masks = self._masks if crf is not None and self.decoding == "viterbi" else None
            p = span_scores(S_own, lengths, paths, starts, ends, labels=self.labels, scheme=self.scheme,
                            crf=crf, masks=masks)
        return starts + a, ends + a, p

    def _propagated(self, paths: np.ndarray, enc: Encoded) -> np.ndarray:
        """Decoded paths (N,) with name propagation applied across each document (nn/propagation.py)."""
        if self._propagation is None or enc.docs is None or enc.word_keys is None:
            return paths
        cases = None if enc.cases is None else enc.cases[:, self.spec.window]
        return self._propagation.apply(paths, enc.lengths, enc.docs, enc.word_keys, cases)

    def _scored_chunks(self, enc: Encoded) -> Iterator[tuple[int, int, int, int, np.ndarray, np.ndarray]]:
        """(first sentence, end sentence, first token, end token, scores to decode, the network's own scores) of
        each chunk (`_typed_chunks`; none when every sentence is empty). With document consistency, every chunk
        is scored first, then the scores to decode are adjusted across the documents (`document_scores`). An
        entity's probability comes from the network's own scores: its calibration on CoNLL-2003 dev (built-in
        model) is ECE 0.023 that way, 0.033 from the adjusted scores, which count each mention's own evidence
        twice."""
        if len(enc.words) == 0:
            return
        if not self.consistency or self.spec.loss != "crf" or enc.docs is None or enc.word_keys is None:
            for s, e, a, b, types in self._typed_chunks(enc):
                S = self.scores(enc, a, b, types)
                yield s, e, a, b, S, S
            return
        chunks = [(s, e, a, b, self.scores(enc, a, b, types)) for s, e, a, b, types in self._typed_chunks(enc)]
        for (s, e, a, b, S), adjusted in zip(chunks, self.document_scores(enc, chunks), strict=True):
            yield s, e, a, b, adjusted, S

    def document_scores(self, enc: Encoded, chunks: list[tuple[int, int, int, int, np.ndarray]]
                        ) -> list[np.ndarray]:
        """The scores of each chunk (first sentence, end sentence, first token, end token, scores) of `enc`, all
        of them, adjusted by document consistency (nn/consistency.py)."""
        rows, group = recurring_groups(enc.word_keys, enc.docs)
        crf = (self._params["A"], self._params["A_start"], self._params["A_end"])
        masks = self._masks if self.decoding == "viterbi" else None
        cut = np.searchsorted(rows, [c[2] for c in chunks] + [len(enc.words)])      # each chunk's recurring rows
        q = [type_marginals(S, enc.lengths[s:e], crf, masks, self._label_types, rows[cut[i]:cut[i + 1]] - a)
             for i, (s, e, a, _, S) in enumerate(chunks) if cut[i + 1] > cut[i]]
        if not q:
            return [c[4] for c in chunks]
        S_all = consistent_scores(np.concatenate([c[4] for c in chunks]), rows, np.concatenate(q), group,
                                  self._label_types, self.consistency)
        return [S_all[a:b] for _, _, a, b, _ in chunks]

    def _second_pass(self, enc: Encoded) -> Encoded:
        """`enc` with the "other mentions" ids of pass 1's tags (pass 1: the same network, those ids blank)."""
        first = self.predict_ids(replace(enc, mention_group=None), propagate=False)
        return with_first_pass(enc, first, self._mention_types, self._n_types, self.spec.window)

    def _typed_chunks(self, enc: Encoded):
        """`_chunks`, each with the per-type products of its block of ~TYPE_BLOCK_TOKENS whole sentences (None
        when scoring token by token is cheaper); a chunk never leaves its block. Score each chunk before asking
        for the next: the next block's types may take the `TypeTable` rows of this one's."""
        starts = enc.starts
        type_ids = np.empty(enc.words.shape[::-1], dtype=np.intp)
        s = 0
        while s < len(enc.lengths):
            f = max(int(np.searchsorted(starts, starts[s] + TYPE_BLOCK_TOKENS, side="left")), s + 1)
            types = self._types(enc, int(starts[s]), int(starts[f - 1] + enc.lengths[f - 1]), type_ids)
            for chunk in self._chunks(enc, s, f):
                yield (*chunk, types)
            s = f

    @staticmethod
    def _chunks(enc: Encoded, first: int = 0, last: int | None = None):
        """(first sentence, end sentence, first token, end token) of chunks of ~CHUNK_TOKENS whole sentences,
        over sentences first..last."""
        starts = enc.starts
        last = len(enc.lengths) if last is None else last
        s = first
        while s < last:
            e = min(max(int(np.searchsorted(starts, starts[s] + CHUNK_TOKENS, side="left")), s + 1), last)
            yield s, e, int(starts[s]), int(starts[e - 1] + enc.lengths[e - 1])
            s = e

    def _types(self, enc: Encoded, a: int = 0, b: int | None = None, type_ids: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray] | None:
        """The (word, case) types of an encoded chunk for `model.type_products`: (P, rows of P per window slot,
        (2w+1, N) from `model.type_rows`), or None when x has other tables (suffix, document, gazetteer,
        characters) or scoring token by token is cheaper. Only tokens a..b are typed; their rows go to columns
        a..b of `type_ids`. P is the tagger's `TypeTable`, which keeps the products of earlier chunks' types."""
        b = len(enc.words) if b is None else b
        if any(name not in ("E", "K", "M") for name, _, _ in lookup_tables(self.spec)) or b - a < TYPE_MIN_TOKENS:
            return None                                            # x holds more than word, casing and mention rows
        codes = enc.words[a:b].astype(np.int64) * self.spec.n_cases   # (n, 2w+1) one code per (word, case)
        if enc.cases is not None:
            codes += enc.cases[a:b]
        centre = codes[:, self.spec.window]
        uniq = np.unique(np.concatenate([centre, codes[:1, 0], codes[-1:, -1]]))   # + the padding code(s)
        capacity = self.type_floats // (self.spec.width * self.spec.hidden)
        if len(uniq) > TYPE_MAX_SHARE * len(centre) or len(uniq) > capacity:
            return None
        self._dequantise(enc.words[a:b])
        if self._type_table is None:
            self._type_table = TypeTable(self._params, self.spec, capacity, enc.cases is not None)
        table = self._type_table
        table.add(uniq)
        if type_ids is None:
            type_ids = np.empty(enc.words.shape[::-1], dtype=np.intp)
        type_ids[:, a:b] = type_rows(table.slot[codes], self.spec)
        return table.P, type_ids

    def scores(self, enc: Encoded, a: int, b: int, types: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """Scores of tokens a..b of an encoded corpus, SCORE_ROWS rows at a time: `model.scores`, or with `types`
        (from `_types`) `model.scores_from_types`, which adds precomputed rows instead of multiplying."""
        def rows(arr: np.ndarray | None, i: int) -> np.ndarray | None:
            return None if arr is None else arr[i:min(i + SCORE_ROWS, b)]

        if types is not None:
            P, ids = types
            PM = self._mention_products if enc.mentions is not None and "M" in self._params else None
            blocks = [scores_from_types(self._params, self.spec, P, ids[:, i:min(i + SCORE_ROWS, b)],
                                        None if PM is None else (PM, type_rows(rows(enc.mentions, i), self.spec)))
                      for i in range(a, b, SCORE_ROWS)]
        else:
            self._dequantise(enc.words[a:b])
            blocks = [scores(self._params, self.spec, rows(enc.words, i), rows(enc.cases, i), rows(enc.suffixes, i),
                             rows(enc.elsewhere, i), rows(enc.gazetteer, i), rows(enc.chars, i), enc.char_bag,
                             rows(enc.mentions, i))
                      for i in range(a, b, SCORE_ROWS)]
        return blocks[0] if len(blocks) == 1 else np.concatenate(blocks)

    @functools.cached_property
    def _label_types(self) -> np.ndarray:
        """(C,) 0 for O, 1 + the entity type of each label of the model's scheme (ordered as `_n_types`)."""
        types = entity_types(self.out_labels)
        return np.array([types.index(tag_type(t)) + 1 if t != "O" else 0 for t in self.labels])

    @functools.cached_property
    def _mention_products(self) -> np.ndarray:
        """Rows W_k^M M(m) of every mention id m and slot k ((2w+1)·n_mention, H): pass 2's mention ids add
        their rows to the (word, case) types' ones (features/mentions.py)."""
        return table_products(self._params, self.spec, "M").reshape(-1, self.spec.hidden)

    def _decode(self, S: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Per-token scores of whole sentences -> output label ids."""
        paths = self._paths(S, lengths)
        return paths if self._to_out is None else self._to_out[paths]

    def _paths(self, S: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Per-token scores of whole sentences -> ids into `labels` (the model's scheme); binary: output ids."""
        if self.spec.task == "binary":
            return binary_runs(S > 0, lengths)
        if self.decoding == "argmax" and self.spec.loss != "crf":
            return S.argmax(axis=1)
        start_ok, trans_ok, end_ok = self._masks if self.decoding == "viterbi" else (None, None, None)
        if self.spec.loss == "crf":
            trans, start, end = self._params["A"], self._params["A_start"], self._params["A_end"]
        else:
            S = log_softmax(S)                                     # path score = Σ log p(tag)
            trans = start = end = None
        return decode.viterbi_flat(S, lengths, trans=trans, start=start, end=end, allowed=trans_ok,
                                   start_ok=start_ok, end_ok=end_ok)


class TypeTable:
    """First-layer products of (word, case) types (`model.type_products`), kept across chunks: a chunk computes
    the products of only the types no earlier chunk had. Type code = word id · n_cases + case id; `slot[code]` is
    its type id (rows (2w+1)·id .. of P), -1 when absent. At most `capacity` types: when a chunk's new types do
    not fit, the least recently used quarter of the table makes room (frequent words stay)."""

    def __init__(self, params: Params, spec: ModelSpec, capacity: int, cased: bool) -> None:
        self.params, self.spec, self.capacity, self.cased = params, spec, capacity, cased
        self.slot = np.full(spec.vocab_size * spec.n_cases, -1, dtype=np.int32)
        self.codes = np.empty(capacity, dtype=np.int64)           # the code of each type id
        self.used = np.zeros(capacity, dtype=np.int64)            # the last `add` that used each type id
        # allocated whole but written in type-id order, so only the pages of the types seen so far are resident
        self.P = np.empty((capacity * spec.width, spec.hidden), dtype=params["W"].dtype)
        self.size = 0                                              # type ids handed out so far
        self.free = np.zeros(0, dtype=np.int64)                    # ... and those evicted since
        self.scratch = np.empty(0, dtype=self.P.dtype)             # room for one chunk's new products
        self.clock = 0

    def add(self, codes: np.ndarray) -> None:
        """Products for every code of `codes` (distinct, at most `capacity` of them), computing only new ones."""
        self.clock += 1
        ids = self.slot[codes]
        self.used[ids[ids >= 0]] = self.clock
        new = codes[ids < 0]
        if len(new) == 0:
            return
        ids = self._room(len(new))
        n_cases, size = self.spec.n_cases, len(new) * self.spec.width * self.spec.hidden
        rows = self.P.reshape(self.capacity, -1)                   # one row of (2w+1)·H per type id
        if (np.diff(ids) == 1).all():                             # fresh ids (a run): computed in place
            buffer = rows[ids[0]:ids[-1] + 1].reshape(-1)
        else:                                                      # evicted ids: computed aside, then scattered
            if len(self.scratch) < size:                           # one buffer, reused: no fresh pages per chunk
                self.scratch = np.empty(int(size * 1.25), dtype=self.P.dtype)
            buffer = self.scratch
        products = type_products(self.params, self.spec, new // n_cases, new % n_cases if self.cased else None,
                                 buffer)
        if buffer is self.scratch:
            rows[ids] = products.reshape(len(new), -1)
        self.slot[new] = ids
        self.codes[ids] = new
        self.used[ids] = self.clock

    def _room(self, k: int) -> np.ndarray:
        """k free type ids: never used ones first, else evicted ones (a quarter of the table at least, least
        recently used first, never one the current `add` uses)."""
        fresh = np.arange(self.size, min(self.size + k, self.capacity))
        self.size += len(fresh)
        self.used[fresh] = self.clock                              # (taken: not a victim below)
        if len(fresh) < k and len(self.free) < k - len(fresh):
            idle = np.flatnonzero(self.used < self.clock)           # (the table is full: all ids handed out)
            m = min(max(k, self.capacity // 4), len(idle))
            victims = idle[np.argpartition(self.used[idle], m - 1)[:m]] if m < len(idle) else idle
            self.slot[self.codes[victims]] = -1
            self.used[victims] = np.iinfo(np.int64).max            # free: never a victim again until reused
            self.free = np.concatenate([self.free, victims])
        take = k - len(fresh)
        ids, self.free = np.concatenate([fresh, self.free[:take]]), self.free[take:]
        return ids


def _check_sentences(sentences: object) -> None:
    """A list of word lists; a string (or a list of strings) would be tagged character by character."""
    if isinstance(sentences, str) or (isinstance(sentences, Sequence) and len(sentences) > 0
                                      and isinstance(sentences[0], str)):
        raise TypeError("predict takes a list of sentences, each a list of words, e.g. [['Ana', 'flew']]; "
                        "for lines of raw text use ner_cli.api.records or ner_cli.api.tag")


def binary_runs(positive: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Binary decisions -> ids into ["O", "B-C", "I-C"]: a run of positive tokens is one entity."""
    first = np.zeros(len(positive), dtype=bool)
    first[np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)[lengths > 0]] = True
    prev = np.concatenate(([False], positive[:-1])) & ~first
    return np.where(positive, np.where(prev, 2, 1), 0)
