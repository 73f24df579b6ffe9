"""Output formats of ``ner tag``: CoNLL columns, JSON lines and inline brackets.

Every entry of `FORMATS` renders ONE input line (given without its newline) and takes the same
arguments, flat over all sentences of the line (several in paragraph mode)::

    FORMATS[name](line, tokens, starts, ends, tags, *, entities=None, line_no=None,
                  include_tokens=False) -> str

``starts``/``ends`` are character offsets into ``line`` (end exclusive) as produced by
`ner_cli.io.tokenize.tokenize`, shifted by the sentence start in paragraph mode. Entities are
``get_entities(tags)`` (conlleval rules) unless ``entities`` — (label, first token, end token
exclusive) over the flat token list — is given; in paragraph mode pass
``entities=sentence_entities(per_sentence_tags)`` so that no entity can run across a
sentence boundary. Keyword arguments a format has no use for are ignored.

* ``conll``: ``token<TAB>tag`` per token, then one blank line after each sentence (`render_conll`; a line
  split into sentences with ``--paragraphs`` gives one block per sentence; `format_conll` is one sentence).
* ``jsonl``: one JSON object per line, ``{"text": line, "entities": [{"start", "end",
  "label", "text"}]}`` (``"line"`` first when ``line_no`` is given, ``"tokens"`` and
  ``"tags"`` last with ``include_tokens``). ``start``/``end`` are character offsets into the
  line, so ``text[start:end] == entity["text"]`` always. Non-ASCII is written as is
  (``ensure_ascii=False``), so text decoded with ``surrogateescape`` round-trips.
* ``inline``: the line unchanged except that each entity is wrapped as ``[LABEL text]``.
* ``html``: the line as an HTML paragraph, each entity a coloured mark (`ner_cli.html`; the page's head and
  foot come from `ner_cli.render`); the text is escaped.

``scores`` (one probability per entity, parallel to ``entities``) adds ``"score"`` to each jsonl entity, the
score to each html mark and, with ``token_scores=True``, a third column to conll: the score of the entity the
token is in, ``-`` for ``O``.

Empty (or whitespace-only) input lines are never dropped, so output stays aligned with the
input: conll writes a single blank line, jsonl ``{"text": "", "entities": []}`` (with the
line's own text), inline an empty line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

import numpy as np

from ..tags import entity_types, get_entities

__all__ = [
    "FORMATS",
    "Entity",
    "char_entities",
    "format_conll",
    "format_inline",
    "format_jsonl",
    "sentence_entities",
    "write_predictions",
]

Entity = tuple[str, int, int]
"""(label, first token, end token exclusive)."""

LineFormatter = Callable[..., str]


def sentence_entities(tag_lists: Iterable[Sequence[str]]) -> list[Entity]:
    """Entities of consecutive sentences, token indices shifted into the flat (concatenated) list."""
    lists = list(tag_lists)
    offsets = list(accumulate((len(tags) for tags in lists), initial=0))[:-1]
    return [
        (label, i + off, j + off)
        for tags, off in zip(lists, offsets, strict=True)
        for label, i, j in get_entities(tags)
    ]


def char_entities(
    starts: Sequence[int], ends: Sequence[int], tags: Sequence[str], entities: Sequence[Entity] | None = None
) -> list[tuple[str, int, int]]:
    """(label, char start, char end) of each entity: start of its first token, end of its last."""
    if len(starts) != len(tags) or len(ends) != len(tags):
        raise ValueError(f"{len(starts)} starts and {len(ends)} ends for {len(tags)} tags")
    if entities is None:  # all-O lines are common: skip get_entities' fixed numpy overhead for them
        entities = [] if set(tags) <= {"O"} else get_entities(tags)
    return [(label, starts[i], ends[j - 1]) for label, i, j in entities]


def format_conll(tokens: Sequence[str], tags: Sequence[str], column: Sequence[str] | None = None) -> str:
    """``token<TAB>tag`` lines (``<TAB>column`` too, if given) and one blank line; just ``"\\n"`` for no tokens."""
    if not tokens:
        return "\n"
    if column is not None:
        return "\n".join(map("\t".join, zip(tokens, tags, column, strict=True))) + "\n\n"
    return "\n".join(map("\t".join, zip(tokens, tags, strict=True))) + "\n\n"


def score_column(n_tokens: int, entities: Sequence[Entity], scores: Sequence[float]) -> list[str]:
    """Per token: the score of the entity it is in (4 decimals), ``-`` outside entities."""
    column = ["-"] * n_tokens
    for (_, i, j), p in zip(entities, scores, strict=True):
        column[i:j] = [f"{p:.4f}"] * (j - i)
    return column


def format_jsonl(
    line: str,
    tokens: Sequence[str],
    starts: Sequence[int],
    ends: Sequence[int],
    tags: Sequence[str],
    *,
    entities: Sequence[Entity] | None = None,
    line_no: int | None = None,
    include_tokens: bool = False,
    scores: Sequence[float] | None = None,
    **_: object,
) -> str:
    """One JSON object and a newline; entity offsets are characters into `line`, each entity with its "score"
    when `scores` are given. (Has the `FORMATS` signature: keyword arguments it has no use for are ignored.)"""
    obj: dict[str, object] = {} if line_no is None else {"line": line_no}
    obj["text"] = line
    ents = [{"start": s, "end": e, "label": label, "text": line[s:e]}
            for label, s, e in char_entities(starts, ends, tags, entities)]
    if scores is not None:
        for ent, p in zip(ents, scores, strict=True):
            ent["score"] = round(float(p), 4)
    obj["entities"] = ents
    if include_tokens:
        obj["tokens"] = list(tokens)
        obj["tags"] = list(tags)
    return json.dumps(obj, ensure_ascii=False) + "\n"


def format_inline(
    line: str,
    starts: Sequence[int],
    ends: Sequence[int],
    tags: Sequence[str],
    *,
    entities: Sequence[Entity] | None = None,
) -> str:
    """`line` with each entity wrapped as ``[LABEL text]``, everything else verbatim, then a newline."""
    pieces: list[str] = []
    prev = 0
    for label, s, e in char_entities(starts, ends, tags, entities):
        pieces += (line[prev:s], "[", label, " ", line[s:e], "]")
        prev = e
    pieces += (line[prev:], "\n")
    return "".join(pieces)


def _conll_line(line: str, tokens: Sequence[str], starts: Sequence[int], ends: Sequence[int], tags: Sequence[str],
                *, entities: Sequence[Entity] | None = None, scores: Sequence[float] | None = None,
                token_scores: bool = False, **_: object) -> str:
    """`format_conll` behind the uniform `FORMATS` signature (a score column with ``token_scores``)."""
    if token_scores and scores is not None:
        ents = entities if entities is not None else get_entities(tags)
        return format_conll(tokens, tags, score_column(len(tokens), ents, scores))
    return format_conll(tokens, tags)


def _inline_line(line: str, tokens: Sequence[str], starts: Sequence[int], ends: Sequence[int], tags: Sequence[str],
                 *, entities: Sequence[Entity] | None = None, **_: object) -> str:
    """`format_inline` behind the uniform `FORMATS` signature."""
    return format_inline(line, starts, ends, tags, entities=entities)


def _html_line(line: str, tokens: Sequence[str], starts: Sequence[int], ends: Sequence[int], tags: Sequence[str],
               *, entities: Sequence[Entity] | None = None, scores: Sequence[float] | None = None,
               palette: dict[str, str] | None = None, **_: object) -> str:
    """The line as an HTML paragraph with coloured entities (`ner_cli.html.html_line`)."""
    from ..html import colours, html_line

    spans = char_entities(starts, ends, tags, entities)
    return html_line(line, spans, palette or colours({s[0] for s in spans}), scores)


FORMATS: dict[str, LineFormatter] = {"conll": _conll_line, "jsonl": format_jsonl, "inline": _inline_line,
                                     "html": _html_line}
"""--format name -> formatter of one input line (uniform signature, see the module docstring)."""


def write_predictions(path: str | Path, words: Sequence[Sequence[str]], gold: Sequence[Sequence[str]],
                      pred: Sequence[Sequence[str]]) -> None:
    """'token gold predicted' lines, a blank line between sentences (the input conlleval.pl reads), atomically."""
    from .modelfile import atomic_write_bytes

    lines = []
    for w, g, p in zip(words, gold, pred, strict=True):
        lines += [f"{a} {b} {c}\n" for a, b, c in zip(w, g, p, strict=True)]
        lines.append("\n")
    atomic_write_bytes(path, "".join(lines).encode("utf-8"))


# ---- whole chunks at once: the `ner tag` hot path ----------------------------------------------------------

@dataclass
class TaggedChunk:
    """A batch of input lines with their tokens and predicted tags, all flat (no per-line lists).

    Line i holds tokens[offsets[i]:offsets[i + 1]] (``counts`` per line); ``starts``/``ends`` are character
    offsets into the token's own line. Sentences are runs of ``sentence_lengths`` tokens, never across lines
    (one per non-empty line, or several in paragraph mode); entities never cross a sentence boundary.
    """

    lines: list[str]
    tokens: list[str]
    starts: np.ndarray                 # (N,) int64
    ends: np.ndarray                   # (N,) int64
    counts: np.ndarray                 # (n_lines,) tokens per line
    sentence_lengths: np.ndarray       # (n_sentences,) tokens per sentence, all > 0
    tags: np.ndarray                   # (N,) ids into `labels`
    labels: list[str]                  # IOB2 tag names
    scores: np.ndarray | None = None   # (n_entities,) each entity's probability, in `chunk_entities` order
    score_column: bool = False         # conll: a third column with the score of each token's entity

    @property
    def offsets(self) -> np.ndarray:
        return np.concatenate(([0], np.cumsum(self.counts))).astype(np.int64)


def chunk_entities(chunk: TaggedChunk) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Every entity of a chunk as arrays, in order: (line, char start, char end exclusive, type id, type names).

    Computed with `tags.chunk_spans` over the whole chunk at once (conlleval's rules, cut at sentence starts).
    """
    from ..tags import chunk_spans, encode_tags

    prefix_of, type_of, types = encode_tags(chunk.labels)           # per label, not per token
    cuts = np.cumsum(chunk.sentence_lengths)[:-1]
    first, end = chunk_spans(prefix_of[chunk.tags], type_of[chunk.tags], cuts)
    line_of = np.repeat(np.arange(len(chunk.lines)), chunk.counts)
    return line_of[first], chunk.starts[first], chunk.ends[end - 1], type_of[chunk.tags[first]], types


