"""Model files: one `.npz` holding every parameter array plus JSON metadata, written atomically.

Layout: one array per parameter (`nn.model.param_shapes`: E, K, X, D, G, Q, W, b, u | U, c, A, A_start, A_end),
`__meta__`, a uint8 array of UTF-8 JSON: format version, model spec, vocabulary, tag set, schemes, config and
scores, and `__fallback_words__` if the model has fallback rows: their words, sorted, as fixed-width UTF-8 bytes.
Loading uses `allow_pickle=False` and checks every array's presence, dtype and shape against the spec before use.
"""

from __future__ import annotations

import errno
import io
import json
import os
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..errors import ModelFileError, excerpt
from ..nn.model import ModelSpec, Params, param_shapes

FORMAT_VERSION = 5        # 5: the fallback words as a member of their own; 4: untrained fallback rows of E as int4;
                          # 3: E as int8 rows with a float32 scale each; 2: E as float16 byte planes (all load)
META_KEY = "__meta__"
# The fallback rows' words (features/fallback.py): a sorted numpy `S` array, named by meta["vocab"]
# ["fallback_words"] in the file and replaced by the array itself in memory. Format 4 listed them in the JSON keys.
FALLBACK_KEY = "__fallback_words__"
MAX_WORD_BYTES = 64       # the widest fallback word a file may declare
# E (vocabulary x d) is nearly the whole file. Each row is stored as int8 times one float32 scale (its largest
# |value| / 127): 5.6 MB for the default CoNLL-2003 model's E instead of 8.9 MB as float16 byte planes, and read
# without inflating anything (~50 ms less start-up). On the built-in model it moves CoNLL-2003 dev F1 from 93.26
# to 93.25 and test from 88.52 to 88.50 (bench/ABLATIONS.md). W is stored in half precision (dev F1 of the default
# model 93.40 instead of 93.41, test the same), as is Q, the character n-gram table (65536 rows by default).
# Loading casts everything back to float32.
INT8_ROWS = "int8-rows"
STORE_DTYPE: dict[str, Any] = {"E": INT8_ROWS, "W": np.float16, "Q": np.float16}
# A float16 array k is stored as its two byte planes: member k holds the high bytes (sign, exponent and the top
# of the mantissa: very repetitive), deflated; member "k.lo" the low bytes (near random), stored. Lossless: the
# float16 values read back are the ones written. An int8-rows array k: member k the int8 values, "k.scale" the
# float32 scale of each row, both stored.
PLANES = "float16-byte-planes"
# The last meta["vocab"]["fallback_rows"] rows of E (pretrained vectors of words training never saw,
# features/fallback.py) need less precision: members k and k.scale hold the int8 rows before them and every row's
# scale, k.int4 the fallback rows as 4-bit values, two to a byte (25 bytes a row instead of 50; dev F1 the same).
INT8_INT4_ROWS = "int8-rows+int4-rows"
DEFLATE_LEVEL = 1         # level 6 saves 0.1 MB more at 5x the time (the model is saved at every best epoch)
EXTRA_MEMBERS = {PLANES: (".lo",), INT8_ROWS: (".scale",), INT8_INT4_ROWS: (".scale", ".int4")}


