"""Rich tables for a terminal: the error list of `ner eval --errors`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..mistakes import KINDS, Mistake

GOLD_STYLE = "bold green underline"
PRED_STYLE = "bold red"


def _sentence(words: Sequence[str], span: tuple[str, int, int] | None, style: str) -> Text:
    """The sentence with one span as ``[TYPE words]`` (as `ner tag --format inline` writes it), styled."""
    if span is None:
        return Text("(none)", style="dim")
    label, a, b = span
    t = Text(" ".join(words[:a]) + (" " if a else ""))
    t.append(f"[{label} " + " ".join(words[a:b]) + "]", style=style)
    t.append((" " if b < len(words) else "") + " ".join(words[b:]))
    return t


def mistakes_tables(console: Console, mistakes: Sequence[Mistake], counts: dict[str, Any], title: str = "") -> None:
    """One row per mistake (kind, line, sentence with the gold span, with the predicted span), then counts."""
    t = Table(title=f"mistakes in {title}" if title else "mistakes", title_justify="left", show_lines=True)
    t.add_column("kind", style="bold")
    t.add_column("line", justify="right")
    t.add_column("gold", ratio=1)
    t.add_column("predicted", ratio=1)
    for m in mistakes:
        t.add_row(m.kind, str(m.line if m.line is not None else m.sentence + 1),
                  _sentence(m.words, m.gold, GOLD_STYLE), _sentence(m.words, m.pred, PRED_STYLE))
    console.print(t)
    c = Table(title="mistakes by type and kind", title_justify="left")
    c.add_column("type")
    for k in (*KINDS, "total"):
        c.add_column(k, justify="right")
    for typ, row in counts["by_type"].items():
        c.add_row(typ, *[str(row[k]) for k in KINDS], str(sum(row.values())))
    c.add_row("all", *[str(counts["by_kind"][k]) for k in KINDS], str(counts["total"]), style="bold")
    console.print(c)
