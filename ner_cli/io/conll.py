"""Read and write CoNLL files: a token a line, columns split by spaces or tabs, a blank line after a sentence.

    -DOCSTART- -X- -X- O

    EU NNP B-NP B-ORG
    rejects VBZ B-VP O

The token is column `token_col` (default the first), the tag column `tag_col` (default the last).
``-DOCSTART-`` lines start a document and are never tokens. CoNLL has no comment syntax: a line starting with
``#`` is a token like any other (hashtags are everywhere in tweets). Reading streams sentence by sentence and
raises `DataError` naming the file and 1-based line of a problem.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from ..errors import DataError
from ..tags import is_tag
from .source import open_binary

DOCSTART = "-DOCSTART-"
_FIELD_SEP = re.compile(r"[ \t]+")
_NOT_A_FIELD = re.compile(r"[ \t\r\n]")  # what a written token or tag may not contain


@dataclass
class Sentence:
    """One sentence as read: tokens, their tags ([] when read without tags) and where it starts."""

    words: list[str]
    tags: list[str]
    line: int  # 1-based line number of the sentence's first token
    docstarts: list[str] = field(default_factory=list)  # the -DOCSTART- lines since the previous sentence
    columns: list[list[str]] | None = None  # every column of every token, only with keep_columns=True

    @property
    def doc_start(self) -> bool:
        """True for the first sentence after a -DOCSTART- line."""
        return bool(self.docstarts)


def _column(n_columns: int, col: int) -> int | None:
    """Index of column `col` (negative counts from the end) in a line of `n_columns`, or None if absent."""
    index = col + n_columns if col < 0 else col
    return index if 0 <= index < n_columns else None


class _Layout:
    """The column layout fixed by the first token line; checks every later line against it."""

    def __init__(self, name: str, token_col: int, tag_col: int, require_tags: bool) -> None:
        self.name, self.token_col, self.tag_col, self.require_tags = name, token_col, tag_col, require_tags
        self.n_columns = 0
        self.first_line = 0
        self.token = self.tag = 0

    def check(self, fields: list[str], lineno: int) -> None:
        """Fix the layout on the first token line; afterwards, refuse a different number of columns."""
        if not self.n_columns:
            self._fix(len(fields), lineno)
        elif len(fields) != self.n_columns:
            expected = f"{self.n_columns} columns like line {self.first_line}"
            raise DataError(self.name, lineno, expected, f"{len(fields)} columns")

    def _fix(self, n: int, lineno: int) -> None:
        token, tag = _column(n, self.token_col), _column(n, self.tag_col)
        if token is None:
            raise DataError(self.name, lineno, f"a token in column {self.token_col}", f"{n} columns")
        if self.require_tags and (tag is None or tag == token):
            expected = f"a tag in column {self.tag_col} besides the token in column {self.token_col}"
            raise DataError(self.name, lineno, expected, f"{n} column(s)", hint="is this file untagged?")
        self.n_columns, self.first_line, self.token, self.tag = n, lineno, token, tag or 0


class _Builder:
    """Collects the tokens of the sentence being read."""

    def __init__(self, keep_columns: bool) -> None:
        self.keep_columns = keep_columns
        self.docstarts: list[str] = []
        self._reset()

    def _reset(self) -> None:
        self.words: list[str] = []
        self.tags: list[str] = []
        self.columns: list[list[str]] = []
        self.line = 0

    def add(self, word: str, tag: str | None, fields: list[str], lineno: int) -> None:
        """Append a token (and its tag unless None), remembering the line of the first."""
        if not self.words:
            self.line = lineno
        self.words.append(word)
        if tag is not None:
            self.tags.append(tag)
        if self.keep_columns:
            self.columns.append(fields)

    def pop(self) -> Sentence | None:
        """The finished sentence (None if empty); the builder starts a new one."""
        if not self.words:
            return None
        columns = self.columns if self.keep_columns else None
        sentence = Sentence(self.words, self.tags, self.line, self.docstarts, columns)
        self.docstarts = []
        self._reset()
        return sentence


def _undecodable(raw: bytes, err: UnicodeDecodeError, name: str, lineno: int) -> DataError:
    """The error for a raw line (ending in LF) that is not UTF-8; `lineno` is the logical line it starts.

    A lone CR ends a logical line too, so the line and column are counted from the last CR before the byte.
    """
    before = raw[: err.start]
    column = err.start - (before.rfind(b"\r") + 1) + 1
    got = f"byte 0x{raw[err.start]:02x} at column {column}"
    return DataError(name, lineno + before.count(b"\r"), "UTF-8 text", got, hint="re-encode the file as UTF-8")


def _logical_lines(lines: Iterable[str] | Iterable[bytes], name: str) -> Iterator[tuple[int, str]]:
    """(1-based logical line number, decoded line); a lone CR (old Mac line ends, or mixed in) ends a line too,
    as in universal newlines. Bytes must be UTF-8; a BOM on the first line is dropped."""
    lineno = 1
    for raw in lines:
        if isinstance(raw, bytes):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise _undecodable(raw, err, name, lineno) from None
        else:
            text = raw
        if lineno == 1:
            text = text.removeprefix("\ufeff")
        if "\r" not in text:
            yield lineno, text
            lineno += 1
            continue
        body = text[:-2] if text.endswith("\r\n") else text[:-1] if text.endswith(("\n", "\r")) else text
        for piece in body.split("\r"):
            yield lineno, piece
            lineno += 1


def parse_conll_lines(
    lines: Iterable[str] | Iterable[bytes],
    name: str = "<stdin>",
    *,
    token_col: int = 0,
    tag_col: int = -1,
    require_tags: bool = True,
    keep_columns: bool = False,
) -> Iterator[Sentence]:
    """Sentences from CoNLL lines (str, or UTF-8 bytes such as ``sys.stdin.buffer``); `name` goes in errors.

    With require_tags=False the tag column is neither read nor checked and every `tags` is [].
    With keep_columns=True, -DOCSTART- lines after the last sentence come as a final Sentence without words,
    so that a writer can give back every line (see `io.dataset.convert_file`).
    Raises DataError for undecodable bytes, ragged columns, a missing or malformed tag, or no tokens at all.
    """
    layout = _Layout(name, token_col, tag_col, require_tags)
    builder = _Builder(keep_columns)
    found = False
    lineno = 0
    for lineno, text in _logical_lines(lines, name):
        stripped = text.strip(" \t\r\n")
        fields = _FIELD_SEP.split(stripped) if text.strip() else []
        if not fields or fields[0] == DOCSTART:
            sentence = builder.pop()
            if sentence is not None:
                found = True
                yield sentence
            if fields:
                builder.docstarts.append(" ".join(fields))
            continue
        layout.check(fields, lineno)
        tag = fields[layout.tag] if require_tags else None
        if tag is not None and not is_tag(tag):
            raise DataError(name, lineno, "a tag O or P-TYPE with P in B/I/E/S/L/U", repr(tag))
        builder.add(fields[layout.token], tag, fields, lineno)
    sentence = builder.pop()
    if sentence is not None:
        yield sentence
    elif not found:
        raise DataError(name, None, "at least one sentence", "an empty file" if lineno == 0 else "no tokens")
    if keep_columns and builder.docstarts:
        yield Sentence([], [], lineno, builder.docstarts, [])


def read_conll(
    path: str | Path,
    *,
    token_col: int = 0,
    tag_col: int = -1,
    require_tags: bool = True,
    keep_columns: bool = False,
) -> Iterator[Sentence]:
    """Stream the sentences of a CoNLL file (see `parse_conll_lines` for the rules and errors)."""
    try:
        with open_binary(path) as handle:                    # gzip detected by its magic bytes; "-" is stdin
            yield from parse_conll_lines(
                handle,
                str(path),
                token_col=token_col,
                tag_col=tag_col,
                require_tags=require_tags,
                keep_columns=keep_columns,
            )
    except (OSError, EOFError) as err:  # missing, a directory, unreadable, a truncated gzip file
        why = getattr(err, "strerror", None) or str(err) or type(err).__name__
        raise DataError(path, None, "a readable CoNLL file", why) from None


def write_conll(sentences: Iterable[tuple[Sequence[str], Sequence[str]]], out: TextIO) -> None:
    """Write "token tag" lines, each sentence followed by a blank line; empty sentences are skipped.

    Raises ValueError when a sentence has more tokens than tags (or fewer), or when a token or tag is empty
    or holds a space, tab or line break, since it could not be read back. (A first-column token equal to
    ``-DOCSTART-`` is written as is, though a reader takes it for a document boundary.)
    """
    for words, tags in sentences:
        if len(words) != len(tags):
            raise ValueError(f"{len(words)} tokens but {len(tags)} tags in sentence {list(words)[:5]}...")
        if not words:
            continue
        if "" in words or "" in tags or _NOT_A_FIELD.search("".join(words) + "".join(tags)):
            raise ValueError(f"a token or tag is empty or holds whitespace in sentence {list(words)[:5]}...")
        out.write("".join(f"{word} {tag}\n" for word, tag in zip(words, tags, strict=True)))
        out.write("\n")