def to_int8_rows(a: np.ndarray, block: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """(rows, d) float array -> (int8 values, float32 scale per row), value ≈ int8 · scale, |error| ≤ scale / 2.
    `block` rows at a time: a model is saved at every best epoch, beside the optimiser's state, so the
    temporaries stay a few MB instead of three copies of E."""
    a = np.asarray(a, dtype=np.float32)
    values, scale = np.empty(a.shape, dtype=np.int8), np.empty(len(a), dtype=np.float32)
    for i in range(0, len(a), block):
        rows = a[i:i + block]
        s = np.abs(rows).max(axis=1, initial=0) / np.float32(127)
        scale[i:i + block] = s
        q = rows / np.where(s > 0, s, np.float32(1))[:, None]
        np.rint(q, out=q)
        values[i:i + block] = np.clip(q, -127, 127, out=q)
    return values, scale


def from_int8_rows(values: np.ndarray, scale: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The inverse of `to_int8_rows` (float32), into `out` if given (no temporary copy)."""
    return np.multiply(values, scale[:, None], out=out, dtype=np.float32)


def to_int4_rows(a: np.ndarray, block: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """(rows, d) float array -> (uint8 (rows, ⌈d/2⌉): two 4-bit values a byte, float32 scale per row), value ≈
    q · scale with q in -7..7 (stored as q + 8), |error| ≤ scale / 2. `block` rows at a time, as `to_int8_rows`."""
    a = np.asarray(a, dtype=np.float32)
    d = a.shape[1]
    packed, scale = np.empty((len(a), (d + 1) // 2), dtype=np.uint8), np.empty(len(a), dtype=np.float32)
    for i in range(0, len(a), block):
        rows = a[i:i + block]
        s = np.abs(rows).max(axis=1, initial=0) / np.float32(7)
        scale[i:i + block] = s
        q = np.full((len(rows), 2 * packed.shape[1]), 8, dtype=np.uint8)    # an odd d pads with a zero (8)
        q[:, :d] = np.clip(np.rint(rows / np.where(s > 0, s, np.float32(1))[:, None]), -7, 7) + 8
        packed[i:i + block] = q[:, 0::2] << 4 | q[:, 1::2]
    return packed, scale


def from_int4_rows(packed: np.ndarray, scale: np.ndarray, d: int, out: np.ndarray | None = None) -> np.ndarray:
    """The inverse of `to_int4_rows` (float32 (rows, d)), into `out` if given (no temporary copy)."""
    q = np.empty((len(packed), 2 * packed.shape[1]), dtype=np.int8)
    np.right_shift(packed, 4, out=q[:, 0::2], casting="unsafe")
    np.bitwise_and(packed, 0x0F, out=q[:, 1::2], casting="unsafe")
    out = np.subtract(q[:, :d], 8, out=out, dtype=np.float32)
    out *= scale[:, None]
    return out


@dataclass(frozen=True)
class QuantizedRows:
    """A float32 (rows, d) array as a file stores it: int8 rows (`head`), then int4 rows (`tail`, two values a
    byte, or None), each row times its float32 `scale`. A tagger dequantises only the rows of the words it reads
    (`into`): the built-in model's E is 39 MB as float32, and a short text reads a few hundred of its rows."""

    head: np.ndarray
    scale: np.ndarray
    tail: np.ndarray | None
    shape: tuple[int, int]

    def into(self, out: np.ndarray, ids: np.ndarray) -> None:
        """Dequantise rows `ids` (sorted, distinct) into the same rows of `out` (float32, `shape`)."""
        cut = int(np.searchsorted(ids, len(self.head)))
        if cut:
            out[ids[:cut]] = from_int8_rows(self.head[ids[:cut]], self.scale[ids[:cut]])
        if cut < len(ids):
            tail = ids[cut:]
            out[tail] = from_int4_rows(self.tail[tail - len(self.head)], self.scale[tail], self.shape[1])

    def values_ok(self) -> bool:
        """Every value finite in float32 whatever the stored integers: each scale finite and at most float32's
        largest over the largest |integer| its rows can hold (128 for int8, 8 for int4 stored as q + 8). Checked
        from the scales alone, so a lazy and a whole load refuse the same files; the writer's scale is the row's
        largest |value| / 127 (or / 7), well inside."""
        largest = np.finfo(np.float32).max
        head, tail = self.scale[:len(self.head)], self.scale[len(self.head):]
        return bool(np.isfinite(self.scale).all() and (np.abs(head) <= largest / 128).all()
                    and (np.abs(tail) <= largest / 8).all())

    def full(self, out: np.ndarray | None = None) -> np.ndarray:
        """Every row dequantised (float32 `shape`), into `out` if given."""
        out = np.empty(self.shape, dtype=np.float32) if out is None else out
        h = len(self.head)
        from_int8_rows(self.head, self.scale[:h], out=out[:h])
        if self.tail is not None:
            from_int4_rows(self.tail, self.scale[h:], self.shape[1], out=out[h:])
        return out


def to_planes(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float16 array -> (high bytes, low bytes), two uint8 arrays of its shape."""
    u = a.astype("<f2", copy=False).view("<u2")
    return (u >> 8).astype(np.uint8), (u & 0xFF).astype(np.uint8)


def from_planes(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """The inverse of `to_planes`: float16 values from their high and low bytes."""
    u = high.astype("<u2")
    u <<= 8
    u |= low
    return u.view("<f2")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes | memoryview) -> None:
    """Write to a temporary file in the same directory, fsync, then rename over `path`: never half-written.

    A symlink is followed (its target is replaced). A device, pipe or /proc/self/fd link (/dev/stdout,
    /dev/null) is written in place, never renamed over; a directory raises IsADirectoryError.
    """
    atomic_write(path, lambda f: f.write(data))


def atomic_write(path: str | Path, write: Callable[[BinaryIO], object]) -> None:
    """`atomic_write_bytes` for content that `write(file)` streams into the file (no copy in memory first)."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    link = os.readlink(path) if path.is_symlink() else ""
    if (path.exists() and not path.is_file()) or link.startswith("/proc/") \
            or Path(os.path.realpath(path.parent)).parts[:2] == ("/", "proc"):
        with open(path, "wb") as f:
            write(f)
        return
    path = Path(os.path.realpath(path)) if link else path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())                           # mkstemp makes 0600; files normally follow umask
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def model_bytes(params: Params, meta: dict[str, Any], store_dtype: dict[str, Any] | None = None) -> bytes:
    """The `.npz` file content for these arrays and metadata (`write_model` into memory)."""
    buf = io.BytesIO()
    write_model(buf, params, meta, store_dtype)
    return buf.getvalue()


def write_model(f: BinaryIO, params: Params, meta: dict[str, Any], store_dtype: dict[str, Any] | None = None
                ) -> None:
    """Write the `.npz` file of these arrays and metadata to `f` (dtypes per `store_dtype`, default STORE_DTYPE).

    float16 arrays are stored as byte planes (`to_planes`), E as int8 rows (`to_int8_rows`), each named in the
    metadata's "storage"; the high planes and the metadata are deflated, the other arrays stored as they are.
    `np.load` reads the file as any `.npz`.
    """
    store_dtype = STORE_DTYPE if store_dtype is None else store_dtype
    rows = {k for k, v in params.items() if store_dtype.get(k) == INT8_ROWS and v.ndim == 2}
    arrays = {k: np.asarray(v, dtype=_fits(v, store_dtype.get(k, v.dtype))) for k, v in params.items()
              if k not in rows}
    storage = {k: PLANES for k, a in arrays.items() if a.dtype == np.float16}
    for k in storage:
        arrays[k], arrays[f"{k}.lo"] = to_planes(arrays[k])
    n_fallback = int(meta.get("vocab", {}).get("fallback_rows", 0))
    for k in rows:
        head = len(params[k]) - n_fallback if k == "E" else len(params[k])
        arrays[k], scale = to_int8_rows(params[k][:head])
        storage[k] = INT8_ROWS
        if head < len(params[k]):
            arrays[f"{k}.int4"], tail_scale = to_int4_rows(params[k][head:])
            scale = np.concatenate([scale, tail_scale])
            storage[k] = INT8_INT4_ROWS
        arrays[f"{k}.scale"] = scale
    vocab = meta.get("vocab", {})
    if isinstance(vocab.get("fallback_words"), np.ndarray):
        words = vocab["fallback_words"]
        if not (word_dtype_ok(words.dtype) and words_ok(words)):
            raise ValueError(f"fallback words must be sorted, distinct, non-empty numpy S1 to S{MAX_WORD_BYTES}")
        arrays[FALLBACK_KEY] = words
        meta = {**meta, "vocab": {**vocab, "fallback_words": FALLBACK_KEY}}
    meta = {**meta, "format_version": FORMAT_VERSION, "storage": storage}
    arrays[META_KEY] = np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
    with zipfile.ZipFile(f, "w", allowZip64=True) as zf:
        for k, a in arrays.items():
            info = zipfile.ZipInfo(f"{k}.npy", (1980, 1, 1, 0, 0, 0))
            deflate = storage.get(k) == PLANES or k in (META_KEY, FALLBACK_KEY)   # not low bytes: they don't shrink
            if deflate:
                member = io.BytesIO()
                np.lib.format.write_array(member, a, allow_pickle=False)
                zf.writestr(info, member.getbuffer(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=DEFLATE_LEVEL)
            else:                                                  # streamed: no copy of E's 5 MB of int8 first
                with zf.open(info, "w", force_zip64=a.nbytes + 65536 > zipfile.ZIP64_LIMIT) as member:   # + header
                    np.lib.format.write_array(member, a, allow_pickle=False)


def _fits(a: np.ndarray, dtype: Any) -> Any:
    """`dtype`, or the array's own when a value would overflow it (a finite weight stays finite on disk)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f" and dtype.itemsize < a.dtype.itemsize and a.size \
            and np.abs(a).max() > np.finfo(dtype).max:
        return a.dtype
    return dtype


def save_model(path: str | Path, params: Params, meta: dict[str, Any],
               store_dtype: dict[str, Any] | None = None) -> None:
    """`write_model` streamed into `path`, atomically (no copy of the file in memory first: ~19 MB less at the
    peak of `ner train`, which saves a model beside its running state). A pipe or device gets `model_bytes`
    whole: streamed into an unseekable file, zip adds data descriptors and the bytes would differ."""
    def write(f: BinaryIO) -> None:
        if f.seekable():
            write_model(f, params, meta, store_dtype)
        else:
            f.write(model_bytes(params, meta, store_dtype))

    atomic_write(path, write)


# What a model (or checkpoint) file may make the loader allocate; checked from the zip directory and the .npy
# headers before anything is decompressed. The default CoNLL-2003 model holds 12 MB of arrays and 2 MB of JSON.
MAX_META_BYTES = 256 << 20
MAX_ARRAY_BYTES = 4 << 30


def open_npz(source: str | Path | bytes, name: str, what: str = "ner model") -> zipfile.ZipFile:
    """The zip archive of an `.npz` file (a path or its bytes); ModelFileError for anything else, saying what
    it is instead (a single .npy array, a text file, a pickle) rather than what a parser made of it."""
    try:
        if isinstance(source, bytes):
            head = source[:512]
        else:
            with open(source, "rb") as f:
                head = f.read(512)
        if head.startswith(b"\x93NUMPY"):
            raise ModelFileError(f"{name}: a single .npy array, not a .npz {what} file",
                                 hint="`ner train` writes models as .npz; pass one of those")
        if not head.startswith(b"PK"):
            kind = "a text file" if _looks_like_text(head) else "not a .npz archive"
            raise ModelFileError(f"{name}: not a {what} file ({kind})",
                                 hint="the file may be truncated or not a model; retrain or pick another file")
        return zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError, RuntimeError) as e:
        raise ModelFileError(f"{name}: not a valid {what} file ({type(e).__name__}: {str(e)[:200]})",
                             hint="the file may be truncated or not a model; retrain or pick another file") from None


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start > len(head) - 4                               # a character cut at the end of the excerpt
    return b"\x00" not in head


def npz_headers(zf: zipfile.ZipFile, name: str, what: str = "ner model") -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """(shape, dtype) of every member, read from the .npy headers alone (nothing else is decompressed).

    Refuses members that are not .npy, names twice, object (pickled) dtypes, and headers that cannot be read.
    """
    out: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
    for info in zf.infolist():
        key = info.filename.removesuffix(".npy")
        if not info.filename.endswith(".npy") or key in out:
            raise ModelFileError(f"{name}: unexpected member {info.filename[:80]!r} in the {what} file")
        try:
            with zf.open(info) as member:
                version = np.lib.format.read_magic(member)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(member)
                elif version == (2, 0):
                    shape, _, dtype = np.lib.format.read_array_header_2_0(member)
                else:
                    raise ValueError(f"unsupported .npy version {version}")
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, SyntaxError, TypeError, RuntimeError,
                NotImplementedError) as e:
            raise ModelFileError(f"{name}: unreadable member {key[:80]!r} ({type(e).__name__}: {str(e)[:200]})",
                                 hint="the file may be truncated or damaged") from None
        if dtype.hasobject:
            raise ModelFileError(f"{name}: member {key[:80]!r} holds pickled Python objects; refused")
        out[key] = (shape, dtype)
    return out


def declared_bytes(shape: tuple[int, ...], dtype: np.dtype) -> int:
    return int(np.prod(shape, dtype=object)) * dtype.itemsize


def read_member(zf: zipfile.ZipFile, key: str, name: str) -> np.ndarray:
    """One member's array (after its header was checked), never unpickling."""
    try:
        with zf.open(key + ".npy") as member:
            return np.lib.format.read_array(member, allow_pickle=False)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError) as e:
        raise ModelFileError(f"{name}: unreadable array {key!r} ({type(e).__name__}: {str(e)[:200]})",
                             hint="the file may be truncated or damaged") from None


def read_json_member(zf: zipfile.ZipFile, headers: dict, key: str, name: str) -> Any:
    """The UTF-8 JSON stored as a uint8 member (metadata, checkpoint state), size-capped, any depth refused
    cleanly."""
    shape, dtype = headers[key]
    if dtype != np.uint8 or len(shape) != 1 or shape[0] > MAX_META_BYTES:
        raise ModelFileError(f"{name}: {key} must be UTF-8 JSON bytes of at most {MAX_META_BYTES >> 20} MB, "
                             f"got {dtype} {shape}")
    try:
        return json.loads(read_member(zf, key, name).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:              # ValueError: JSON, huge integers
        raise ModelFileError(f"{name}: unreadable {key} ({type(e).__name__}: {str(e)[:200]})") from None


def load_model_arrays(source: str | Path | bytes, lazy: tuple[str, ...] = ()
                      ) -> tuple[dict[str, np.ndarray | QuantizedRows], dict[str, Any]]:
    """Read and validate a model file (a path, or its bytes). Raises ModelFileError for anything invalid.

    Order: names and .npy headers, then the metadata, then every array's name, shape and dtype against the
    spec, and only then the arrays themselves, so a damaged or hostile file costs no more than it declares.
    An array named in `lazy` that the file stores as int8 (and int4) rows comes back as its `QuantizedRows`,
    its scales checked, instead of dequantised.
    """
    name = "<bytes>" if isinstance(source, bytes) else str(source)
    if not isinstance(source, bytes):
        p = Path(source)
        if p.is_dir():
            raise ModelFileError(f"{p}: is a directory, expected a .npz model file")
        if not p.is_file():
            raise ModelFileError(f"{p}: no such model file")
    with open_npz(source, name) as zf:
        headers = npz_headers(zf, name)
        if META_KEY not in headers:
            raise ModelFileError(f"{name}: no metadata (__meta__) in the file: not a ner model")
        meta = read_json_member(zf, headers, META_KEY, name)
        shapes = validate_meta(name, meta)
        storage = _storage(name, meta, shapes, headers)
        apart = "fallback_words" in meta["vocab"]
        seconds = {k + suffix for k, how in storage.items() for suffix in EXTRA_MEMBERS[how]}
        seconds |= {META_KEY, FALLBACK_KEY} if apart else {META_KEY}
        found = {k: v for k, v in headers.items() if k not in seconds}
        found.update({k: (_stored_shape(k, how, headers), np.dtype(np.float16)) for k, how in storage.items()})
        check_headers(name, found, shapes)
        if apart:
            meta["vocab"]["fallback_words"] = read_fallback_words(zf, headers, meta["vocab"]["fallback_rows"], name)
        arrays = {k: _read_stored(zf, k, storage.get(k), name, shapes[k]) for k in shapes}
    quantized = {k: v for k, v in arrays.items() if isinstance(v, QuantizedRows)}
    for k, rows in quantized.items():
        if not rows.values_ok():
            raise ModelFileError(f"{name}: array {k} holds NaN or infinite values (as float32): row scales "
                                 f"not finite, or too large for its integers")
    with np.errstate(over="ignore"):                              # a float64 beyond float32 becomes inf
        params = {k: v.astype(np.float32, copy=False) for k, v in arrays.items() if k not in quantized}
    check_values(name, params)                                     # on float32: 5x faster than on float16
    params.update({k: rows if k in lazy else rows.full() for k, rows in quantized.items()})
    return {k: params[k] for k in arrays}, meta                    # in the file's order


def read_fallback_words(zf: zipfile.ZipFile, headers: dict, n: int, name: str) -> np.ndarray:
    """The fallback words member: a sorted, distinct `S` array of the `n` fallback rows' words (read once the
    metadata, which bounds `n` by the vocabulary size, and every other header have been checked)."""
    if FALLBACK_KEY not in headers:
        raise ModelFileError(f"{name}: the metadata names a {FALLBACK_KEY} member, and the file has none")
    shape, dtype = headers[FALLBACK_KEY]
    if not word_dtype_ok(dtype) or shape != (n,) or declared_bytes(shape, dtype) > MAX_ARRAY_BYTES:
        raise ModelFileError(f"{name}: {FALLBACK_KEY} must hold vocab.fallback_rows = {n} words of 1 to "
                             f"{MAX_WORD_BYTES} bytes (numpy S1 to S{MAX_WORD_BYTES}), got {dtype} {shape}")
    words = read_member(zf, FALLBACK_KEY, name)
    if not words_ok(words):
        raise ModelFileError(f"{name}: the fallback words are not sorted, distinct and non-empty")
    return words


def word_dtype_ok(dtype: np.dtype) -> bool:
    """Fixed-width bytes (numpy S) of 1 to MAX_WORD_BYTES: what a fallback words array may be."""
    return dtype.kind == "S" and 1 <= dtype.itemsize <= MAX_WORD_BYTES


def words_ok(words: np.ndarray) -> bool:
    """Sorted, distinct and non-empty: what binary search over the words (`vocab.find_sorted`) needs."""
    return bool((words[:-1] < words[1:]).all() and (words != b"").all())


def vocab_rows(vocab: dict[str, Any]) -> int:
    """Rows of E that a model's metadata vocabulary names: its keys, then its fallback rows if their words are
    held apart (a member of the file; an array in memory)."""
    return len(vocab["keys"]) + (vocab["fallback_rows"] if "fallback_words" in vocab else 0)


def _read_stored(zf: zipfile.ZipFile, key: str, how: str | None, name: str, shape: tuple[int, ...]
                 ) -> np.ndarray | QuantizedRows:
    """Array `key` as stored: plain, float16 byte planes, or int8 rows (then int4 rows) with their scales (as
    `QuantizedRows`)."""
    if how == PLANES:
        return from_planes(read_member(zf, key, name), read_member(zf, f"{key}.lo", name))
    if how in (INT8_ROWS, INT8_INT4_ROWS):
        head, scale = read_member(zf, key, name), read_member(zf, f"{key}.scale", name)
        tail = read_member(zf, f"{key}.int4", name) if how == INT8_INT4_ROWS else None
        return QuantizedRows(head, scale, tail, (shape[0], shape[1]))
    return read_member(zf, key, name)


def _storage(name: str, meta: dict[str, Any], shapes: dict[str, tuple[int, ...]],
             headers: dict[str, tuple[tuple[int, ...], np.dtype]]) -> dict[str, str]:
    """How each specially stored array is stored (meta "storage"), checked from the .npy headers: float16 byte
    planes (members k and k.lo, both uint8 of the same shape), int8 rows (member k int8 (rows, d), k.scale
    float32 (rows,)), or int8 rows then int4 rows (k.int4 uint8 (rows - rows of k, ⌈d/2⌉), k.scale for all)."""
    storage = meta.get("storage", {})
    if not isinstance(storage, dict):
        raise ModelFileError(f"{name}: metadata storage must be an object, got {excerpt(storage)}")
    for k, how in storage.items():
        first = headers.get(k)
        suffixes = EXTRA_MEMBERS.get(how, ()) if isinstance(how, str) else ()
        extra = [headers.get(k + suffix) for suffix in suffixes]
        ok = bool(suffixes) and first is not None and None not in extra
        if ok and how == PLANES:
            ok = first[1] == extra[0][1] == np.uint8 and first[0] == extra[0][0]
        elif ok:                                                   # int8 rows, then int4 rows if a third member
            scale, tail = extra[0], extra[1] if len(extra) > 1 else None
            ok = first[1] == np.int8 and scale[1] == np.float32 and len(first[0]) == 2 \
                and tuple(scale[0]) == (first[0][0] + (tail[0][0] if tail and tail[0] else 0),)
            if tail is not None:
                ok = ok and len(shapes.get(k, ())) == 2 and tail[1] == np.uint8 and first[0][1] == shapes[k][1] \
                    and tuple(tail[0]) == (shapes[k][0] - first[0][0], (shapes[k][1] + 1) // 2)
        if not ok or k not in shapes:
            raise ModelFileError(f"{name}: array {k[:40]} is not stored as {excerpt(how)} says")
    return storage


def _stored_shape(key: str, how: str, headers: dict[str, tuple[tuple[int, ...], np.dtype]]) -> tuple[int, ...]:
    """The shape of the array that `key`'s members (checked by `_storage`) hold."""
    shape = tuple(headers[key][0])
    return (headers[key + ".scale"][0][0], *shape[1:]) if how == INT8_INT4_ROWS else shape


def validate(name: str, arrays: dict[str, np.ndarray], meta: Any) -> None:
    """Refuse files from a newer format, with missing/extra arrays, wrong shapes, or non-float data."""
    shapes = validate_meta(name, meta)
    check_headers(name, {k: (a.shape, a.dtype) for k, a in arrays.items()}, shapes)
    check_values(name, arrays)


def validate_meta(name: str, meta: Any) -> dict[str, tuple[int, ...]]:
    """Check the metadata a Tagger is built from; returns the arrays the model must have and their shapes."""
    if not isinstance(meta, dict):
        raise ModelFileError(f"{name}: metadata is not a JSON object")
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ModelFileError(f"{name}: metadata has no format_version")
    if version > FORMAT_VERSION:
        raise ModelFileError(f"{name}: model format version {str(version)[:20]} is newer than this ner understands "
                             f"({FORMAT_VERSION})", hint="upgrade ner (pip install -U ner-cli)")
    for key in ("spec", "vocab", "labels"):
        if key not in meta:
            raise ModelFileError(f"{name}: metadata lacks '{key}'")
    if not isinstance(meta["spec"], dict):
        raise ModelFileError(f"{name}: bad model spec in metadata (not an object)")
    try:
        spec = ModelSpec(**meta["spec"])
    except TypeError as e:
        raise ModelFileError(f"{name}: bad model spec in metadata ({str(e)[:200]})") from None
    problem = _meta_problem(spec, meta)
    if problem:
        raise ModelFileError(f"{name}: bad metadata: {problem}")
    if spec.vocab_size != vocab_rows(meta["vocab"]):
        raise ModelFileError(f"{name}: vocabulary has {vocab_rows(meta['vocab'])} words, spec says {spec.vocab_size}")
    if spec.task != "binary" and spec.n_classes != len(meta["labels"]):
        raise ModelFileError(f"{name}: {len(meta['labels'])} labels, spec says {spec.n_classes}")
    return param_shapes(spec)


def check_headers(name: str, found: dict[str, tuple[tuple[int, ...], np.dtype]],
                  shapes: dict[str, tuple[int, ...]], max_bytes: int = MAX_ARRAY_BYTES) -> None:
    """The arrays present (name -> (shape, dtype), from headers) are exactly `shapes`, float, and not too big."""
    missing = sorted(set(shapes) - set(found))
    extra = sorted(set(found) - set(shapes))
    if missing or extra:
        raise ModelFileError(f"{name}: arrays missing {missing or '[]'}, unexpected {[k[:40] for k in extra] or '[]'}")
    total = 0
    for k, shape in shapes.items():
        got, dtype = found[k]
        if tuple(got) != shape:
            raise ModelFileError(f"{name}: array {k} has shape {tuple(got)}, expected {shape}")
        if dtype.kind != "f":
            raise ModelFileError(f"{name}: array {k} has dtype {dtype}, expected floats")
        total += declared_bytes(shape, np.dtype(np.float32)) + declared_bytes(shape, dtype)
    if total > max_bytes:
        raise ModelFileError(f"{name}: the arrays would take {total / 2**30:.1f} GB to load, more than the "
                             f"{max_bytes / 2**30:.0f} GB this ner allows")


def check_values(name: str, arrays: dict[str, np.ndarray]) -> None:
    """Every value finite, also once cast to float32."""
    for k, a in arrays.items():
        if not np.isfinite(a).all() or (a.dtype.itemsize > 4 and np.abs(a).max(initial=0) > np.finfo(np.float32).max):
            raise ModelFileError(f"{name}: array {k} holds NaN or infinite values (as float32)")


def _meta_problem(spec: ModelSpec, meta: dict[str, Any]) -> str | None:
    """What is wrong with the types and values of the metadata a Tagger is built from (None: nothing)."""
    from ..features.casing import COMPOUNDS
    from ..features.casing import n_cases as case_rows
    from ..features.document import ELSEWHERE
    from ..features.vocab import PAD, UNK
    from ..nn.activations import ACTIVATIONS
    from ..nn.decode import DECODERS
    from ..nn.model import LOSSES
    from ..tags import MODEL_SCHEMES, is_tag

    def is_int(v: Any, low: int) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and v >= low

    def is_rate(v: Any) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v < 1

    lows = {"vocab_size": 2, "n_classes": 1, "window": 0, "dim": 1, "case_dim": 0, "n_cases": 1, "hidden": 1,
            "suffix_dim": 0, "n_suffixes": 0, "doc_dim": 0, "n_doc": 0, "gaz_dim": 0, "n_gaz": 0,
            "char_dim": 0, "n_char_buckets": 0, "char_min_n": 1, "char_max_n": 1, "mention_dim": 0, "n_mention": 0}
    for key, low in lows.items():
        if not is_int(getattr(spec, key), low):
            return f"spec.{key} is {excerpt(getattr(spec, key))}, expected an integer >= {low}"
    features = meta.get("features", {})
    compounds = features.get("compounds", "none") if isinstance(features, dict) else None
    if compounds not in COMPOUNDS or not isinstance(features.get("case_regime", False), bool):
        return (f"features must be {{'case_regime': true or false, 'compounds': {' or '.join(COMPOUNDS)}}}, got "
                f"{excerpt(features)}")
    if compounds != "none" and not spec.case_dim:
        return f"features.compounds is {compounds} but the model has no casing feature (case_dim 0)"
    n_cases = case_rows(features.get("case_regime", False), compounds)
    if spec.case_dim and spec.n_cases != n_cases:       # casing ids run over every category the featurizer gives (T4)
        return f"spec.n_cases is {spec.n_cases}, expected {n_cases} (one row of K per casing category)"
    if spec.suffix_dim and spec.n_suffixes < 2:                   # rows 0 and 1 are padding and unknown
        return f"spec.n_suffixes is {spec.n_suffixes}, expected at least 2 (<pad>, <unk>)"
    if not all(isinstance(v, str) for v in (spec.activation, spec.task, spec.loss)) \
            or spec.activation not in ACTIVATIONS or spec.loss not in LOSSES.get(spec.task, ()):
        return f"spec activation/task/loss is {excerpt(spec.activation)}/{excerpt(spec.task)}/{excerpt(spec.loss)}"
    if not (is_rate(spec.dropout_input) and is_rate(spec.dropout_hidden)) or not (
            isinstance(spec.l2, int | float) and not isinstance(spec.l2, bool) and spec.l2 >= 0):
        return "spec dropout_input, dropout_hidden or l2 out of range"
    vocab = meta["vocab"]
    if not isinstance(vocab, dict) or not isinstance(vocab.get("keys"), list) or not all(
            map(str.__instancecheck__, vocab["keys"])) or vocab["keys"][:2] != [PAD, UNK]:
        return f"vocab must be {{'keys': ['{PAD}', '{UNK}', words...], ...}}"
    if not isinstance(vocab.get("lowercase"), bool) or not isinstance(vocab.get("digit_fallback"), bool):
        return "vocab.lowercase and vocab.digit_fallback must be true or false"
    n_fallback, words = vocab.get("fallback_rows", 0), vocab.get("fallback_words")
    if "fallback_words" not in vocab:                              # format 4: the words end the keys
        if not (is_int(n_fallback, 0) and n_fallback <= len(vocab["keys"]) - 2):
            return f"vocab.fallback_rows is {excerpt(n_fallback)}, expected 0 to the words after <UNK>"
    elif not is_int(n_fallback, 1):
        return f"vocab.fallback_rows is {excerpt(n_fallback)}, expected a count of the fallback words (>= 1)"
    elif isinstance(words, np.ndarray):                            # in memory: the words themselves
        if words.dtype.kind != "S" or words.shape != (n_fallback,):
            return f"vocab.fallback_words must be {n_fallback} words (numpy S), got {words.dtype} {words.shape}"
    elif words != FALLBACK_KEY:                                    # in the file: the member's name
        return f"vocab.fallback_words is {excerpt(words)}, expected '{FALLBACK_KEY}'"
    if spec.doc_dim and spec.n_doc < len(ELSEWHERE):
        return f"spec.n_doc is {spec.n_doc}, expected {len(ELSEWHERE)} (features.document.ELSEWHERE)"
    if spec.mention_dim and isinstance(meta.get("labels"), list) and all(isinstance(t, str) and is_tag(t)
                                                                        for t in meta["labels"]):
        from ..features.mentions import n_mention_ids
        from ..tags import entity_types

        n_types = 1 if spec.task == "binary" else len(entity_types(meta["labels"]))
        if spec.n_mention != n_mention_ids(n_types):             # the ids mentions.py gives for these labels
            return f"spec.n_mention is {spec.n_mention}, expected {n_mention_ids(n_types)} (features.mentions)"
    if spec.char_dim and (spec.n_char_buckets < 2 or spec.char_min_n > spec.char_max_n):
        return "spec.n_char_buckets must be >= 2 and spec.char_min_n <= spec.char_max_n"
    if spec.gaz_dim:
        gz = meta.get("gazetteer")
        if not isinstance(gz, dict) or 3 ** len(gz) != spec.n_gaz or not all(
                isinstance(v, list) and all(isinstance(e, str) for e in v) for v in gz.values()):
            return "gazetteer must be {list name: [entries]}, with 3 ** (number of lists) rows in G"
    if spec.suffix_dim:
        sx = meta.get("suffixes")
        if not isinstance(sx, dict) or not isinstance(sx.get("keys"), list) or not all(
                isinstance(k, str) for k in sx["keys"]) or len(sx["keys"]) != spec.n_suffixes or not is_int(
                sx.get("length"), 1):
            return "suffixes must be {'keys': [one per row of X], 'length': n >= 1}"
    labels = meta["labels"]
    if not isinstance(labels, list) or not all(isinstance(t, str) and is_tag(t) for t in labels) \
            or len(set(labels)) != len(labels):
        return f"labels must be a list of distinct tags, got {excerpt(labels)}"
    if meta.get("tag_scheme", "IOB2") not in MODEL_SCHEMES or meta.get("decode", "viterbi") not in DECODERS:
        return f"tag_scheme {excerpt(meta.get('tag_scheme'))} or decode {excerpt(meta.get('decode'))} unknown"
    weight = meta.get("consistency", 0.0)
    if not (isinstance(weight, int | float) and not isinstance(weight, bool) and 0 <= weight <= 100):
        return f"consistency is {excerpt(weight)}, expected a number from 0 to 100"
    entity = meta.get("name_propagation")
    single = ("S-" if meta.get("tag_scheme") == "IOBES" else "B-") + str(entity)
    if entity is not None and (not isinstance(entity, str) or spec.task == "binary" or single not in labels
                               or meta.get("decode", "viterbi") != "viterbi"):
        return (f"name_propagation is {excerpt(entity)}, expected null or an entity type of a multi-class model's "
                "labels, decoded with viterbi")
    target = meta.get("target")
    if spec.task == "binary" and (not isinstance(target, str) or not target):
        return f"a binary model needs a target entity type, got {excerpt(target)}"
    if target is not None and not isinstance(target, str):
        return f"target is {excerpt(target)}"
    return None
