"""The inference pipeline: streams of raw text (or pre-tokenized CoNLL) tagged in chunks,
tokenize -> tagger.predict -> format, in one process or fanned out to worker processes.

Memory stays flat: lines are read, tagged and written a chunk at a time, and output keeps input order.
`tag_chunks` is the pipeline; `tag_lines` (the CLI) and `api.tag` (Python, Dask, Spark) are views of it.
A worker process loads a model once from its bytes through the one per-process cache, `cached_tagger`.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections import deque
from collections.abc import Iterable, Iterator

from .errors import DataError, UsageError
from .io.tokenize import split_sentences, tokenize, tokenize_lines
from .io.writers import FORMATS, format_conll, sentence_entities
from .tagger import Tagger

CHUNK_LINES = 2000
CHUNK_CHARS = 1 << 20          # and at most ~1M characters a chunk: memory follows bytes, not lines (R3)
MAX_LINE_CHARS = 10_000_000    # one line is one sentence (or paragraph) tagged at once: ~40x its size in memory


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
        tags = iter(tagger.predict([t for t, _, _ in per_sentence if t]))
        return [formatter(line, t, s, e, next(tags) if t else [])
                for line, (t, s, e) in zip(lines, per_sentence, strict=True)]
    per_line = [tokenize_line(line, paragraphs) for line in lines]
    sentences = [s[0] for sents in per_line for s in sents if s[0]]
    tags = iter(tagger.predict(sentences))
    out = []
    if fmt == "conll":                                             # a blank line after each sentence
        for sents in per_line:
            found = [format_conll(t, next(tags)) for t, _, _ in sents if t]
            out.append("".join(found) or "\n")
        return out
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


def chunks(lines: Iterable[str], size: int = CHUNK_LINES, chars: int = CHUNK_CHARS,
           name: str = "<input>") -> Iterator[list[str]]:
    """Lines without their end-of-line characters, in lists of at most `size` lines and (unless one line is
    longer) `chars` characters. A line longer than MAX_LINE_CHARS is a DataError naming it."""
    batch: list[str] = []
    total = 0
    for lineno, line in enumerate(lines, start=1):
        line = line.rstrip("\r\n")
        if len(line) > MAX_LINE_CHARS:
            raise DataError(name, lineno, f"a line of at most {MAX_LINE_CHARS:,} characters (one sentence, or "
                            "one paragraph with --paragraphs)", f"{len(line):,}",
                            hint="split the text into lines, e.g. one sentence or paragraph a line")
        if batch and (len(batch) >= size or total + len(line) > chars):
            yield batch
            batch, total = [], 0
        batch.append(line)
        total += len(line)
    if batch:
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
    with ctx.Pool(workers, initializer=_init_worker, initargs=(data,)) as pool:
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


def _init_worker(model_bytes: bytes) -> None:
    """A worker ignores Ctrl-C (the terminal sends it to the whole process group): the parent stops the pool,
    so an interrupt prints one "interrupted", not a traceback per worker (T11)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    cached_tagger(model_bytes)


def _work(args: tuple[list[str], str, bool]) -> list[str]:
    """A chunk tagged in a worker process, with the model its initializer loaded into the cache."""
    lines, fmt, paragraphs = args
    (tagger,) = _cache.values()
    return format_lines(tagger, lines, fmt, paragraphs)


def tag_conll_input(tagger: Tagger, stream: Iterable[str], name: str, chunk: int = 1000) -> Iterator[str]:
    """Tag pre-tokenized CoNLL (token in the first column, other columns ignored): 'token<TAB>tag' lines."""
    from .io.conll import parse_conll_lines

    sentences = parse_conll_lines(stream, name=name, require_tags=False)
    while batch := [s.words for s in itertools.islice(sentences, chunk)]:
        yield "".join(format_conll(w, t) for w, t in zip(batch, tagger.predict(batch), strict=True))
