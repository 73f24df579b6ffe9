"""What a tagger got wrong, entity by entity: missed, spurious, wrong type, wrong boundary.

Entities are conlleval's chunks (`ner_cli.tags.get_entities`), so a predicted entity that is not a mistake is
exactly one that conlleval counts as correct. The remaining gold and predicted entities of a sentence are
paired, one to one, in this order of preference:

- ``type``: the same tokens, another type;
- ``boundary``: the same type, overlapping tokens, another start or end;
- ``type+boundary``: overlapping tokens, another type and another start or end;

and what is left is ``missed`` (gold, no predicted entity overlaps it) or ``spurious`` (predicted, no gold
entity overlaps it). Returns data; the CLI prints it (a rich table on a terminal, JSON lines otherwise).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .tags import get_entities

KINDS = ("missed", "spurious", "type", "boundary", "type+boundary")

Span = tuple[str, int, int]
"""(type, first token, end token exclusive)."""


@dataclass
class Mistake:
    kind: str                      # one of KINDS
    sentence: int                  # index of the sentence in the file (0-based)
    line: int | None               # 1-based line of the sentence's first token, when known
    words: list[str]               # the sentence
    gold: Span | None              # None for spurious
    pred: Span | None              # None for missed

    @property
    def type(self) -> str:
        """The type it is counted under: the gold type, or the predicted one for a spurious entity."""
        return (self.gold or self.pred)[0]          # type: ignore[index]

    def to_dict(self) -> dict[str, Any]:
        def span(s: Span | None) -> dict[str, Any] | None:
            if s is None:
                return None
            return {"label": s[0], "start": s[1], "end": s[2], "text": " ".join(self.words[s[1]:s[2]])}

        return {"kind": self.kind, "type": self.type, "sentence": self.sentence, "line": self.line,
                "text": " ".join(self.words), "gold": span(self.gold), "pred": span(self.pred)}


def _overlap(a: Span, b: Span) -> bool:
    return a[1] < b[2] and b[1] < a[2]


def sentence_mistakes(gold: Sequence[str], pred: Sequence[str]) -> list[tuple[str, Span | None, Span | None]]:
    """(kind, gold span, predicted span) for one sentence's tags, in token order."""
    g = [tuple(e) for e in get_entities(gold)]
    p = [tuple(e) for e in get_entities(pred)]
    exact = set(g) & set(p)
    g_left = [e for e in g if e not in exact]
    p_left = [e for e in p if e not in exact]
    out: list[tuple[str, Span | None, Span | None]] = []
    rules = (("type", lambda a, b: a[1:] == b[1:]),
             ("boundary", lambda a, b: a[0] == b[0] and _overlap(a, b)),
             ("type+boundary", _overlap))
    for kind, match in rules:
        for ge in list(g_left):
            pe = next((x for x in p_left if match(ge, x)), None)
            if pe is not None:
                out.append((kind, ge, pe))
                g_left.remove(ge)
                p_left.remove(pe)
    out += [("missed", ge, None) for ge in g_left]
    out += [("spurious", None, pe) for pe in p_left]
    out.sort(key=lambda m: min(s[1] for s in m[1:] if s is not None))
    return out  # type: ignore[return-value]


def find_mistakes(words: Sequence[Sequence[str]], gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]],
                  lines: Sequence[int] | None = None) -> list[Mistake]:
    """Every mistake of a corpus, sentence by sentence (IOB2 tags, or any scheme conlleval reads)."""
    out = []
    for k, (w, g, p) in enumerate(zip(words, gold, pred, strict=True)):
        if list(g) == list(p):
            continue
        for kind, ge, pe in sentence_mistakes(g, p):
            out.append(Mistake(kind, k, lines[k] if lines is not None else None, list(w), ge, pe))
    return out


def count_mistakes(mistakes: Sequence[Mistake]) -> dict[str, Any]:
    """Counts by kind, and by type and kind: {"by_kind": {kind: n}, "by_type": {type: {kind: n}}, "total": n}."""
    by_kind = Counter(m.kind for m in mistakes)
    by_type: dict[str, Counter] = {}
    for m in mistakes:
        by_type.setdefault(m.type, Counter())[m.kind] += 1
    return {"total": len(mistakes), "by_kind": {k: by_kind.get(k, 0) for k in KINDS},
            "by_type": {t: {k: c.get(k, 0) for k in KINDS} for t, c in sorted(by_type.items())}}
