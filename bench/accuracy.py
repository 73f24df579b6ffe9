"""Accuracy benchmark: the default CoNLL-2003 window network over several seeds, beside the words-only CRF.

For each seed the config (``configs/conll2003.yaml`` unless told otherwise) is trained with the library's
``Trainer``; the epoch with the best dev F1 is kept (dev only chooses) and that model is then scored once on
test. The CRF baseline (``bench/crf_baseline.py``: sklearn-crfsuite, c1 = c2 = 0.1, 100 L-BFGS iterations)
is trained on the same train file and scored with the same scorer (``ner_cli.evaluate.evaluate``, identical
to conlleval). Printed: per-seed and mean ± std (and min..max) dev/test precision, recall, F1; per-type F1;
seconds to the best epoch and total training seconds; the machine (cores, numpy BLAS, BLAS threads).

Run from the repository root::

    .venv/bin/python -m bench.accuracy                      # data in ../shared/data/conll2003, seeds 0 1 2
    .venv/bin/python -m bench.accuracy --seeds 0 --skip-crf --set model.loss=crf
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):   # before numpy is imported
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "conll2003"
DEFAULT_CONFIG = REPO_ROOT / "configs" / "conll2003.yaml"
TYPES = ("PER", "LOC", "ORG", "MISC")

Echo = Callable[[str], None]


@dataclass
class RunResult:
    """One trained system scored on dev and test (scores are ``ner_cli.metrics.Scores``)."""

    name: str
    dev: Any
    test: Any
    seconds_total: float                 # reading data + building the vocabulary + all epochs
    seconds_to_best: float | None = None  # the same, up to the end of the best epoch (None for the CRF)
    cpu_to_best: float | None = None      # CPU seconds of this process to the best epoch (contention-proof)
    cpu_total: float | None = None
    best_epoch: int | None = None
    epochs_run: int | None = None
    dev_curve: list[float] = field(default_factory=list)


def machine_info() -> dict[str, Any]:
    """Cores, platform, Python, numpy and its BLAS, and the BLAS thread count in effect."""
    import numpy as np

    info: dict[str, Any] = {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "platform": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
    }
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["blas"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:                     # older numpy: no dict mode
        info["blas"] = "unknown"
    try:
        from threadpoolctl import threadpool_info

        info["blas_threads"] = [p.get("num_threads") for p in threadpool_info() if p.get("user_api") == "blas"]
    except ImportError:
        info["blas_threads"] = None
    return info


def machine_line(info: dict[str, Any]) -> str:
    threads = info["blas_threads"] if info["blas_threads"] is not None else "?"
    return (f"machine: {info['cores']} cores ({info['usable_cores']} usable), {info['platform']}, "
            f"Python {info['python']}, numpy {info['numpy']}, BLAS {info['blas']}, "
            f"OPENBLAS_NUM_THREADS={info['OPENBLAS_NUM_THREADS']}, BLAS threads in use {threads}")


def load_cfg(config: Path | str, data_dir: Path, overrides: Sequence[str] = (), seed: int | None = None) -> Any:
    """The config with train/dev pointed at `data_dir`, test left to the benchmark, and the seed set."""
    from ner_cli.config import load_config

    sets = [f"data.train={data_dir / 'train.txt'}", f"data.dev={data_dir / 'dev.txt'}", "data.test=null",
            *overrides]
    if seed is not None:
        sets.append(f"train.seed={seed}")
    return load_config(config, sets)


def train_window(cfg: Any, test: Any, name: str, echo: Echo | None = None) -> RunResult:
    """Train one config (dev picks the epoch), then score the kept model on the `test` Corpus."""
    from ner_cli.evaluate import evaluate
    from ner_cli.train import Epoch, Trainer, prepare, read_data

    t0, c0 = time.perf_counter(), time.process_time()
    train, dev = read_data(cfg)
    if dev is None:
        raise SystemExit("the benchmark needs a dev set to choose the epoch")
    trainer = Trainer(cfg, prepare(cfg, train, dev))
    best: Epoch | None = None
    to_best = cpu_best = 0.0
    curve: list[float] = []
    while not trainer.should_stop():
        for event in trainer.run_epoch():
            if isinstance(event, Epoch):
                curve.append(event.dev.scores.f1)
                if event.is_best:
                    best, to_best, cpu_best = event, time.perf_counter() - t0, time.process_time() - c0
                if echo:
                    echo(f"  {name} epoch {event.epoch:2d}  dev F1 {event.dev.scores.f1:6.2f}  "
                         f"{event.seconds:5.1f}s{'  *' if event.is_best else ''}")
    total, cpu_total = time.perf_counter() - t0, time.process_time() - c0
    assert best is not None
    test_ev = evaluate(test.tags_in("IOB2"), best.tagger.predict(test.words, test.docs), best.tagger.target)
    return RunResult(name, best.dev.scores, test_ev.scores, total, to_best, cpu_best, cpu_total, best.epoch,
                     trainer.epoch, curve)


def train_crf_baseline(data_dir: Path) -> RunResult:
    """The words-only CRF of bench/crf_baseline.py, scored by the same scorer as the network."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from bench.crf_baseline import tag_crf, train_crf
    from ner_cli.evaluate import evaluate
    from ner_cli.io.dataset import read_corpus

    train, dev, test = (read_corpus(data_dir / f"{n}.txt") for n in ("train", "dev", "test"))
    t0, c0 = time.perf_counter(), time.process_time()
    model = train_crf(list(zip(train.words, train.tags_in("IOB2"), strict=True)))
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    dev_s, test_s = (evaluate(c.tags_in("IOB2"), tag_crf(model, c.words)).scores for c in (dev, test))
    return RunResult("CRF (words only)", dev_s, test_s, seconds, cpu_total=cpu)


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def _type_f1(scores: Any, typ: str) -> float:
    t = scores.per_type.get(typ)
    return t.f1 if t is not None else 0.0


