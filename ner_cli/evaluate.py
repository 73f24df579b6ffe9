"""Score a model on a CoNLL file: the one path a file takes from reading to scores (read -> predict -> score),
used by `ner eval`, by training's test scoring and by the benchmarks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .io.dataset import Corpus, read_corpus
from .metrics import Evaluation, evaluate
from .tags import convert_tags, invalid_transitions, repair_tags


class Predictor(Protocol):
    """Anything that tags word sequences: a `Tagger`, or a baseline wrapped to look like one."""

    target: str | None                                      # a binary model's class: scored on it alone

    def predict(self, sentences: Sequence[Sequence[str]], docs: Sequence[int] | None = None
                ) -> list[list[str]]: ...                   # docs: each sentence's document (-DOCSTART-)


@dataclass
class FileScore:
    corpus: Corpus                   # the file as read
    gold: list[list[str]]            # its tags in IOB2
    pred: list[list[str]]            # the model's IOB2 tags
    evaluation: Evaluation
    pred_written: list[list[str]] | None = None   # the model's tags in the file's scheme (what -p writes)


def score_file(tagger: Predictor, path: str | Path, *, token_col: int = 0, tag_col: int = -1, scheme: str = "auto",
               repair: bool = False) -> FileScore:
    """Read a CoNLL file with gold tags, tag its sentences and score them as conlleval does."""
    corpus = read_corpus(path, token_col=token_col, tag_col=tag_col, scheme=scheme, repair=repair)
    gold = corpus.tags_in("IOB2")
    pred = tagger.predict(corpus.words, corpus.docs)             # documents for the document features
    pred_written = in_scheme(pred, corpus.scheme)
    evaluation = evaluate(gold, pred, tagger.target, written=(corpus.tags_as_written, pred_written))
    return FileScore(corpus, gold, pred, evaluation, pred_written)


def in_scheme(pred: list[list[str]], scheme: str) -> list[list[str]]:
    """IOB2 predictions in another scheme (an argmax decoder's invalid sequences read as conlleval reads them)."""
    if scheme == "IOB2":
        return pred
    return [convert_tags(repair_tags(p, "IOB2") if invalid_transitions(p, "IOB2") else p, "IOB2", scheme)
            for p in pred]
