"""The numbers: scores that match conlleval.pl (phrase-level precision, recall and FB1, token accuracy, per
type), the token confusion matrix, token-level scores of one class, and `evaluate`, which computes them all.
Text renderings of these numbers are in `render`.

Chunks are read with conlleval's start/end rules (`ner_cli.tags.get_entities`); a predicted phrase is
correct when a gold phrase has the same type, first token and last token. Sentences are scored as if
separated by conlleval's blank lines, so no phrase crosses a sentence boundary.

>>> s = conlleval_scores([["B-PER", "I-PER", "O"]], [["B-PER", "I-PER", "B-LOC"]])
>>> (s.phrases_gold, s.phrases_found, s.phrases_correct, s.correct_tags, s.tokens)
(1, 2, 1, 2, 3)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from itertools import zip_longest
from typing import Any

import numpy as np

from .tags import chunk_arrays, encode_tags, label_order, only_type, tag_ids


@dataclass
class TypeScores:
    """Phrase-level scores of one entity type; percentages 0..100 as conlleval prints them."""

    precision: float
    recall: float
    f1: float
    support: int  # gold phrases of this type
    predicted: int  # found phrases of this type (the count conlleval prints at the end of the line)
    correct: int


@dataclass
class Scores:
    """conlleval's counts and scores; percentages 0..100."""

    tokens: int
    phrases_gold: int
    phrases_found: int
    phrases_correct: int
    correct_tags: int
    accuracy: float
    precision: float
    recall: float
    f1: float
    per_type: dict[str, TypeScores] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain nested dict (JSON-ready)."""
        return asdict(self)


def _percent(part: int, whole: int) -> float:
    """100 * part / whole, in conlleval's order of operations; 0.0 when whole is 0."""
    return 100 * part / whole if whole > 0 else 0.0


def _f1(precision: float, recall: float) -> float:
    """Harmonic mean of two percentages as conlleval computes it; 0.0 when both are 0."""
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def _flatten_pairs(
    gold: Iterable[Sequence[str]], pred: Iterable[Sequence[str]], boundary: bool = True
) -> tuple[list[str], list[str], int]:
    """Each side as one flat tag list (each sentence then ``O`` if `boundary`), and the sentence count."""
    flat_gold: list[str] = []
    flat_pred: list[str] = []
    missing = object()
    n = 0
    for n, (g, p) in enumerate(zip_longest(gold, pred, fillvalue=missing), start=1):
        if g is missing or p is missing:
            raise ValueError(f"gold and predicted differ in number of sentences (from sentence {n} on)")
        if len(g) != len(p):
            raise ValueError(f"sentence {n}: {len(g)} gold tags but {len(p)} predicted tags")
        flat_gold.extend(g)
        flat_pred.extend(p)
        if boundary:
            flat_gold.append("O")
            flat_pred.append("O")
    return flat_gold, flat_pred, n