def format_report(runs: Sequence[RunResult], crf: RunResult | None) -> str:
    """The side-by-side tables: overall P/R/F1 with times, then per-type F1 on dev and test."""
    lines: list[str] = []
    widths = (13, 13, 13, 13, 13, 13, 10, 12, 12, 12, 12)

    def row(name: str, cells: Sequence[str]) -> str:
        return f"{name:<22}" + "".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=False))

    head = row("system", ["dev P", "dev R", "dev F1", "test P", "test R", "test F1", "best ep", "s to best",
                          "s total", "CPU s best", "CPU s total"])
    lines += [head, "-" * len(head)]

    def prf(s: Any) -> list[str]:
        return [f"{s.precision:.2f}", f"{s.recall:.2f}", f"{s.f1:.2f}"]

    for r in runs:
        lines.append(row(r.name, [*prf(r.dev), *prf(r.test), str(r.best_epoch), f"{r.seconds_to_best:.1f}",
                                  f"{r.seconds_total:.1f}", f"{r.cpu_to_best:.1f}", f"{r.cpu_total:.1f}"]))
    if len(runs) > 1:
        def ms(get: Callable[[RunResult], float], digits: int = 2) -> str:
            m, s = mean_std([get(r) for r in runs])
            return f"{m:.{digits}f}±{s:.{digits}f}"

        def span(get: Callable[[RunResult], float]) -> str:
            values = [get(r) for r in runs]
            return f"{min(values):.2f}..{max(values):.2f}"

        lines.append(row("window mean ± std", [
            ms(lambda r: r.dev.precision), ms(lambda r: r.dev.recall), ms(lambda r: r.dev.f1),
            ms(lambda r: r.test.precision), ms(lambda r: r.test.recall), ms(lambda r: r.test.f1),
            ms(lambda r: r.best_epoch, 1), ms(lambda r: r.seconds_to_best, 1), ms(lambda r: r.seconds_total, 1),
            ms(lambda r: r.cpu_to_best, 1), ms(lambda r: r.cpu_total, 1)]))
        lines.append(row("window min..max", [
            span(lambda r: r.dev.precision), span(lambda r: r.dev.recall), span(lambda r: r.dev.f1),
            span(lambda r: r.test.precision), span(lambda r: r.test.recall), span(lambda r: r.test.f1)]))
    if crf is not None:
        lines.append(row(crf.name, [*prf(crf.dev), *prf(crf.test), "-", "-", f"{crf.seconds_total:.1f}", "-",
                                    f"{crf.cpu_total:.1f}"]))
    if crf is not None and runs:
        gap = statistics.fmean(r.test.f1 for r in runs) - crf.test.f1
        lines.append(f"window mean test F1 - CRF test F1: {gap:+.2f}")

    lines.append("")
    head2 = f"{'per-type F1':<22}" + "".join(f"{'dev ' + t:>13}" for t in TYPES) + "".join(
        f"{'test ' + t:>13}" for t in TYPES)
    lines += [head2, "-" * len(head2)]

    def type_row(name: str, get: Callable[[str, str], str]) -> str:
        return f"{name:<22}" + "".join(f"{get('dev', t):>13}" for t in TYPES) + "".join(
            f"{get('test', t):>13}" for t in TYPES)

    for r in runs:
        lines.append(type_row(r.name, lambda split, t, r=r: f"{_type_f1(getattr(r, split), t):.2f}"))
    if len(runs) > 1:
        def type_ms(split: str, t: str) -> str:
            m, s = mean_std([_type_f1(getattr(r, split), t) for r in runs])
            return f"{m:.2f}±{s:.2f}"

        lines.append(type_row("window mean ± std", type_ms))
    if crf is not None:
        lines.append(type_row(crf.name, lambda split, t: f"{_type_f1(getattr(crf, split), t):.2f}"))
    return "\n".join(lines) + "\n"