def _per_line(values: list[str], line_of: np.ndarray, n_lines: int, sep: str) -> list[str]:
    """`values` (in line order) joined by `sep` per line: "" for a line without any."""
    out = [""] * n_lines
    bounds = np.concatenate(([0], np.cumsum(np.bincount(line_of, minlength=n_lines)))).tolist()
    for i in np.flatnonzero(np.diff(bounds)).tolist():
        out[i] = sep.join(values[bounds[i]:bounds[i + 1]])
    return out


def token_score_column(chunk: TaggedChunk) -> list[str]:
    """Per token of the chunk: the score of its entity (4 decimals), ``-`` outside entities."""
    from ..tags import chunk_spans, encode_tags

    prefix_of, type_of, _ = encode_tags(chunk.labels)
    first, end = chunk_spans(prefix_of[chunk.tags], type_of[chunk.tags], np.cumsum(chunk.sentence_lengths)[:-1])
    t = np.arange(len(chunk.tokens))
    k = np.searchsorted(first, t, side="right") - 1                # the last entity starting at or before t
    inside = (k >= 0) & (t < np.append(end, 0)[k])
    text = np.array([f"{p:.4f}" for p in (chunk.scores if chunk.scores is not None else [])] + ["-"], dtype=object)
    return text[np.where(inside, k, -1)].tolist()                  # -1: the "-" at the end


