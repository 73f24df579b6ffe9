"""Read a labelled CoNLL file into word and tag lists, check its tag scheme, and convert tags for a model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError
from ..tags import convert_tags, detect_scheme, invalid_transitions, repair_tags
from .conll import read_conll


@dataclass
class Corpus:
    """Sentences of a labelled file. `tags` are in `scheme`, as read (after repair if asked)."""

    path: str
    words: list[list[str]]
    tags: list[list[str]]
    lines: list[int]          # 1-based line of each sentence's first token
    scheme: str
    docs: list[int] | None = None  # document of each sentence (-DOCSTART- opens one); None: none in the file
    written: list[list[str]] | None = None   # the tags as written in the file, before any repair

    @property
    def tags_as_written(self) -> list[list[str]]:
        return self.tags if self.written is None else self.written

    @property
    def n_tokens(self) -> int:
        return sum(len(w) for w in self.words)

    def tags_in(self, scheme: str) -> list[list[str]]:
        """The tags converted to another scheme (IOB1, IOB2 or IOBES)."""
        if scheme == self.scheme:
            return self.tags
        return [convert_tags(t, self.scheme, scheme) for t in self.tags]


def read_corpus(path: str | Path, *, token_col: int = 0, tag_col: int = -1, scheme: str = "auto",
                repair: bool = False) -> Corpus:
    """Read a CoNLL file with tags; detect (or take) its scheme; refuse or repair invalid tag sequences."""
    sentences = list(read_conll(path, token_col=token_col, tag_col=tag_col, require_tags=True))
    words = [s.words for s in sentences]
    tags = [s.tags for s in sentences]
    lines = [s.line for s in sentences]
    starts = [s.doc_start for s in sentences]
    docs = document_ids(starts) if any(starts) else None          # no -DOCSTART-: each sentence on its own
    if scheme == "auto":
        scheme = detect_scheme(tags)
    written = list(tags)                                  # repair replaces sequences; these stay as written
    for k, seq in enumerate(tags):
        problems = invalid_transitions(seq, scheme)
        if not problems:
            continue
        if not repair:
            i, message = problems[0]
            raise DataError(path, lines[k] + i, f"a valid {scheme} tag sequence", f"{seq[i]!r} ({message})",
                            hint="fix the file, or read it as conlleval does: --repair (ner eval), "
                                 "--set data.repair=true (ner train)")
        tags[k] = repair_tags(seq, scheme)
    return Corpus(str(path), words, tags, lines, scheme, docs, written)


def document_ids(doc_starts: list[bool]) -> list[int]:
    """Document index of each sentence: a new document at every -DOCSTART- (sentences before the first
    one form document 0)."""
    out, doc = [], 0
    for k, start in enumerate(doc_starts):
        doc += bool(start and k)
        out.append(doc)
    return out


def convert_file(path: str | Path, to: str, *, source: str = "auto", repair: bool = False, token_col: int = 0,
                 tag_col: int = -1) -> tuple[str, str, int]:
    """The file's text with its tag column converted to scheme `to`: every token and -DOCSTART- line kept,
    other columns as they were (joined by one space), one blank line after each sentence and -DOCSTART- line.
    Returns (text, source scheme, repaired).

    Invalid tag sequences raise DataError unless `repair`, which reads them as conlleval does first.
    """
    sentences = list(read_conll(path, token_col=token_col, tag_col=tag_col, keep_columns=True))
    tags = [s.tags for s in sentences if s.words]
    if source == "auto":
        source = detect_scheme(tags)
    repaired = 0
    out: list[str] = []
    for s in sentences:
        seq = s.tags
        problems = invalid_transitions(seq, source)
        if problems and not repair:
            i, message = problems[0]
            raise DataError(path, s.line + i, f"a valid {source} tag sequence", f"{seq[i]!r} ({message})",
                            hint="pass --repair to read invalid sequences as conlleval does")
        if problems:
            seq = repair_tags(seq, source)
            repaired += 1
        out += [line + "\n\n" for line in s.docstarts]               # every -DOCSTART- line, as it was
        if not s.words:                                                 # -DOCSTART- lines at the very end
            continue
        new = convert_tags(seq, source, to)
        for cols, tag in zip(s.columns, new, strict=True):
            cols = list(cols)
            cols[tag_col] = tag
            out.append(" ".join(cols) + "\n")
        out.append("\n")
    return "".join(out), source, repaired
