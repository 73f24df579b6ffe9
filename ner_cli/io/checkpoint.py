"""Checkpoints: a Trainer's `state_dict()` on disk, so `ner train --resume` continues exactly.

Saved after every completed epoch (atomically) beside the model as `<model>.ckpt`: one `.npz` with the
parameters as `param.NAME`, the optimiser's moments as `optim.NAME`, and everything else (epoch counter,
early-stopping state, learning rate, the random generator's state, history, config) as UTF-8 JSON in
`__state__`. Resuming from it and training on gives the same weights as a run that was never interrupted.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelFileError, excerpt
from .modelfile import (
    MAX_ARRAY_BYTES,
    atomic_write,
    declared_bytes,
    npz_headers,
    open_npz,
    read_json_member,
    read_member,
)

CHECKPOINT_VERSION = 1
STATE_KEY = "__state__"
ARRAY_GROUPS = {"params": "param.", "optimizer": "optim."}     # state_dict key -> prefix of its arrays


def checkpoint_path(model_path: str | Path) -> Path:
    p = Path(model_path)
    return p.with_name(p.name + ".ckpt")


def lock_output(model_path: str | Path):
    """Hold an exclusive lock on `.NAME.lock` beside the model for a whole training run, so that two runs never
    write (and report) the same model (W5); then remove the temporary files of earlier runs that were killed
    mid-write (`.NAME.XXXXXXXX.tmp`, `.NAME.ckpt.XXXXXXXX.tmp`: our names only, W8). Returns the open lock file:
    closing it (`release_output`) releases the lock. EnvironmentFault if another run holds it."""
    import fcntl
    import glob

    from ..errors import EnvironmentFault

    p = Path(model_path)
    lock = p.with_name(f".{p.name}.lock")
    handle = open(lock, "a")                                     # noqa: SIM115 - held until release_output
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise EnvironmentFault(f"{p}: another `ner train` is writing this model (it holds {lock})",
                               hint="wait for it to finish, or write elsewhere with -o PATH") from None
    stem = glob.escape(str(p.with_name(f".{p.name}.")))
    for pattern in (f"{stem}{'[!.]' * 8}.tmp", f"{stem}ckpt.{'[!.]' * 8}.tmp"):
        for stale in glob.glob(pattern):
            Path(stale).unlink(missing_ok=True)
    return handle


def release_output(handle) -> None:
    """Remove the lock file and release the lock (in that order: a waiting run then finds no stale file)."""
    Path(handle.name).unlink(missing_ok=True)
    handle.close()


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    """Write a state dict: its array groups as arrays, the rest as JSON."""
    arrays = {f"{prefix}{k}": np.asarray(v) for group, prefix in ARRAY_GROUPS.items() for k, v in state[group].items()}
    rest = {"version": CHECKPOINT_VERSION, **{k: v for k, v in state.items() if k not in ARRAY_GROUPS}}
    arrays[STATE_KEY] = np.frombuffer(json.dumps(rest).encode("utf-8"), dtype=np.uint8)
    atomic_write(path, lambda f: np.savez(f, **arrays))           # streamed: no ~60 MB copy in memory


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """The state dict saved at `path`, checked as strictly as a model file: member names and .npy headers
    before anything is decompressed, float finite arrays, and every JSON field's type and range (T5).
    Whether the arrays fit the model is `Trainer.load_state_dict`'s check."""
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no checkpoint to resume from",
                             hint="a checkpoint is written after each completed epoch of `ner train`")
    with open_npz(path, name, "checkpoint") as zf:
        headers = npz_headers(zf, name, "checkpoint")
        if STATE_KEY not in headers:
            raise ModelFileError(f"{name}: no {STATE_KEY} in the file: not a ner checkpoint")
        state = read_json_member(zf, headers, STATE_KEY, name)
        _check_state(name, state)
        arrays = {k: v for k, v in headers.items() if k != STATE_KEY}
        odd = [k for k in arrays if not k.startswith(tuple(ARRAY_GROUPS.values()))]
        if odd:
            raise ModelFileError(f"{name}: unexpected array {odd[0][:60]!r} in the checkpoint")
        total = sum(declared_bytes(*h) for h in arrays.values())
        if total > MAX_ARRAY_BYTES:
            raise ModelFileError(f"{name}: the arrays would take {total / 2**30:.1f} GB to load")
        for k, (_, dtype) in arrays.items():
            if dtype.kind != "f" and k != "optim.t":
                raise ModelFileError(f"{name}: checkpoint array {k} has dtype {dtype}, expected floats")
        loaded = {k: read_member(zf, k, name) for k in arrays}
    for k, a in loaded.items():
        if a.dtype.kind not in "fiu" or not np.isfinite(a).all():
            raise ModelFileError(f"{name}: checkpoint array {k} holds NaN, infinite or non-real values")
    for group, prefix in ARRAY_GROUPS.items():
        state[group] = {k.removeprefix(prefix): v for k, v in loaded.items() if k.startswith(prefix)}
    return state


def _check_state(name: str, state: Any) -> None:
    """Types and ranges of the JSON part of a checkpoint; ModelFileError naming the first bad field."""
    def bad(field: str, expected: str) -> ModelFileError:
        got = excerpt(state.get(field)) if isinstance(state, dict) else excerpt(state)
        return ModelFileError(f"{name}: checkpoint field {field}: expected {expected}, got {got}",
                              hint="the checkpoint is damaged; train again without --resume")

    def is_int(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and v >= 0

    def is_num(v: Any) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)

    if not isinstance(state, dict):
        raise bad("state", "a JSON object")
    if state.get("version") != CHECKPOINT_VERSION:
        raise bad("version", str(CHECKPOINT_VERSION))
    for field in ("epoch", "best_epoch", "bad_epochs", "vocab_size"):
        if not is_int(state.get(field)):
            raise bad(field, "an integer >= 0")
    if not is_num(state.get("best_f1")):
        raise bad("best_f1", "a number")
    if not is_num(state.get("lr")) or state["lr"] <= 0:
        raise bad("lr", "a number > 0")
    config = state.get("config")
    if not isinstance(config, dict) or not all(isinstance(v, dict) for v in config.values()):
        raise bad("config", "the run's config (sections of keys)")
    if not isinstance(state.get("history", []), list):
        raise bad("history", "a list")
    for field in ["rng"] + (["word_rng"] if "word_rng" in state else []):   # absent before word dropout existed
        try:                                                  # the generator itself judges its state
            np.random.default_rng().bit_generator.state = state.get(field)
        except (TypeError, ValueError, KeyError, OverflowError, AttributeError):
            raise bad(field, "a numpy PCG64 generator state") from None
