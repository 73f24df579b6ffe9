"""Score a tagger on gold sentences: conlleval's entity-level counts, a token confusion matrix, and for a
binary model the token-level precision/recall/F1 of its target class. Returns data; printing is the CLI's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .metrics import Scores, confusion_matrix, conlleval_report, conlleval_scores, token_scores


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

    def report(self) -> str:
        """conlleval's text report."""
        return conlleval_report(self.scores)


def only_type(tags: Sequence[str], target: str) -> list[str]:
    """Tags of other entity types become O (a binary model is scored on its own class only)."""
    return [t if t != "O" and t.partition("-")[2] == target else "O" for t in tags]


def evaluate(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], target: str | None = None) -> Evaluation:
    """Compare predicted with gold tag sequences (one per sentence)."""
    if target is not None:
        gold = [only_type(g, target) for g in gold]
    scores = conlleval_scores(gold, pred)
    labels = sorted({t for seq in gold for t in seq} | {t for seq in pred for t in seq},
                    key=lambda t: (t != "O", t.partition("-")[2], t))
    flat_gold = [t for seq in gold for t in seq]
    flat_pred = [t for seq in pred for t in seq]
    confusion = confusion_matrix([flat_gold], [flat_pred], labels)
    token_prf = token_scores([flat_gold], [flat_pred], target) if target is not None else None
    return Evaluation(scores, labels, confusion, target, token_prf)
