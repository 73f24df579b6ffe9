"""The inference pipeline: streams of raw text (or pre-tokenized CoNLL) tagged in chunks,
tokenize -> featurize -> score -> decode -> render, whole chunks at once (flat arrays, no Python loop per
token or per sentence), in one process or fanned out to worker processes.

Memory stays flat: lines are read, tagged and written a chunk at a time, and output keeps input order.
`tag_chunks` is the pipeline; `tag_lines` (the CLI) and `api.tag` (Python, Dask, Spark) are views of it.
A worker process loads a model once from its bytes through the one per-process cache, `cached_tagger`.

Documents (for document consistency, nn/consistency.py, and the document features, features/document.py):
with one sentence per line, a document is a block of non-blank lines, ended by a blank line, by the end of a
chunk (`chunks` ends a chunk at a blank line when one comes within CHUNK_LINES lines of the chunk's start, and
after CHUNK_LINES non-blank lines at most) or after DOC_LINES lines; with `--paragraphs`, each line is a
document; with `--input conll`, a -DOCSTART- line opens one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from .errors import DataError, UsageError
from .io.tokenize import TokenizedChunk, split_sentences, tokenize, tokenize_chunk
from .io.writers import FORMATS, RENDERERS, TaggedChunk
from .tagger import Tagger

CHUNK_LINES = 2000
CHUNK_CHARS = 1 << 20          # and at most ~1M characters a chunk: memory follows bytes, not lines (R3)
MAX_LINE_CHARS = 10_000_000    # one line is one sentence (or paragraph) tagged at once: ~40x its size in memory
# a block of more lines without a blank one is cut into documents of this many: text that marks no documents
# is not one long document. Document consistency, CoNLL-2003 dev as one sentence a line in blocks of k lines
# (built-in model): k = 25/50/100: dev 93.46/93.45/93.45; 200: 93.33; 2,000: 93.16 (no consistency: 93.39)
DOC_LINES = 100


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


def wants_scores(fmt: str, scores: bool = False, min_score: float | None = None) -> bool:
    """Entity probabilities are computed only when shown or used: jsonl, html, --scores, --min-score."""
    return fmt in ("jsonl", "html") or scores or min_score is not None


def tag_chunk(tagger: Tagger, lines: list[str], paragraphs: bool = False, *, with_scores: bool = False,
              scores: bool = False, min_score: float | None = None) -> TaggedChunk:
    """Tokenize, featurize, score and decode a batch of lines (without their newlines), all flat.

    with_scores: each entity's probability too (`Tagger.predict_flat_scored`); scores: a score column in conll;
    min_score: entities less probable than it are dropped (their tokens become O).
    """
    if paragraphs:
        chunk, lengths, docs = tokenize_paragraphs(lines)
    else:                                                          # one sentence per non-empty line
        chunk = tokenize_chunk(lines)
        docs = line_documents(lines)[chunk.counts > 0]
        lengths = chunk.counts[chunk.counts > 0]
    probs = None
    if with_scores or scores or min_score is not None:
        ids, probs = tagger.predict_flat_scored(chunk.tokens, lengths, docs)
        if min_score is not None:
            ids, probs = drop_unsure(ids, probs, lengths, tagger.out_labels, min_score)
    else:
        ids = tagger.predict_flat(chunk.tokens, lengths, docs)
    return TaggedChunk(lines, chunk.tokens, chunk.starts, chunk.ends, chunk.counts, lengths, ids,
                       tagger.out_labels, probs, scores)


def drop_unsure(ids: np.ndarray, probs: np.ndarray, lengths: np.ndarray, labels: list[str], min_score: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """Entities less probable than `min_score` turned into O tokens; the kept entities' probabilities."""
    from .confidence import find_spans

    low = probs < min_score
    if not low.any():
        return ids, probs
    starts, ends = find_spans(ids, lengths, labels)
    marks = np.zeros(len(ids) + 1, dtype=np.int64)                 # +1 where a dropped entity starts, -1 after
    np.add.at(marks, starts[low], 1)
    np.add.at(marks, ends[low], -1)
    ids = np.where(np.cumsum(marks)[:-1] > 0, labels.index("O"), ids)
    return ids, probs[~low]


def format_lines(tagger: Tagger, lines: list[str], fmt: str, paragraphs: bool, scores: bool = False,
                 min_score: float | None = None) -> list[str]:
    """Tag a list of lines (without their newlines): one output string (newline-terminated) per line."""
    chunk = tag_chunk(tagger, lines, paragraphs, with_scores=wants_scores(fmt), scores=scores, min_score=min_score)
    return RENDERERS[fmt](chunk)


def line_documents(lines: list[str], max_lines: int = DOC_LINES) -> np.ndarray:
    """(L,) document of each line: a blank line ends a document (the blank line itself goes with the next), and
    a block of non-blank lines is cut every `max_lines` lines."""
    blank = np.fromiter((not line.strip() for line in lines), dtype=bool, count=len(lines))
    index = np.arange(len(lines))
    since = index - np.maximum.accumulate(np.where(blank, index, -1)) - 1  # non-blank lines before, in the block
    return np.cumsum(blank | (~blank & (since > 0) & (since % max_lines == 0)))


def chunks(lines: Iterable[str], size: int = CHUNK_LINES, chars: int = CHUNK_CHARS, name: str = "<input>",
           pause: Callable[[], bool] | None = None) -> Iterator[list[str]]:
    """Lines without their end-of-line characters, in lists of `size` or more lines: a chunk that has reached
    `size` lines goes on to its next blank line (so documents are not cut), but never past 2 * `size` lines.
    A chunk never holds more than `chars` characters unless one line is longer (memory follows bytes, R3).
    A line longer than MAX_LINE_CHARS is a DataError naming it. With `pause` (input that arrives slowly, see
    `io.source.LineChunks`), a chunk also ends whenever `pause()` says no further line is waiting."""
    batch: list[str] = []
    total = 0
    it = iter(lines)
    lineno = 0
    while True:
        if batch and pause is not None and pause():
            yield batch
            batch, total = [], 0
        line = next(it, None)
        if line is None:
            break
        lineno += 1
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


