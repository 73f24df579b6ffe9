"""The inference pipeline: streams of raw text (or pre-tokenized CoNLL) tagged in chunks,
tokenize -> tagger.predict -> format, in one process or fanned out to worker processes.

Memory stays flat: lines are read, tagged and written a chunk at a time, and output keeps input order.
`tag_chunks` is the pipeline; `tag_lines` (the CLI) and `api.tag` (Python, Dask, Spark) are views of it.
A worker process loads a model once from its bytes through the one per-process cache, `cached_tagger`.

Documents (for a model with document features, features/document.py): with one sentence per line, a
document is a block of non-blank lines, ended by a blank line or by the end of a chunk (`chunks` ends a chunk
at a blank line when one comes within CHUNK_LINES lines of the chunk's start, and after CHUNK_LINES
non-blank lines at most); with `--paragraphs`, each line is a document; with `--input conll`, a -DOCSTART-
line opens one.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections import deque
from collections.abc import Iterable, Iterator

from .errors import UsageError
from .io.tokenize import split_sentences, tokenize, tokenize_lines
from .io.writers import FORMATS, sentence_entities
from .tagger import Tagger

CHUNK_LINES = 2000


def tokenize_line(line: str, paragraphs: bool) -> list[tuple[list[str], list[int], list[int]]]:
    """The sentences of one input line, each as (tokens, starts, ends) with offsets into `line`."""
    if not paragraphs:
        return [tokenize(line)]
    out = []
    for a, b in split_sentences(line):
        toks, starts, ends = tokenize(line[a:b])
        out.append((toks, [s + a for s in starts], [e + a for e in ends]))
    return out


def format_lines(tagger: Tagger, lines: list[str], fmt: str, paragraphs: bool) -> list[str]:
    """Tag a list of lines (without their newlines): one output string (newline-terminated) per line."""
    formatter = FORMATS[fmt]
    if not paragraphs:                                             # one sentence per line: the fast path
        per_sentence = tokenize_lines(lines, offsets=fmt != "conll")     # conll output needs no offsets
        docs = line_documents(lines)
        tags = iter(tagger.predict([t for t, _, _ in per_sentence if t],
                                   [d for d, (t, _, _) in zip(docs, per_sentence, strict=True) if t]))
        return [formatter(line, t, s, e, next(tags) if t else [])
                for line, (t, s, e) in zip(lines, per_sentence, strict=True)]
    per_line = [tokenize_line(line, paragraphs) for line in lines]
    sentences = [s[0] for sents in per_line for s in sents if s[0]]
    docs = [k for k, sents in enumerate(per_line) for s in sents if s[0]]      # a line is a document
    tags = iter(tagger.predict(sentences, docs))
    out = []
    for line, sents in zip(lines, per_line, strict=True):
        toks: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        per_sentence_tags: list[list[str]] = []
        for t, s, e in sents:
            if not t:
                continue
            toks += t
            starts += s
            ends += e
            per_sentence_tags.append(next(tags))
        line_tags = [tag for seq in per_sentence_tags for tag in seq]
        # entities never run across a sentence boundary (see writers.sentence_entities)
        out.append(formatter(line, toks, starts, ends, line_tags, entities=sentence_entities(per_sentence_tags)))
    return out


def line_documents(lines: list[str]) -> list[int]:
    """Document of each line: a blank line ends a document (the blank line itself goes with the next)."""
    out, doc = [], 0
    for line in lines:
        if not line.strip():
            doc += 1
        out.append(doc)
    return out


def chunks(lines: Iterable[str], size: int = CHUNK_LINES) -> Iterator[list[str]]:
    """Lines without their end-of-line characters, in lists of `size` or more: a chunk that has reached
    `size` lines goes on to its next blank line (so documents are not cut), but never past 2 * `size`."""
    it = (line.rstrip("\r\n") for line in lines)
    while batch := list(itertools.islice(it, size)):
        while len(batch) < 2 * size and batch[-1].strip():
            line = next(it, None)
            if line is None:
                break
            batch.append(line)
        yield batch


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise UsageError(f"unknown output format {fmt!r} (choose from {', '.join(FORMATS)})")


def tag_chunks(model: Tagger | bytes, lines: Iterable[str], fmt: str = "conll", paragraphs: bool = False, *,
               workers: int = 1, chunk_lines: int = CHUNK_LINES) -> Iterator[list[str]]:
    """Tag raw text lines chunk by chunk: for each chunk, one output string (newline-terminated) per line.

    With `workers` > 1 the chunks are tagged in that many processes, each loading the model once from its
    bytes; output stays in input order, with at most 2·workers chunks in flight.
    """
    check_format(fmt)
    if workers <= 1:
        tagger = cached_tagger(model) if isinstance(model, bytes) else model
        for batch in chunks(lines, chunk_lines):
            yield format_lines(tagger, batch, fmt, paragraphs)
        return
    import multiprocessing as mp

    data = model if isinstance(model, bytes) else model.to_bytes()
    cached_tagger(data)                                            # fail early, in this process, if invalid
    ctx = mp.get_context("spawn" if os.name == "nt" else "forkserver")
    with ctx.Pool(workers, initializer=cached_tagger, initargs=(data,)) as pool:
        pending: deque = deque()
        for batch in chunks(lines, chunk_lines):
            pending.append(pool.apply_async(_work, ((batch, fmt, paragraphs),)))
            if len(pending) >= 2 * workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def tag_lines(model: Tagger | bytes, lines: Iterable[str], fmt: str = "conll", paragraphs: bool = False, *,
              workers: int = 1) -> Iterator[str]:
    """Like `tag_chunks`, but the output of each chunk as one string (what the CLI writes)."""
    for out in tag_chunks(model, lines, fmt, paragraphs, workers=workers):
        yield "".join(out)


# ---- the per-process model cache ---------------------------------------------------------------------------

_cache: dict[bytes, Tagger] = {}        # sha256 of model bytes -> Tagger: one load per process


def cached_tagger(model_bytes: bytes) -> Tagger:
    """A Tagger from a model file's bytes, loaded once per process (one model kept: memory stays flat)."""
    key = hashlib.sha256(model_bytes).digest()
    if key not in _cache:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        _cache.clear()
        _cache[key] = Tagger.from_bytes(model_bytes)
    return _cache[key]


def _work(args: tuple[list[str], str, bool]) -> list[str]:
    """A chunk tagged in a worker process, with the model its initializer loaded into the cache."""
    lines, fmt, paragraphs = args
    (tagger,) = _cache.values()
    return format_lines(tagger, lines, fmt, paragraphs)


def tag_conll_input(tagger: Tagger, stream: Iterable[str], name: str, chunk: int = 1000) -> Iterator[str]:
    """Tag pre-tokenized CoNLL (token in the first column, other columns ignored): 'token<TAB>tag' lines."""
    from .io.conll import parse_conll_lines
    from .io.dataset import document_ids
    from .io.writers import format_conll

    sentences = parse_conll_lines(stream, name=name, require_tags=False)
    while batch := list(itertools.islice(sentences, chunk)):
        starts = [s.doc_start for s in batch]                     # -DOCSTART- opens a document
        docs = document_ids(starts) if any(starts) else None
        words = [s.words for s in batch]
        yield "".join(format_conll(w, t) for w, t in zip(words, tagger.predict(words, docs), strict=True))
