"""Which model `ner tag`, `ner eval` and `ner info` use when none is named: --model, else $NER_MODEL, else the
only .npz under ./models/, else the built-in English model shipped with the package (ner_cli/models/en.npz)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import NerError

BUILTIN_MODEL = Path(__file__).resolve().parent.parent / "models" / "en.npz"


def find_model(explicit: str | None, models_dir: str | Path = "models") -> tuple[Path, str]:
    """The model to use and why: --model, else $NER_MODEL, else the only .npz under ./models/, else the
    built-in model. Several under ./models/ is an error that lists them (choosing one silently would surprise)."""
    if explicit:
        return Path(explicit), "--model"
    env = os.environ.get("NER_MODEL")
    if env:
        return Path(env), "$NER_MODEL"
    found = sorted(Path(models_dir).glob("**/*.npz")) if Path(models_dir).is_dir() else []
    if len(found) == 1:
        return found[0], f"the only model under {models_dir}/"
    if not found and BUILTIN_MODEL.is_file():
        return BUILTIN_MODEL, "the built-in English model"
    if not found:
        raise NerError(f"no model given and none found under ./{models_dir}/",
                       hint="train one with `ner train CONFIG`, or pass --model PATH, or set NER_MODEL=PATH")
    listing = "\n".join(f"  {p}" for p in found)
    raise NerError(f"no model given and {len(found)} found under ./{models_dir}/:\n{listing}",
                   hint="choose one with --model PATH or NER_MODEL=PATH")
