"""The inference pipeline: streams of raw text (or pre-tokenized CoNLL) tagged in chunks,
tokenize -> featurize -> score -> decode -> render, whole chunks at once (flat arrays, no Python loop per
token or per sentence), in one process or fanned out to worker processes.

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

import numpy as np

from .errors import DataError, UsageError
from .io.tokenize import TokenizedChunk, split_sentences, tokenize, tokenize_chunk
from .io.writers import FORMATS, RENDERERS, TaggedChunk
from .tagger import Tagger

CHUNK_LINES = 2000
CHUNK_CHARS = 1 << 20          # and at most ~1M characters a chunk: memory follows bytes, not lines (R3)
MAX_LINE_CHARS = 10_000_000    # one line is one sentence (or paragraph) tagged at once: ~40x its size in memory


def tokenize_paragraphs(lines: list[str]) -> tuple[TokenizedChunk, np.ndarray, np.ndarray]:
    """Each line split into sentences, then tokenized: the flat chunk, its sentence lengths (all > 0) and the
    line of each sentence (a line is a document)."""
    tokens: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    counts: list[int] = []
    lengths: list[int] = []
    docs: list[int] = []
    for k, line in enumerate(lines):
        n = 0
        for a, b in split_sentences(line):
            toks, s, e = tokenize(line[a:b])
            if toks:
                tokens += toks
                starts += [x + a for x in s]
                ends += [x + a for x in e]
                lengths.append(len(toks))
                docs.append(k)
                n += len(toks)
        counts.append(n)
    chunk = TokenizedChunk(tokens, np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64),
                           np.array(counts, dtype=np.int64))
    return chunk, np.array(lengths, dtype=np.int64), np.array(docs, dtype=np.int64)


def tag_chunk(tagger: Tagger, lines: list[str], paragraphs: bool = False) -> TaggedChunk:
    """Tokenize, featurize, score and decode a batch of lines (without their newlines), all flat."""
    if paragraphs:
        chunk, lengths, docs = tokenize_paragraphs(lines)
    else:                                                          # one sentence per non-empty line
        chunk = tokenize_chunk(lines)
        docs = line_documents(lines)[chunk.counts > 0]
        lengths = chunk.counts[chunk.counts > 0]
    ids = tagger.predict_flat(chunk.tokens, lengths, docs)
    return TaggedChunk(lines, chunk.tokens, chunk.starts, chunk.ends, chunk.counts, lengths, ids,
                       tagger.out_labels)


def format_lines(tagger: Tagger, lines: list[str], fmt: str, paragraphs: bool) -> list[str]:
    """Tag a list of lines (without their newlines): one output string (newline-terminated) per line."""
    return RENDERERS[fmt](tag_chunk(tagger, lines, paragraphs))


def line_documents(lines: list[str]) -> np.ndarray:
    """(L,) document of each line: a blank line ends a document (the blank line itself goes with the next)."""
    blank = np.fromiter((not line.strip() for line in lines), dtype=bool, count=len(lines))
    return np.cumsum(blank)


def chunks(lines: Iterable[str], size: int = CHUNK_LINES, chars: int = CHUNK_CHARS,
           name: str = "<input>") -> Iterator[list[str]]:
    """Lines without their end-of-line characters, in lists of `size` lines or more: a chunk that has reached
    `size` lines goes on to its next blank line (so documents are not cut), but never past 2 * `size`. A chunk
    also ends before it would pass `chars` characters (unless it is one line): memory follows bytes, not lines.
    A line longer than MAX_LINE_CHARS is a DataError naming it."""
    batch: list[str] = []
    total = 0
    for lineno, line in enumerate(lines, start=1):
        line = line.rstrip("\r\n")
        if len(line) > MAX_LINE_CHARS:
            raise DataError(name, lineno, f"a line of at most {MAX_LINE_CHARS:,} characters (one sentence, or "
                            "one paragraph with --paragraphs)", f"{len(line):,}",
                            hint="split the text into lines, e.g. one sentence or paragraph a line")
        if batch and total + len(line) > chars:
            yield batch
            batch, total = [], 0
        batch.append(line)
        total += len(line)
        if len(batch) >= 2 * size or (len(batch) >= size and not line.strip()):
            yield batch
            batch, total = [], 0
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
    from .io.dataset import document_ids
    from .io.writers import format_conll

    sentences = parse_conll_lines(stream, name=name, require_tags=False)
    while batch := list(itertools.islice(sentences, chunk)):
        starts = [s.doc_start for s in batch]                     # -DOCSTART- opens a document
        docs = document_ids(starts) if any(starts) else None
        words = [s.words for s in batch]
        yield "".join(format_conll(w, t) for w, t in zip(words, tagger.predict(words, docs), strict=True))
