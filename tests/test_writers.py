"""Tests for ner_cli.io.writers: exact CoNLL text, JSONL offsets, inline markers, empty lines."""

from __future__ import annotations

import json
import re
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from ner_cli.io.tokenize import split_sentences, tokenize
from ner_cli.io.writers import (
    FORMATS,
    format_conll,
    format_inline,
    format_jsonl,
    sentence_entities,
)
from ner_cli.tags import get_entities

LINE = "Blackburn's manager met U.S. officials in New York."
TAGS = ["B-ORG", "O", "O", "O", "B-LOC", "O", "O", "B-LOC", "I-LOC", "O"]
LABELS = ("PER", "LOC", "ORG", "MISC")


def test_format_conll_exact() -> None:
    tokens = tokenize("Blackburn's manager")[0]
    assert format_conll(tokens, ["B-ORG", "O", "O"]) == "Blackburn\tB-ORG\n's\tO\nmanager\tO\n\n"


def test_format_conll_empty_is_one_blank_line() -> None:
    assert format_conll([], []) == "\n"


def test_format_jsonl_example() -> None:
    tokens, starts, ends = tokenize(LINE)
    assert tokens[4] == "U.S." and tokens[7:9] == ["New", "York"]
    obj = json.loads(format_jsonl(LINE, tokens, starts, ends, TAGS))
    assert obj == {
        "text": LINE,
        "entities": [
            {"start": 0, "end": 9, "label": "ORG", "text": "Blackburn"},
            {"start": 24, "end": 28, "label": "LOC", "text": "U.S."},
            {"start": 42, "end": 50, "label": "LOC", "text": "New York"},
        ],
    }


def test_format_jsonl_options() -> None:
    tokens, starts, ends = tokenize(LINE)
    out = format_jsonl(LINE, tokens, starts, ends, TAGS, line_no=7, include_tokens=True)
    assert out.endswith("}\n") and out.count("\n") == 1
    obj = json.loads(out)
    assert list(obj) == ["line", "text", "entities", "tokens", "tags"]
    assert obj["line"] == 7 and obj["tokens"] == tokens and obj["tags"] == TAGS


def test_format_jsonl_unicode_not_escaped() -> None:
    line = "Zoë visited Zürich 🇨🇭"
    tokens, starts, ends = tokenize(line)
    out = format_jsonl(line, tokens, starts, ends, ["B-PER", "O", "B-LOC", "O"])
    assert "Zoë" in out and "Zürich" in out and "\\u" not in out


def test_format_inline_example() -> None:
    _, starts, ends = tokenize(LINE)
    assert format_inline(LINE, starts, ends, TAGS) == (
        "[ORG Blackburn]'s manager met [LOC U.S.] officials in [LOC New York].\n"
    )


def test_format_inline_keeps_spacing_and_brackets() -> None:
    line = "  [x]  Anna\tMaria  (ok)  "
    _, starts, ends = tokenize(line)
    tags = ["O", "O", "O", "B-PER", "I-PER", "O", "O", "O"]
    assert format_inline(line, starts, ends, tags) == "  [x]  [PER Anna\tMaria]  (ok)  \n"


def test_empty_lines_keep_alignment() -> None:
    for line in ("", "   "):
        tokens, starts, ends = tokenize(line)
        assert FORMATS["conll"](line, tokens, starts, ends, []) == "\n"
        assert json.loads(FORMATS["jsonl"](line, tokens, starts, ends, [])) == {"text": line, "entities": []}
        assert FORMATS["inline"](line, tokens, starts, ends, []) == line + "\n"


def test_formats_uniform_signature() -> None:
    tokens, starts, ends = tokenize(LINE)
    assert set(FORMATS) == {"conll", "jsonl", "inline", "html"}
    for fmt in FORMATS.values():
        out = fmt(LINE, tokens, starts, ends, TAGS, entities=None, line_no=1, include_tokens=False)
        assert out.endswith("\n")
    assert FORMATS["conll"](LINE, tokens, starts, ends, TAGS) == format_conll(tokens, TAGS)


def test_paragraph_entities_do_not_cross_sentences() -> None:
    line = "He met Acme. Acme Corp. agreed."
    per_sentence = []
    for a, b in split_sentences(line):
        toks, s, e = tokenize(line[a:b])
        per_sentence.append((toks, [x + a for x in s], [x + a for x in e]))
    assert [p[0] for p in per_sentence] == [["He", "met", "Acme", "."], ["Acme", "Corp.", "agreed", "."]]
    tag_lists = [["O", "O", "I-ORG", "O"], ["I-ORG", "I-ORG", "O", "O"]]
    tokens = [t for p in per_sentence for t in p[0]]
    starts = [t for p in per_sentence for t in p[1]]
    ends = [t for p in per_sentence for t in p[2]]
    tags = [t for ts in tag_lists for t in ts]
    ents = sentence_entities(tag_lists)
    assert ents == [("ORG", 2, 3), ("ORG", 4, 6)]
    obj = json.loads(format_jsonl(line, tokens, starts, ends, tags, entities=ents))
    assert [e["text"] for e in obj["entities"]] == ["Acme", "Acme Corp."]
    assert format_inline(line, starts, ends, tags, entities=ents) == "He met [ORG Acme]. [ORG Acme Corp.] agreed.\n"