def _chunks(tags: list[str], types: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts, ends, type ids into `types`) of the chunks of a boundary-separated tag list."""
    starts, ends, type_ids, own_types = chunk_arrays(tags)
    to_shared = np.array([types.index(t) for t in own_types], dtype=np.int64)
    return starts, ends, to_shared[type_ids]


def _type_scores(found_gold: int, found: int, correct: int) -> TypeScores:
    """One type's scores from its three counts, with conlleval's zero rules."""
    precision, recall = _percent(correct, found), _percent(correct, found_gold)
    return TypeScores(precision, recall, _f1(precision, recall), found_gold, found, correct)


def conlleval_scores(gold: Iterable[Sequence[str]], pred: Iterable[Sequence[str]]) -> Scores:
    """Score predicted tags against gold tags, one sequence per sentence, exactly as conlleval.pl would.

    Raises ValueError when the numbers of sentences or of tags in a sentence differ, or on a non-tag.
    """
    flat_gold, flat_pred, n_sentences = _flatten_pairs(gold, pred)
    types = sorted({*encode_tags(flat_gold)[2], *encode_tags(flat_pred)[2]})  # "" first, never a chunk
    g_start, g_end, g_type = _chunks(flat_gold, types)
    p_start, p_end, p_type = _chunks(flat_pred, types)

    # at most one chunk starts at a token, so match gold and predicted chunks by their first token
    _, gi, pi = np.intersect1d(g_start, p_start, assume_unique=True, return_indices=True)
    hit = (g_end[gi] == p_end[pi]) & (g_type[gi] == p_type[pi])

    n_types = len(types)
    gold_counts = np.bincount(g_type, minlength=n_types)
    found_counts = np.bincount(p_type, minlength=n_types)
    correct_counts = np.bincount(g_type[gi][hit], minlength=n_types)

    ids, _ = tag_ids(flat_gold + flat_pred)  # one vocabulary for both sides
    gold_ids, pred_ids = ids[: len(flat_gold)], ids[len(flat_gold) :]
    tokens = len(flat_gold) - n_sentences  # the boundaries are not tokens (and always agree)
    correct_tags = int(np.count_nonzero(gold_ids == pred_ids)) - n_sentences

    per_type = {
        types[t]: _type_scores(int(gold_counts[t]), int(found_counts[t]), int(correct_counts[t]))
        for t in np.flatnonzero(gold_counts + found_counts)
    }
    correct = int(hit.sum())
    precision, recall = _percent(correct, len(p_start)), _percent(correct, len(g_start))
    return Scores(
        tokens=tokens,
        phrases_gold=len(g_start),
        phrases_found=len(p_start),
        phrases_correct=correct,
        correct_tags=correct_tags,
        accuracy=_percent(correct_tags, tokens),
        precision=precision,
        recall=recall,
        f1=_f1(precision, recall),
        per_type=per_type,
    )


def confusion_matrix(
    gold: Iterable[Sequence[str]], pred: Iterable[Sequence[str]], labels: Sequence[str]
) -> np.ndarray:
    """Token-level (C, C) int64 counts: rows gold label, columns predicted label, in the order of `labels`.

    Raises ValueError on a length mismatch or on a tag that is not among `labels`.
    """
    flat_gold, flat_pred, _ = _flatten_pairs(gold, pred, boundary=False)
    index = {label: i for i, label in enumerate(labels)}
    ids, names = tag_ids(flat_gold + flat_pred)
    unknown = sorted(set(names) - index.keys())
    if unknown:
        raise ValueError(f"tags not among the labels: {unknown}")
    ids = np.array([index[name] for name in names], dtype=np.int64)[ids]  # ids into `labels`
    n, c = len(flat_gold), len(labels)
    return np.bincount(ids[:n] * c + ids[n:], minlength=c * c).reshape(c, c).astype(np.int64)


def token_scores(
    gold: Iterable[Sequence[str]], pred: Iterable[Sequence[str]], target: str
) -> tuple[float, float, float]:
    """Token-level (precision, recall, F1) in percent for one entity type.

    A token counts as `target` when its tag has that type, whatever the prefix; 0.0 where a denominator is 0.
    """
    flat_gold, flat_pred, _ = _flatten_pairs(gold, pred, boundary=False)
    _, type_ids, types = encode_tags(flat_gold + flat_pred)
    if target not in types:
        return 0.0, 0.0, 0.0
    is_target = type_ids == types.index(target)
    n = len(flat_gold)
    in_gold, in_pred = is_target[:n], is_target[n:]
    both = int(np.count_nonzero(in_gold & in_pred))
    precision = _percent(both, int(np.count_nonzero(in_pred)))
    recall = _percent(both, int(np.count_nonzero(in_gold)))
    return precision, recall, _f1(precision, recall)


@dataclass
class Evaluation:
    scores: Scores                               # entity level, conlleval's counting
    labels: list[str]                            # rows/columns of the confusion matrix
    confusion: np.ndarray                        # (C, C) token counts, rows gold, columns predicted
    target: str | None = None                    # binary models: the class C
    token_prf: tuple[float, float, float] | None = None  # binary models: token-level P/R/F1 of C (percent)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"entity": self.scores.to_dict(),
                               "confusion": {"labels": self.labels, "matrix": self.confusion.tolist()}}
        if self.target is not None and self.token_prf is not None:
            p, r, f = self.token_prf
            out["target"] = self.target
            out["token"] = {"precision": p, "recall": r, "f1": f}
        return out


def evaluate(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], target: str | None = None,
             written: tuple[Sequence[Sequence[str]], Sequence[Sequence[str]]] | None = None) -> Evaluation:
    """Compare predicted with gold tag sequences (one per sentence), both IOB2.

    `written`, if given, is (gold, predicted) as a file shows them to conlleval: the gold tags as written in
    the file (before repair, in its scheme) and the predictions in that scheme. conlleval's counts come from
    those, so its token accuracy (equal tags as written) matches exactly; its phrases are the same either way.
    The confusion matrix stays in IOB2."""
    if target is not None:
        gold = [only_type(g, target) for g in gold]
        if written is not None:
            written = ([only_type(g, target) for g in written[0]], written[1])
    scores = conlleval_scores(*(written or (gold, pred)))
    labels = sorted({t for seq in gold for t in seq} | {t for seq in pred for t in seq}, key=label_order)
    flat_gold = [t for seq in gold for t in seq]
    flat_pred = [t for seq in pred for t in seq]
    confusion = confusion_matrix([flat_gold], [flat_pred], labels)
    token_prf = token_scores([flat_gold], [flat_pred], target) if target is not None else None
    return Evaluation(scores, labels, confusion, target, token_prf)