def tag_chunks(model: Tagger | bytes, lines: Iterable[str] | Iterable[list[str]], fmt: str = "conll",
               paragraphs: bool = False, *, workers: int = 1, chunk_lines: int = CHUNK_LINES, chunked: bool = False,
               scores: bool = False, min_score: float | None = None,
               input_waiting: Callable[[], bool] | None = None) -> Iterator[list[str]]:
    """Tag raw text lines chunk by chunk: for each chunk, one output string (newline-terminated) per line.

    With `chunked`, `lines` already comes as lists of lines without line ends (`io.source.LineChunks`, which
    ends a chunk early when the input pauses). With `workers` > 1 the chunks are tagged in that many processes
    (process_pool.OrderedPool), each loading the model once from its bytes; output stays in input order, with at
    most 2·workers chunks in flight, and with `input_waiting` (`LineChunks.waiting`) what is tagged is given
    before waiting for input that paused. scores / min_score: see `tag_chunk`.
    """
    check_format(fmt)
    batches = lines if chunked else chunks(lines, chunk_lines)          # type: ignore[arg-type]
    options = {"scores": scores, "min_score": min_score}
    if workers <= 1:
        tagger = cached_tagger(model) if isinstance(model, bytes) else model
        for batch in batches:
            yield format_lines(tagger, batch, fmt, paragraphs, **options)
        return
    from .process_pool import OrderedPool

    if isinstance(model, bytes):
        cached_tagger(model)                                       # fail early, in this process, if invalid
    data = model if isinstance(model, bytes) else model.to_bytes()
    # by name: a worker imports this module (numpy...) only once it has set Ctrl-C aside
    with OrderedPool(workers, f"{__name__}:cached_tagger", data, f"{__name__}:_work") as pool:
        yield from pool.map(((batch, fmt, paragraphs, options) for batch in batches), ready=input_waiting)


def tag_lines(model: Tagger | bytes, lines: Iterable[str] | Iterable[list[str]], fmt: str = "conll",
              paragraphs: bool = False, **options: Any) -> Iterator[str]:
    """Like `tag_chunks` (the same options), but the output of each chunk as one string (what the CLI writes)."""
    for out in tag_chunks(model, lines, fmt, paragraphs, **options):
        yield "".join(out)


# ---- the per-process model cache ---------------------------------------------------------------------------

_cache: dict[bytes, Tagger] = {}        # sha256 of model bytes -> Tagger: one load per process


def cached_tagger(model_bytes: bytes) -> Tagger:
    """A Tagger from a model file's bytes, loaded once per process (one model kept: memory stays flat)."""
    import hashlib  # here, not at the top: loading OpenSSL costs `ner tag` 7 ms

    key = hashlib.sha256(model_bytes).digest()
    if key not in _cache:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        _cache.clear()
        _cache[key] = Tagger.from_bytes(model_bytes)
    return _cache[key]


def _work(tagger: Tagger, args: tuple[list[str], str, bool, dict[str, Any]]) -> list[str]:
    """A chunk tagged in a worker process (process_pool.OrderedPool), with the model it loaded once."""
    lines, fmt, paragraphs, options = args
    return format_lines(tagger, lines, fmt, paragraphs, **options)


def conll_batches(sentences: Iterable[Any], size: int, most: int | None = None) -> Iterator[list[Any]]:
    """Lists of parsed CoNLL sentences: a list that has `size` goes on to the next -DOCSTART- (so documents are not
    cut), but never past `most` (10 x `size`)."""
    most = 10 * size if most is None else most
    batch: list[Any] = []
    for sentence in sentences:
        if len(batch) >= size and (sentence.doc_start or len(batch) >= most):
            yield batch
            batch = []
        batch.append(sentence)
    if batch:
        yield batch


def tag_conll_input(tagger: Tagger, stream: Iterable[str], name: str, chunk: int = 1000, scores: bool = False,
                    min_score: float | None = None) -> Iterator[str]:
    """Tag pre-tokenized CoNLL (token in the first column, other columns ignored): 'token<TAB>tag' lines (and a
    score column with `scores`; `min_score` as in `tag_chunk`)."""
    from .io.conll import parse_conll_lines
    from .io.dataset import document_ids
    from .io.writers import format_conll, score_column

    seen_docstart = False                                          # a file without -DOCSTART-: each sentence
    for batch in conll_batches(parse_conll_lines(stream, name=name, require_tags=False), chunk):
        starts = [s.doc_start for s in batch]                     # -DOCSTART- opens a document
        seen_docstart = seen_docstart or any(starts)
        docs = document_ids(starts) if seen_docstart else None
        words = [s.words for s in batch]
        if not scores and min_score is None:
            yield "".join(format_conll(w, t) for w, t in zip(words, tagger.predict(words, docs), strict=True))
            continue
        tags, found = tagger.predict_scored(words, docs)
        out = []
        for w, t, ents in zip(words, tags, found, strict=True):
            if min_score is not None:
                for _, i, j, p in ents:
                    if p < min_score:
                        t[i:j] = ["O"] * (j - i)
                ents = [e for e in ents if e[3] >= min_score]
            column = score_column(len(w), [e[:3] for e in ents], [e[3] for e in ents]) if scores else None
            out.append(format_conll(w, t, column))
        yield "".join(out)