def to_json(runs: Sequence[RunResult], crf: RunResult | None, info: dict[str, Any], config: dict) -> dict:
    def one(r: RunResult) -> dict[str, Any]:
        return {"name": r.name, "dev": r.dev.to_dict(), "test": r.test.to_dict(), "best_epoch": r.best_epoch,
                "epochs_run": r.epochs_run, "seconds_to_best": r.seconds_to_best,
                "seconds_total": r.seconds_total, "cpu_to_best": r.cpu_to_best, "cpu_total": r.cpu_total,
                "dev_curve": r.dev_curve}

    return {"machine": info, "config": config, "window": [one(r) for r in runs],
            "crf": one(crf) if crf is not None else None}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR,
                        help="directory holding train.txt, dev.txt and test.txt (default: %(default)s)")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="YAML config (default: %(default)s)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds (default: 0 1 2)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="config override, as for `ner train --set` (repeatable)")
    parser.add_argument("--skip-crf", action="store_true", help="do not train the CRF baseline")
    parser.add_argument("--json", type=Path, default=None, help="also write every number to this JSON file")
    parser.add_argument("--quiet", "-q", action="store_true", help="no per-epoch progress lines")
    args = parser.parse_args(argv)

    from ner_cli.io.dataset import read_corpus

    data_dir = args.data.resolve()
    for n in ("train", "dev", "test"):
        if not (data_dir / f"{n}.txt").is_file():
            raise SystemExit(f"error: no {n}.txt in {data_dir} (pass --data DIR)")
    info = machine_info()
    print(machine_line(info), flush=True)
    base = load_cfg(args.config, data_dir, args.overrides)
    m, t = base.model, base.train
    print(f"config: {args.config}{' with ' + ' '.join(args.overrides) if args.overrides else ''}")
    print(f"  model: {m.task} {m.loss}, {m.tag_scheme}, decode {m.decode}, window {m.window}, dim {m.dim}, "
          f"case_dim {m.case_dim}, hidden {m.hidden} {m.activation}, embeddings {m.embeddings}, "
          f"dropout {m.dropout_input}/{m.dropout_hidden}")
    print(f"  train: {t.optimizer} lr {t.lr} (E x{t.embedding_lr_scale}, decay {t.lr_decay}), "
          f"batch {t.batch_size} sentences, epochs {t.epochs}, patience {t.patience}")
    print(f"data: {data_dir}  (dev chooses the epoch; test is scored once per seed, never used to choose)",
          flush=True)

    test = read_corpus(data_dir / "test.txt")
    echo = None if args.quiet else (lambda s: print(s, file=sys.stderr, flush=True))
    runs = []
    for seed in args.seeds:
        cfg = load_cfg(args.config, data_dir, args.overrides, seed)
        r = train_window(cfg, test, f"window seed {seed}", echo)
        print(f"seed {seed}: dev F1 {r.dev.f1:.2f} (epoch {r.best_epoch} of {r.epochs_run}), test F1 {r.test.f1:.2f}, "
              f"{r.seconds_to_best:.1f}s to best epoch ({r.cpu_to_best:.1f} CPU s), {r.seconds_total:.1f}s total",
              flush=True)
        runs.append(r)
    crf = None
    if not args.skip_crf:
        crf = train_crf_baseline(data_dir)
        print(f"CRF: dev F1 {crf.dev.f1:.2f}, test F1 {crf.test.f1:.2f}, {crf.seconds_total:.1f}s training",
              flush=True)
    print()
    print(format_report(runs, crf), end="")
    if args.json is not None:
        args.json.write_text(json.dumps(to_json(runs, crf, info, base.to_dict()), indent=2) + "\n")


if __name__ == "__main__":
    main()
