"""Shared fixtures: a small model trained once per session on the sample corpus in data/sample/."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

# the same BLAS threading as the `ner` command (one thread): in-process and subprocess runs give identical weights
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

# A suite started in the background by a non-interactive shell (`pytest &`) has SIGINT ignored, and every `ner` it
# starts would inherit that: the Ctrl-C tests need what a terminal gives. A handler (unlike SIG_IGN) is not
# inherited: the children start with the default disposition.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
CONLL = ROOT.parent / "shared" / "data" / "conll2003"


@pytest.fixture(scope="session")
def sample_model(tmp_path_factory) -> Path:
    """Train a small multi-class model on data/sample (a few seconds) and return its path."""
    from ner_cli.config import build_config
    from ner_cli.train import train

    out = tmp_path_factory.mktemp("models") / "sample.npz"
    cfg = build_config({
        "data": {"train": str(SAMPLE / "train.txt"), "dev": str(SAMPLE / "dev.txt")},
        "model": {"hidden": 32, "case_dim": 4},
        "train": {"epochs": 6, "lr": 0.005, "seed": 1},
        "output": {"path": str(out)},
    })
    train(cfg)
    return out


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A very small CRF model (fast to load thousands of times)."""
    from ner_cli.config import build_config
    from ner_cli.train import train

    out = tmp_path_factory.mktemp("tiny") / "tiny.npz"
    cfg = build_config({"data": {"train": str(SAMPLE / "train.txt"), "dev": str(SAMPLE / "dev.txt")},
                        "model": {"hidden": 8, "dim": 8, "case_dim": 2, "loss": "crf", "window": 1},
                        "train": {"epochs": 1, "seed": 1}, "output": {"path": str(out)}})
    train(cfg)
    return out


@pytest.fixture(scope="session")
def crf_model(tmp_path_factory) -> Path:
    """A small CRF model of the sample corpus with document consistency on (nn/consistency.py)."""
    from ner_cli.config import build_config
    from ner_cli.train import train

    out = tmp_path_factory.mktemp("crf") / "crf.npz"
    train(build_config({"data": {"train": str(SAMPLE / "train.txt"), "dev": str(SAMPLE / "dev.txt")},
                        "model": {"hidden": 32, "case_dim": 4, "loss": "crf", "consistency": 1.0},
                        "train": {"epochs": 4, "lr": 0.005, "seed": 1}, "output": {"path": str(out)}}))
    return out


@pytest.fixture(scope="module")
def cli_invoke():
    """invoke(args) -> Result, in process; the click command is built once (typer rebuilds it per invoke
    otherwise)."""
    import typer.main
    import typer.testing

    from ner_cli.cli.commands import app

    command = typer.main.get_command(app)
    runner = typer.testing.CliRunner()
    original = typer.testing._get_command
    typer.testing._get_command = lambda _app: command
    try:
        yield lambda args: runner.invoke(app, [str(a) for a in args])
    finally:
        typer.testing._get_command = original


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    """About 1,900 lines (the sample's raw text, numbered, with blank and \\r\\n lines), for the cluster tests."""
    raw = (SAMPLE / "raw.txt").read_text(encoding="utf-8").splitlines()
    lines = [f"{line} ({i})" if i % 7 else "" for i in range(60) for line in raw]
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_bytes(("\n".join(lines[:-1]) + "\r\n" + lines[-1] + "\n").encode())
    return path


@pytest.fixture(scope="session")
def ner_tag():
    """One-process `ner tag --model MODEL --format FMT PATH` output, as bytes: what a cluster's output must equal."""
    def run(model: Path, path: Path, fmt: str) -> bytes:
        return subprocess.run([sys.executable, "-m", "ner_cli", "tag", "--model", str(model), "--format", fmt,
                               str(path)], check=True, capture_output=True).stdout
    return run


def table_gradchecks(task: str, loss: str, seed: int, n_classes: int, tables: dict[str, int], **spec_extra):
    """Finite-difference checks (`nn.gradcheck`) of a tiny float64 model with extra lookup tables: `spec_extra`
    gives their widths and row counts, `tables` maps each Batch field to its table's row count (random ids)."""
    import numpy as np

    from ner_cli.nn.gradcheck import gradcheck
    from ner_cli.nn.model import Batch, ModelSpec, init_params

    rng = np.random.default_rng(seed)
    spec = ModelSpec(vocab_size=20, n_classes=1 if task == "binary" else n_classes, window=2, dim=3, case_dim=2,
                     n_cases=9, hidden=5, activation="tanh", task=task, loss=loss, dropout_input=0.2,
                     dropout_hidden=0.2, **spec_extra)
    params = init_params(spec, rng, dtype=np.float64)
    params["W"] *= 3
    lengths = np.array([3, 4, 2])
    n = int(lengths.sum())

    def ids(rows):
        return rng.integers(0, rows, size=(n, spec.width)).astype(np.int32)

    batch = Batch(ids(20), ids(9), rng.integers(0, spec.n_classes if task != "binary" else 2, n), lengths,
                  **{field: ids(rows) for field, rows in tables.items()})
    return gradcheck(params, spec, batch, seed=2, entries=25)


def enumerate_paths(S, A, start, end, allowed, start_ok, end_ok):
    """(every tag path of one sentence S (L, C), the log-probability of each) by enumeration; the constraint
    masks add decode.DISALLOWED like the CRF does."""
    import itertools

    import numpy as np

    from ner_cli.nn.decode import DISALLOWED

    L, C = S.shape
    tr = A + np.where(allowed, 0, DISALLOWED)
    s0 = start + np.where(start_ok, 0, DISALLOWED)
    s1 = end + np.where(end_ok, 0, DISALLOWED)
    paths = list(itertools.product(range(C), repeat=L))
    scores = np.array([s0[y[0]] + s1[y[-1]] + sum(S[t, y[t]] for t in range(L))
                       + sum(tr[y[t - 1], y[t]] for t in range(1, L)) for y in paths])
    return paths, scores - np.logaddexp.reduce(scores)