@st.composite
def tagged_line(draw: st.DrawFn, alphabet: st.SearchStrategy[str]) -> tuple[str, list[str]]:
    """Random text and random valid IOB2 tags over its tokens."""
    line = draw(st.text(alphabet=alphabet, max_size=120))
    n = len(tokenize(line)[0])
    tags: list[str] = []
    for _ in range(n):
        choice = draw(st.sampled_from(["O", "B", "I"]))
        if choice == "I" and tags and tags[-1] != "O":
            tags.append("I-" + tags[-1][2:])
        elif choice == "O":
            tags.append("O")
        else:
            tags.append("B-" + draw(st.sampled_from(LABELS)))
    return line, tags


no_newline = st.characters(min_codepoint=0, max_codepoint=sys.maxunicode, exclude_characters="\n\r")
wordy = st.sampled_from(list("ab Zé.,'-[]() \t😀\u0301"))


@given(tagged_line(no_newline) | tagged_line(wordy))
@settings(max_examples=400)
def test_jsonl_offsets_slice_back(case: tuple[str, list[str]]) -> None:
    line, tags = case
    tokens, starts, ends = tokenize(line)
    out = format_jsonl(line, tokens, starts, ends, tags, include_tokens=True)
    assert out.endswith("\n") and "\n" not in out[:-1]
    obj = json.loads(out)
    assert obj["text"] == line and obj["tokens"] == tokens
    assert len(obj["entities"]) == len(get_entities(tags))
    for ent in obj["entities"]:
        assert line[ent["start"] : ent["end"]] == ent["text"]
        assert ent["text"] == ent["text"].strip() and ent["label"] in LABELS


@given(tagged_line(wordy.filter(lambda c: c not in "[]")) | tagged_line(no_newline.filter(lambda c: c not in "[]")))
@settings(max_examples=400)
def test_inline_markers_removed_give_line_back(case: tuple[str, list[str]]) -> None:
    line, tags = case
    _, starts, ends = tokenize(line)
    out = format_inline(line, starts, ends, tags)
    assert out.endswith("\n")
    assert out.count("[") == len(get_entities(tags))
    assert re.sub(r"\[(?:PER|LOC|ORG|MISC) |\]", "", out[:-1]) == line


@given(tagged_line(wordy))
@settings(max_examples=200)
def test_conll_one_row_per_token(case: tuple[str, list[str]]) -> None:
    line, tags = case
    tokens = tokenize(line)[0]
    out = format_conll(tokens, tags)
    assert out.endswith("\n")
    rows = out[:-1].split("\n")
    if tokens:
        assert rows[-1] == ""
        assert [r.split("\t") for r in rows[:-1]] == [list(p) for p in zip(tokens, tags, strict=True)]
    else:
        assert out == "\n"


def test_scored_chunk_renderers_equal_the_line_formatters() -> None:
    """With entity scores, the whole-chunk renderers (jsonl score, conll score column, html) match the per-line
    formatters given the same entities and scores."""
    import numpy as np

    from ner_cli.io.tokenize import tokenize_chunk
    from ner_cli.io.writers import RENDERERS, TaggedChunk, char_entities

    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    lines = ["Ana Costa flew to Lisbon .", "", "<b>Paris</b> & Lyon", "Nothing here"]
    chunk = tokenize_chunk(lines)
    lengths = chunk.counts[chunk.counts > 0]
    rng = np.random.default_rng(3)
    tags = rng.integers(0, len(labels), size=len(chunk.tokens))
    from ner_cli.confidence import find_spans

    n_ents = len(find_spans(tags, lengths, labels)[0])
    scores = rng.random(n_ents)
    offsets = np.concatenate(([0], np.cumsum(chunk.counts))).tolist()
    for fmt in ("jsonl", "conll", "html"):
        tagged = TaggedChunk(lines, chunk.tokens, chunk.starts, chunk.ends, chunk.counts, lengths, tags, labels,
                             scores, score_column=fmt == "conll")
        got = RENDERERS[fmt](tagged)
        k = 0
        for i, line in enumerate(lines):
            a, b = offsets[i], offsets[i + 1]
            names = [labels[t] for t in tags[a:b]]
            ents = get_entities(names)
            mine = scores[k:k + len(ents)].tolist()
            k += len(ents)
            kw = {"entities": ents, "scores": mine, "token_scores": True}
            if fmt == "html":
                from ner_cli.html import colours, html_line

                want = html_line(line, char_entities(chunk.starts[a:b].tolist(), chunk.ends[a:b].tolist(), names,
                                                     ents), colours(["PER", "LOC"]), mine)
            else:
                want = FORMATS[fmt](line, chunk.tokens[a:b], chunk.starts[a:b].tolist(), chunk.ends[a:b].tolist(),
                                    names, **kw)
            assert got[i] == want, (fmt, i)
        assert k == n_ents
