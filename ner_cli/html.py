"""HTML for people: entity spans coloured by type with a legend, in one self-contained page (no scripts, no
external files). Every piece of input text goes through `html.escape`, so a ``<script>`` in the input is shown
as text, never run.

    page_head(title, types) + "".join(html_line(line, spans) for ...) + page_foot()

`html_line` renders one input line as a paragraph; ``ner tag --format html`` streams those between the head
and the foot, and ``ner report`` puts them in its error list.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

# displaCy-like colours for the CoNLL types; other types take the next colour of EXTRA, by sorted name
COLOURS = {"PER": "#aa9cfc", "LOC": "#ff9561", "ORG": "#7aecec", "MISC": "#e4e7d2"}
EXTRA = ["#bfe1d9", "#feca74", "#c887fb", "#9cc9cc", "#ffeb80", "#ff8197", "#bfeeb7", "#e4e7d2", "#f0d0ff"]
GOLD = "#2e7d32"       # outline of gold spans in the error list
PRED = "#c62828"       # outline of predicted spans in the error list

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 60em; padding: 0 1em; color: #222; background: #fff; line-height: 2.2; }
h1, h2 { line-height: 1.3; } h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; }
p.line { margin: 0.2em 0; white-space: pre-wrap; }
mark.ent { padding: 0.15em 0.35em; margin: 0 0.1em; border-radius: 0.35em; line-height: 1; color: #111; }
mark.ent .lab { font-size: 0.65em; font-weight: bold; text-transform: uppercase; margin-left: 0.4em;
                vertical-align: middle; opacity: 0.8; }
mark.ent .score { font-size: 0.6em; margin-left: 0.3em; opacity: 0.7; }
.legend { line-height: 2.6; margin-bottom: 1em; } .legend mark.ent { margin-right: 0.6em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; line-height: 1.4; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.8em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td.text, th.text { text-align: left; white-space: normal; }
.gold { outline: 2px solid GOLD_COLOUR; outline-offset: 1px; } .pred { outline: 2px dashed PRED_COLOUR; }
.muted { color: #666; font-size: 0.9em; }
img, svg { max-width: 100%; height: auto; }
""".replace("GOLD_COLOUR", GOLD).replace("PRED_COLOUR", PRED)


def colours(types: Iterable[str]) -> dict[str, str]:
    """Type -> background colour: the fixed ones for PER/LOC/ORG/MISC, then EXTRA in sorted order of name."""
    out = {}
    extra = iter(EXTRA * 10)
    for t in sorted(set(types)):
        out[t] = COLOURS.get(t) or next(extra)
    return out


def mark(text: str, label: str, colour: str, score: float | None = None, cls: str = "") -> str:
    """One highlighted span: the (escaped) text, then its label and, if given, its score."""
    extra = f'<span class="score">{score:.2f}</span>' if score is not None else ""
    title = f' title="{html.escape(label)}{f" p={score:.3f}" if score is not None else ""}"'
    return (f'<mark class="ent {cls}" style="background:{colour}"{title}>{html.escape(text)}'
            f'<span class="lab">{html.escape(label)}</span>{extra}</mark>')


def html_spans(line: str, spans: Sequence[tuple[str, int, int]], palette: dict[str, str],
               scores: Sequence[float] | None = None) -> str:
    """`line` escaped, with each (label, char start, char end) span wrapped in a coloured mark."""
    out, prev = [], 0
    for k, (label, s, e) in enumerate(spans):
        out.append(html.escape(line[prev:s]))
        out.append(mark(line[s:e], label, palette.get(label, EXTRA[0]), None if scores is None else scores[k]))
        prev = e
    out.append(html.escape(line[prev:]))
    return "".join(out)


def html_line(line: str, spans: Sequence[tuple[str, int, int]], palette: dict[str, str],
              scores: Sequence[float] | None = None) -> str:
    """One input line as a paragraph (an empty line stays an empty paragraph, so lines stay aligned)."""
    return f'<p class="line">{html_spans(line, spans, palette, scores)}</p>\n'


def legend(palette: dict[str, str]) -> str:
    items = "".join(mark(t, t, c).replace(f'<span class="lab">{html.escape(t)}</span>', "")
                    for t, c in palette.items())
    return f'<div class="legend">{items}</div>\n'


def page_head(title: str, palette: dict[str, str], subtitle: str = "") -> str:
    """Start of a self-contained page: styles, the title and a legend of the entity colours."""
    sub = f'<p class="muted">{html.escape(subtitle)}</p>\n' if subtitle else ""
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n'
            f'<h1>{html.escape(title)}</h1>\n{sub}{legend(palette)}')


def page_foot() -> str:
    return "</body>\n</html>\n"


def table(header: Sequence[str], rows: Iterable[Sequence[object]], raw_columns: Sequence[int] = ()) -> str:
    """An HTML table; cells are escaped except in `raw_columns` (already-safe HTML such as marks)."""
    head = "".join(f'<th class="text">{html.escape(str(h))}</th>' if i in raw_columns else
                   f"<th>{html.escape(str(h))}</th>" for i, h in enumerate(header))
    body = []
    for row in rows:
        cells = []
        for i, v in enumerate(row):
            text = str(v) if i in raw_columns else html.escape(str(v))
            cells.append(f'<td class="text">{text}</td>' if i in raw_columns else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>\n"