def render_conll(chunk: TaggedChunk) -> list[str]:
    """`format_conll` of every sentence: one ``token<TAB>tag`` block, ended by a blank line, per sentence (with
    `--paragraphs` a line holds several), a lone ``\\n`` for a line without tokens; with ``<TAB>score`` too
    when the chunk asks for a score column. Built as one flat list of pieces per column, interleaved, and one
    join per line: no string is made per token but the pieces themselves."""
    last = np.zeros(len(chunk.tokens), dtype=np.intp)
    last[np.cumsum(chunk.sentence_lengths) - 1] = 1                # a sentence's last line ends a block
    ends = np.array(["\n", "\n\n"], dtype=object)[last].tolist()
    if chunk.score_column:
        labels = np.array([f"\t{label}\t" for label in chunk.labels], dtype=object)[chunk.tags].tolist()
        columns = [chunk.tokens, labels, token_score_column(chunk), ends]
    else:
        labels = np.array([f"\t{label}" for label in chunk.labels], dtype=object)[chunk.tags].tolist()
        columns = [chunk.tokens, labels, ends]
    k = len(columns)
    pieces: list[str] = [""] * (k * len(chunk.tokens))
    for i, column in enumerate(columns):
        pieces[i::k] = column
    bounds = (chunk.offsets * k).tolist()
    return ["".join(pieces[a:b]) if b > a else "\n" for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def render_jsonl(chunk: TaggedChunk) -> list[str]:
    """`format_jsonl` of every line, byte for byte, with JSON strings from the json module's own encoder."""
    from json.encoder import encode_basestring  # what json.dumps(ensure_ascii=False) uses for a str

    line_of, start, end, type_id, types = chunk_entities(chunk)
    label = [encode_basestring(t) for t in types]
    lines = chunk.lines
    ents = [f'{{"start": {s}, "end": {e}, "label": {label[t]}, "text": {encode_basestring(lines[i][s:e])}'
            for i, s, e, t in zip(line_of.tolist(), start.tolist(), end.tolist(), type_id.tolist(), strict=True)]
    if chunk.scores is not None:                                  # json writes round(p, 4) as repr does
        ents = [f'{e}, "score": {round(float(p), 4)!r}}}' for e, p in zip(ents, chunk.scores.tolist(), strict=True)]
    else:
        ents = [e + "}" for e in ents]
    per_line = _per_line(ents, line_of, len(lines), ", ")
    return list(map('{{"text": {}, "entities": [{}]}}\n'.format, map(encode_basestring, lines), per_line))


def render_inline(chunk: TaggedChunk) -> list[str]:
    """`format_inline` of every line: entities wrapped as ``[LABEL text]``, everything else verbatim."""
    line_of, start, end, type_id, types = chunk_entities(chunk)
    out = [line + "\n" for line in chunk.lines]
    bounds = np.concatenate(([0], np.cumsum(np.bincount(line_of, minlength=len(out))))).tolist()
    start_l, end_l, type_l = start.tolist(), end.tolist(), type_id.tolist()
    for i in np.flatnonzero(np.diff(bounds)).tolist():
        line, pieces, prev = chunk.lines[i], [], 0
        for k in range(bounds[i], bounds[i + 1]):
            s, e = start_l[k], end_l[k]
            pieces += (line[prev:s], "[", types[type_l[k]], " ", line[s:e], "]")
            prev = e
        out[i] = "".join(pieces) + line[prev:] + "\n"
    return out


def render_html(chunk: TaggedChunk) -> list[str]:
    """Every line as an HTML paragraph (`ner_cli.html.html_line`): escaped text, entities coloured by type with
    their label and score. The page's head and foot come from `render.html_head` / `render.html_foot`."""
    from ..html import colours, html_line

    line_of, start, end, type_id, types = chunk_entities(chunk)
    palette = colours(set(entity_types(chunk.labels)))
    scores = chunk.scores.tolist() if chunk.scores is not None else None
    bounds = np.concatenate(([0], np.cumsum(np.bincount(line_of, minlength=len(chunk.lines))))).tolist()
    spans = [(types[t], s, e) for s, e, t in zip(start.tolist(), end.tolist(), type_id.tolist(), strict=True)]
    return [html_line(line, spans[bounds[i]:bounds[i + 1]], palette,
                      None if scores is None else scores[bounds[i]:bounds[i + 1]])
            for i, line in enumerate(chunk.lines)]


RENDERERS: dict[str, Callable[[TaggedChunk], list[str]]] = {
    "conll": render_conll, "jsonl": render_jsonl, "inline": render_inline, "html": render_html}
"""--format name -> renderer of a whole chunk (one output string per input line)."""
