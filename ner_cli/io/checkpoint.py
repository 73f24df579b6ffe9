"""Checkpoints: a Trainer's `state_dict()` on disk, so `ner train --resume` continues exactly.

Saved after every completed epoch (atomically) beside the model as `<model>.ckpt`: one `.npz` with the
parameters as `param.NAME`, the optimiser's moments as `optim.NAME`, and everything else (epoch counter,
early-stopping state, learning rate, the random generator's state, history, config) as UTF-8 JSON in
`__state__`. Resuming from it and training on gives the same weights as a run that was never interrupted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelFileError
from .modelfile import atomic_write

CHECKPOINT_VERSION = 1
ARRAY_GROUPS = {"params": "param.", "optimizer": "optim."}     # state_dict key -> prefix of its arrays


def checkpoint_path(model_path: str | Path) -> Path:
    p = Path(model_path)
    return p.with_name(p.name + ".ckpt")


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    """Write a state dict: its array groups as arrays, the rest as JSON."""
    arrays = {f"{prefix}{k}": np.asarray(v) for group, prefix in ARRAY_GROUPS.items() for k, v in state[group].items()}
    rest = {"version": CHECKPOINT_VERSION, **{k: v for k, v in state.items() if k not in ARRAY_GROUPS}}
    arrays["__state__"] = np.frombuffer(json.dumps(rest).encode("utf-8"), dtype=np.uint8)
    atomic_write(path, lambda f: np.savez(f, **arrays))           # streamed: no ~60 MB copy in memory


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """The state dict saved at `path` (allow_pickle=False)."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no checkpoint to resume from",
                             hint="a checkpoint is written after each completed epoch of `ner train`")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        state = json.loads(arrays.pop("__state__").tobytes().decode("utf-8"))
    except Exception as e:  # noqa: BLE001 - any unreadable file is the same error to the user
        raise ModelFileError(f"{path}: unreadable checkpoint ({type(e).__name__}: {e})") from None
    if state.get("version") != CHECKPOINT_VERSION:
        raise ModelFileError(f"{path}: checkpoint version {state.get('version')} is not {CHECKPOINT_VERSION}")
    for group, prefix in ARRAY_GROUPS.items():
        state[group] = {k.removeprefix(prefix): v for k, v in arrays.items() if k.startswith(prefix)}
    return state
