"""Inference: a loaded model that turns word sequences into IOB2 tags. Pickle-free, so easy to ship to workers.

    tagger = Tagger.load("models/conll2003.npz")          # or Tagger.from_bytes(data) inside a worker
    tagger.predict([["Peter", "lives", "in", "Lyon"]])     # -> [["B-PER", "O", "O", "B-LOC"]]

Data flows one way: words -> ids/casing (features) -> windows -> scores (model) -> decode -> tags.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .features.featurizer import Encoded, Featurizer, SuffixTable
from .features.vocab import Vocab
from .io.modelfile import load_model_arrays, model_bytes
from .nn import decode
from .nn.model import MAX_PADDED_TOKENS, ModelSpec, Params, length_groups, log_softmax, pad_by_lengths, scores
from .tags import iob2_label_map, transition_mask

CHUNK_TOKENS = 8192  # tokens decoded together (whole sentences): keeps memory flat on any corpus size
SCORE_ROWS = 1024    # tokens per matrix product: enough for BLAS, small enough that x and h stay in cache


class Tagger:
    """A model ready to tag: parameters, spec, vocabulary, labels and decoding settings."""

    def __init__(self, params: Params, meta: dict[str, Any]) -> None:
        self.params = params
        self.meta = meta
        self.spec = ModelSpec(**meta["spec"])
        v = meta["vocab"]
        self.vocab = Vocab(v["keys"], lowercase=v["lowercase"], digit_fallback=v["digit_fallback"])
        sx = meta.get("suffixes") if self.spec.suffix_dim else None
        suffixes = SuffixTable(sx["keys"], sx["length"]) if sx else None
        self.featurizer = Featurizer(self.vocab, self.spec.window, self.spec.case_dim > 0, suffixes)
        self.labels: list[str] = list(meta["labels"])           # in the model's scheme (IOB2 or IOBES)
        self.scheme: str = meta.get("tag_scheme", "IOB2")
        self.decoding: str = meta.get("decode", "viterbi")
        self.target: str | None = meta.get("target")
        if self.spec.task == "binary":
            self.out_labels, self._to_out = ["O", f"B-{self.target}", f"I-{self.target}"], None
        else:
            self.out_labels, to_out = iob2_label_map(self.labels)
            self._to_out = np.asarray(to_out, dtype=np.int64)      # model label id -> id into out_labels
        self._masks = transition_mask(self.labels, self.scheme) if self.spec.task != "binary" else None

    @classmethod
    def load(cls, source: str | Path | bytes) -> Tagger:
        """Load from a `.npz` path or its bytes (validated, allow_pickle=False)."""
        params, meta = load_model_arrays(source)
        return cls(params, meta)

    @classmethod
    def from_bytes(cls, data: bytes) -> Tagger:
        return cls.load(data)

    def to_bytes(self) -> bytes:
        """The model as `.npz` bytes, every array as it is in memory: `from_bytes` gives the same tagger."""
        return model_bytes(self.params, self.meta, store_dtype={})

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        """IOB2 tags for each sentence (a sequence of words)."""
        if not sentences:
            return []
        return self.predict_encoded(self.featurizer.encode(sentences))

    def predict_encoded(self, enc: Encoded) -> list[list[str]]:
        ids = self.predict_ids(enc)
        names = np.asarray(self.out_labels, dtype=object)
        flat = names[ids].tolist()
        bounds = np.cumsum(enc.lengths).tolist()
        return [flat[a:b] for a, b in zip([0, *bounds[:-1]], bounds, strict=True)]

    def predict_ids(self, enc: Encoded) -> np.ndarray:
        """(N,) ids into `out_labels` for an encoded corpus, scored and decoded in chunks of whole sentences."""
        out = np.empty(len(enc.words), dtype=np.int64)
        starts = enc.starts
        s = 0
        while s < len(enc.lengths):
            e = int(np.searchsorted(starts, starts[s] + CHUNK_TOKENS, side="left"))
            e = s + length_groups(enc.lengths[s:max(e, s + 1)], MAX_PADDED_TOKENS)[0][1]   # padding bounded too
            a, b = int(starts[s]), int(starts[e - 1] + enc.lengths[e - 1])
            out[a:b] = self._decode(self.scores(enc, a, b), enc.lengths[s:e])
            s = e
        return out

    def scores(self, enc: Encoded, a: int, b: int) -> np.ndarray:
        """Scores of tokens a..b of an encoded corpus (model.scores, SCORE_ROWS rows per matrix product)."""
        def rows(arr: np.ndarray | None, i: int) -> np.ndarray | None:
            return None if arr is None else arr[i:min(i + SCORE_ROWS, b)]

        blocks = [scores(self.params, self.spec, rows(enc.words, i), rows(enc.cases, i), rows(enc.suffixes, i))
                  for i in range(a, b, SCORE_ROWS)]
        return blocks[0] if len(blocks) == 1 else np.concatenate(blocks)

    def _decode(self, S: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Per-token scores of whole sentences -> output label ids."""
        if self.spec.task == "binary":
            return binary_runs(S > 0, lengths)
        if self.decoding == "argmax" and self.spec.loss != "crf":
            return self._to_out[S.argmax(axis=1)]
        start_ok, trans_ok, end_ok = self._masks if self.decoding == "viterbi" else (None, None, None)
        if self.spec.loss == "crf":
            trans, start, end = self.params["A"], self.params["A_start"], self.params["A_end"]
        else:
            S = log_softmax(S)                                     # path score = Σ log p(tag)
            trans = start = end = None
        S_pad, _, mask = pad_by_lengths(S, None, lengths)
        paths = decode.viterbi_batch(S_pad, lengths, trans=trans, start=start, end=end,
                                     allowed=trans_ok, start_ok=start_ok, end_ok=end_ok)
        return self._to_out[paths[mask]]


def binary_runs(positive: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Binary decisions -> ids into ["O", "B-C", "I-C"]: a run of positive tokens is one entity."""
    first = np.zeros(len(positive), dtype=bool)
    first[np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)[lengths > 0]] = True
    prev = np.concatenate(([False], positive[:-1])) & ~first
    return np.where(positive, np.where(prev, 2, 1), 0)
