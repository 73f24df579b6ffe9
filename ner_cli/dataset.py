"""Read a labelled CoNLL file into word and tag lists, check its tag scheme, and convert tags for a model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .conll import read_conll
from .errors import DataError
from .tags import convert_tags, detect_scheme, invalid_transitions, repair_tags


@dataclass
class Corpus:
    """Sentences of a labelled file. `tags` are in `scheme`, as read (after repair if asked)."""

    path: str
    words: list[list[str]]
    tags: list[list[str]]
    lines: list[int]          # 1-based line of each sentence's first token
    scheme: str

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
    if scheme == "auto":
        scheme = detect_scheme(tags)
    for k, seq in enumerate(tags):
        problems = invalid_transitions(seq, scheme)
        if not problems:
            continue
        if not repair:
            i, message = problems[0]
            raise DataError(path, lines[k] + i, f"a valid {scheme} tag sequence", f"{seq[i]!r} ({message})",
                            hint="fix the file, or pass --set data.repair=true to read it as conlleval does")
        tags[k] = repair_tags(seq, scheme)
    return Corpus(str(path), words, tags, lines, scheme)
