"""Plain-text renderings for the CLI: per-epoch lines, the confusion matrix, conlleval-style prediction files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .io.modelfile import atomic_write_bytes


def confusion_text(labels: Sequence[str], matrix: np.ndarray) -> str:
    """Token-level confusion matrix as an aligned table: rows gold, columns predicted."""
    width = max([len(lab) for lab in labels] + [len(str(int(matrix.max(initial=0)))), 6]) + 1
    head = "gold \\ pred".ljust(width) + "".join(lab.rjust(width) for lab in labels)
    rows = [lab.ljust(width) + "".join(str(int(v)).rjust(width) for v in row) for lab, row in zip(labels, matrix,
                                                                                                     strict=True)]
    return "\n".join([head, *rows]) + "\n"


def write_predictions(path: str | Path, words: Sequence[Sequence[str]], gold: Sequence[Sequence[str]],
                      pred: Sequence[Sequence[str]]) -> None:
    """'token gold predicted' lines, a blank line between sentences: the input conlleval.pl reads."""
    lines = []
    for w, g, p in zip(words, gold, pred, strict=True):
        lines += [f"{a} {b} {c}\n" for a, b, c in zip(w, g, p, strict=True)]
        lines.append("\n")
    atomic_write_bytes(path, "".join(lines).encode("utf-8"))
