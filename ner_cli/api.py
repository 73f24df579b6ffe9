"""A small Python API over the inference pipeline: load a model once, tag an iterable of text lines.
Nothing here needs pickling.

    from ner_cli import api

    tagger = api.load("models/conll2003.npz")              # a path, or the file's bytes
    for record in api.records(tagger, ["Peter lives in Lyon ."]):
        print(record["entities"])                          # [{"start": 0, "end": 5, "label": "PER", ...}, ...]

To tag on other machines, ship the model file's *bytes* (a plain `bytes` object: any engine can broadcast it)
and call `tag_partition(lines, model_bytes)` inside each worker; it loads the model once per process and
yields one output string per input line, in order; `tag_bag(bag, model)` does that over a Dask bag. See the
README's Performance section for Dask and Spark.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .cluster import tag_bag
from .pipeline import CHUNK_LINES, cached_tagger, tag_chunks
from .tagger import Tagger

__all__ = ["load", "records", "tag", "tag_bag", "tag_partition"]

ModelSource = Tagger | bytes | str | Path


def load(source: ModelSource) -> Tagger:
    """A Tagger from a `.npz` path or its bytes (bytes are cached per process by content); a Tagger as is."""
    if isinstance(source, Tagger):
        return source
    if isinstance(source, bytes):
        return cached_tagger(source)
    return Tagger.load(source)


def tag(model: ModelSource, lines: Iterable[str] | str, fmt: str = "jsonl", paragraphs: bool = False,
        chunk_lines: int = CHUNK_LINES) -> Iterator[str]:
    """One output string per input line, newline-terminated, in input order (lazy: `chunk_lines` at a time, and
    documents, for document consistency, do not cross chunks: see `ner_cli.pipeline`).

    fmt: "jsonl" (a JSON object per line, each entity with its "score"), "conll" (a token<TAB>tag block and a
    blank line), "inline" or "html" (a paragraph per line); a single string is one line, never characters;
    anything else raises `UsageError` (a ValueError). Lines may end in "\\n" or "\\r\\n" (stripped) but must not
    contain other line breaks.
    """
    for out in tag_chunks(load(model), _as_lines(lines), fmt, paragraphs, chunk_lines=chunk_lines):
        yield from out


def _as_lines(lines: Iterable[str] | str) -> Iterable[str]:
    """A str is one line; bytes are refused (decode them first); anything else is an iterable of lines."""
    if isinstance(lines, str):
        return [lines]
    if isinstance(lines, bytes | bytearray):
        raise TypeError("lines must be a str (one line) or an iterable of str, not bytes: decode them first")
    return lines


def records(model: ModelSource, lines: Iterable[str] | str, paragraphs: bool = False
            ) -> Iterator[dict[str, Any]]:
    """One dict per input line: {"text": line, "entities": [{"start", "end", "label", "text", "score"}, ...]}.

    A single string is one line. "score" is the entity's probability (see `ner_cli.confidence`)."""
    for out in tag(model, lines, "jsonl", paragraphs):
        yield json.loads(out)


def tag_partition(lines: Iterable[str] | str, model_bytes: bytes, fmt: str = "jsonl",
                  paragraphs: bool = False) -> Iterator[str]:
    """The worker function for a Dask bag / Spark RDD of text lines: output strings without the final newline.

    `model_bytes` is the model file's content; it is loaded once per worker process, whatever the number of
    partitions. Each output element corresponds to the input element at the same position.
    """
    for out in tag(model_bytes, lines, fmt, paragraphs):
        yield out[:-1]
