"""Checkpoints: the full training state after an epoch, so `ner train --resume` continues exactly.

Saved after every completed epoch (atomically) beside the model as `<model>.ckpt`: parameters, optimiser
moments, the random generator's state, the epoch counter and early-stopping state, and the config. Resuming
from it and training on gives the same weights as a run that was never interrupted.
"""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ModelFileError
from .modelfile import atomic_write_bytes

if TYPE_CHECKING:
    from ..train import Trainer

CHECKPOINT_VERSION = 1
# settings that may change between the interrupted run and its resumption
RESUMABLE_CHANGES = {("train", "epochs"), ("train", "patience"), ("output", "path")}


def checkpoint_path(model_path: str | Path) -> Path:
    p = Path(model_path)
    return p.with_name(p.name + ".ckpt")


def save_checkpoint(path: str | Path, trainer: Trainer) -> None:
    state = {
        "version": CHECKPOINT_VERSION,
        "epoch": trainer.epoch, "best_f1": trainer.best_f1, "best_epoch": trainer.best_epoch,
        "bad_epochs": trainer.bad_epochs, "lr": trainer.optimizer.lr,
        "rng": trainer.rng.bit_generator.state, "config": trainer.cfg.to_dict(),
        "vocab_size": trainer.setup.spec.vocab_size,
    }
    arrays = {f"param.{k}": v for k, v in trainer.params.items()}
    arrays.update({f"optim.{k}": np.asarray(v) for k, v in trainer.optimizer.state().items()})
    arrays["__state__"] = np.frombuffer(json.dumps(state).encode("utf-8"), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: str | Path, trainer: Trainer) -> None:
    """Restore `trainer` (built from the same config and data) to the checkpointed state."""
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
    changed = [f"{s}.{k}" for s, sec in state["config"].items() for k, v in sec.items()
               if (s, k) not in RESUMABLE_CHANGES and dataclasses.asdict(trainer.cfg)[s].get(k) != v]
    if changed:
        raise ModelFileError(f"{path}: the config differs from the checkpoint's in {', '.join(changed)}",
                             hint="resume with the same config (only train.epochs and train.patience may change)")
    params = {k.removeprefix("param."): v for k, v in arrays.items() if k.startswith("param.")}
    if params.keys() != trainer.params.keys() or state["vocab_size"] != trainer.setup.spec.vocab_size:
        raise ModelFileError(f"{path}: checkpoint does not match this model (different data or vocabulary?)")
    for k, v in params.items():
        if v.shape != trainer.params[k].shape:
            raise ModelFileError(f"{path}: checkpoint array {k} has shape {v.shape}, expected "
                                 f"{trainer.params[k].shape}")
        trainer.params[k] = v.astype(trainer.params[k].dtype)
    trainer.optimizer.load_state({k.removeprefix("optim."): v for k, v in arrays.items() if k.startswith("optim.")})
    trainer.optimizer.lr = state["lr"]
    trainer.rng.bit_generator.state = state["rng"]
    trainer.epoch, trainer.best_f1 = state["epoch"], state["best_f1"]
    trainer.best_epoch, trainer.bad_epochs = state["best_epoch"], state["bad_epochs"]
