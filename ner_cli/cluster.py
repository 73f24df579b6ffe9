"""Tagging on a Dask cluster: a bag of text lines in, a bag of output lines out, the model shipped once as bytes.

    import dask.bag as db
    from ner_cli.api import tag_bag                                     # defined here, in ner_cli.cluster

    lines = db.read_text("corpus/*.txt", blocksize="64MiB")             # one element per line, in order
    tag_bag(lines, "models/conll2003.npz").to_textfiles("out/*.jsonl", last_endline=True)

Output element i of a partition is the output of input element i (`api.tag_partition`), so the partition files
concatenated in order are byte for byte what `ner tag` writes for the concatenated input (`last_endline=True`
ends every element, the last one included, with a newline). Needs the `dask` extra: pip install 'ner-cli[dask]'.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .errors import NerError

if TYPE_CHECKING:
    import dask.bag


def tag_bag(lines: dask.bag.Bag, model: bytes | str | Path, fmt: str = "jsonl",
            paragraphs: bool = False) -> dask.bag.Bag:
    """A bag of output strings (without their final newline), one per input line, in the same partitions.

    `model` is a `.npz` path on this machine or its bytes. The bytes become one task of the graph: the scheduler
    holds them once, each worker fetches them once, and `api.tag_partition` loads them once per worker process
    whatever the number of partitions. The model is checked here first, so a bad file fails before any work.
    """
    try:
        import dask
    except ImportError:                                            # pragma: no cover - depends on the install
        raise NerError("Dask is not installed", hint="pip install 'ner-cli[dask]'") from None
    from .api import tag_partition
    from .pipeline import cached_tagger, check_format

    check_format(fmt)
    data = model if isinstance(model, bytes) else Path(model).read_bytes()
    cached_tagger(data)                                            # fail early, here, on a bad model
    shipped = dask.delayed(data, pure=True)                      # one key (a hash of the bytes) for all partitions
    return lines.map_partitions(tag_partition, shipped, fmt=fmt, paragraphs=paragraphs)
