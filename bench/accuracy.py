"""Accuracy benchmark: the default CoNLL-2003 window network over several seeds, beside the words-only CRF.

For each seed the config (``configs/conll2003.yaml`` unless told otherwise) is trained with the library's one
training loop (``ner_cli.train.fit``); the epoch with the best dev F1 is kept (dev only chooses) and that model
is then scored once on each evaluation set with the same function as `ner eval` (``ner_cli.evaluate.score_file``,
identical to conlleval):

- ``dev`` and ``test``: CoNLL-2003 as it is;
- ``test lower`` / ``test upper``: the test file with every token lowercased / UPPERCASED (the same model);
- ``BTC``: the five sections of the Broad Twitter Corpus together (``../shared/data/btc``, read with conlleval's
  repair), on PER/LOC/ORG only: MISC predictions become O, as BTC has no MISC.

The CRF baseline (``bench/crf_baseline.py``: sklearn-crfsuite, c1 = c2 = 0.1, 100 L-BFGS iterations) is trained
on the same train file and scored on the same sets by the same function. ``--ablation`` adds rows of dev F1 (mean
± std over the same seeds) for variants of the config, one per feature. Printed: the machine, per-seed and mean ±
std F1 on every set, per-type test F1, seconds to the best epoch and in total, and the ablation table.

Run from the repository root::

    .venv/bin/python -m bench.accuracy                      # data in ../shared/data, seeds 0 1 2
    .venv/bin/python -m bench.accuracy --seeds 0 --skip-crf --set model.loss=softmax
    .venv/bin/python -m bench.accuracy --ablation "no case augmentation: data.augment_lower=0 data.augment_upper=0"
    .venv/bin/python -m bench.accuracy --skip-crf --ablation "other mentions: model.mention_dim=8"   # issue 9 rows
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
DEFAULT_BTC_DIR = REPO_ROOT.parent / "shared" / "data" / "btc"
DEFAULT_CONFIG = REPO_ROOT / "configs" / "conll2003.yaml"
TYPES = ("PER", "LOC", "ORG", "MISC")

Echo = Callable[[str], None]


EVAL_SETS = ("dev", "test", "test lower", "test upper", "BTC")


@dataclass
class RunResult:
    """One trained system scored on every evaluation set (scores are ``ner_cli.metrics.Scores``)."""

    name: str
    scores: dict[str, Any]               # evaluation set -> Scores
    seconds_total: float                 # reading data + building the vocabulary + all epochs
    seconds_to_best: float | None = None  # the same, up to the end of the best epoch (None for the CRF)
    cpu_to_best: float | None = None      # CPU seconds of this process to the best epoch (contention-proof)
    cpu_total: float | None = None
    best_epoch: int | None = None
    epochs_run: int | None = None
    dev_curve: list[float] = field(default_factory=list)
    # the same trained network scored without one part, per part ("fallback rows", "document consistency",
    # "name propagation")
    paired: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def dev(self) -> Any:
        return self.scores["dev"]

    @property
    def test(self) -> Any:
        return self.scores["test"]


class Recased:
    """A predictor that tags the words recased (lower() or upper()) and gives the tags of the original tokens."""

    def __init__(self, inner: Any, recase: Callable[[str], str]) -> None:
        self.inner, self.recase, self.target = inner, recase, getattr(inner, "target", None)

    def predict(self, sentences: Sequence[Sequence[str]], docs: Any = None) -> list[list[str]]:
        return self.inner.predict([[self.recase(w) for w in s] for s in sentences], docs)


class WithoutTypes:
    """A predictor whose predictions of some entity types become O (BTC has no MISC)."""

    def __init__(self, inner: Any, drop: set[str]) -> None:
        self.inner, self.drop, self.target = inner, drop, getattr(inner, "target", None)

    def predict(self, sentences: Sequence[Sequence[str]], docs: Any = None) -> list[list[str]]:
        from ner_cli.tags import tag_type

        return [["O" if tag_type(t) in self.drop else t for t in s] for s in self.inner.predict(sentences, docs)]


@dataclass
class EvalFiles:
    test: Path
    btc: Path | None                     # the BTC sections in one file, or None without them
    dev: Path | None = None              # for the paired fallback comparison (dev itself is scored in training)


def btc_file(btc_dir: Path, out_dir: Path) -> Path | None:
    """The BTC sections concatenated into one tab-separated CoNLL file (a blank line between them), or None."""
    parts = sorted(btc_dir.glob("*.conll")) if btc_dir.is_dir() else []
    if not parts:
        return None
    lines = []
    for part in parts:
        for line in part.read_text(encoding="utf-8").splitlines():
            token, tab, tag = line.rpartition("\t")
            # a few tokens are empty, a lone space, or hold a space ("ke s"): each run of spaces becomes "_"
            lines.append(f"{'_'.join(token.split()) or '_'}\t{tag.strip()}" if tab else line.strip())
        lines.append("")
    out = out_dir / "btc-all.conll"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def score_sets(predictor: Any, files: EvalFiles) -> dict[str, Any]:
    """Scores of a predictor on test (as it is, lowercased, uppercased) and BTC, each through `score_file`."""
    from ner_cli.evaluate import score_file

    out = {"test": score_file(predictor, files.test).evaluation.scores,
           "test lower": score_file(Recased(predictor, str.lower), files.test).evaluation.scores,
           "test upper": score_file(Recased(predictor, str.upper), files.test).evaluation.scores}
    if files.btc is not None:
        out["BTC"] = score_file(WithoutTypes(predictor, {"MISC"}), files.btc, repair=True).evaluation.scores
    return out


def train_window(cfg: Any, files: EvalFiles | None, name: str, echo: Echo | None = None) -> RunResult:
    """Train one config with the library's training loop (dev picks the epoch), then score the kept model on
    the evaluation sets (none for an ablation row: dev only)."""
    from ner_cli.render import epoch_line
    from ner_cli.train import Epoch, Trainer, fit

    t0, c0 = time.perf_counter(), time.process_time()
    trainer = Trainer.from_config(cfg)
    if trainer.setup.dev is None:
        raise SystemExit("the benchmark needs a dev set to choose the epoch")
    best: Epoch | None = None
    to_best = cpu_best = 0.0
    curve: list[float] = []
    for event in fit(trainer):
        if isinstance(event, Epoch):
            curve.append(event.dev.scores.f1)
            if event.is_best:
                best, to_best, cpu_best = event, time.perf_counter() - t0, time.process_time() - c0
            if echo:
                echo(f"  {name} {epoch_line(event)}")
    total, cpu_total = time.perf_counter() - t0, time.process_time() - c0
    assert best is not None
    scores = {"dev": best.dev.scores, **(score_sets(best.tagger, files) if files is not None else {})}
    return RunResult(name, scores, total, to_best, cpu_best, cpu_total, best.epoch, trainer.epoch, curve,
                     paired_scores(best.tagger, files) if files is not None else {})


def paired_scores(tagger: Any, files: EvalFiles) -> dict[str, dict[str, Any]]:
    """The kept network scored on every set without each of the parts that leave the trained weights alone:
    its fallback rows (features/fallback.py), document consistency at decode time (nn/consistency.py) and name
    propagation (nn/propagation.py)."""
    from ner_cli.evaluate import score_file
    from ner_cli.features.fallback import without_fallback
    from ner_cli.tagger import Tagger

    variants = {}
    if tagger.meta["vocab"].get("fallback_rows"):
        variants["fallback rows"] = Tagger(*without_fallback(tagger.params, tagger.meta))
    if tagger.consistency:
        variants["document consistency"] = Tagger(tagger.params, {**tagger.meta, "consistency": 0.0})
    if tagger.meta.get("name_propagation"):
        variants["name propagation"] = Tagger(tagger.params, {**tagger.meta, "name_propagation": None})
    return {part: {**({"dev": score_file(plain, files.dev).evaluation.scores} if files.dev else {}),
                   **score_sets(plain, files)} for part, plain in variants.items()}


def train_crf_baseline(data_dir: Path, files: EvalFiles) -> RunResult:
    """The words-only CRF of bench/crf_baseline.py, scored by the same function on the same sets."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from bench.crf_baseline import CrfTagger, train_crf
    from ner_cli.evaluate import score_file
    from ner_cli.io.dataset import read_corpus

    train = read_corpus(data_dir / "train.txt")
    t0, c0 = time.perf_counter(), time.process_time()
    model = CrfTagger(train_crf(list(zip(train.words, train.tags_in("IOB2"), strict=True))))
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    scores = {"dev": score_file(model, data_dir / "dev.txt").evaluation.scores, **score_sets(model, files)}
    return RunResult("CRF (words only)", scores, seconds, cpu_total=cpu)


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


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def _type_f1(scores: Any, typ: str) -> float:
    t = scores.per_type.get(typ)
    return t.f1 if t is not None else 0.0


def format_report(runs: Sequence[RunResult], crf: RunResult | None) -> str:
    """The side-by-side tables: F1 on every evaluation set with times, then per-type F1 on dev and test."""
    lines: list[str] = []
    sets = [s for s in EVAL_SETS if runs and s in runs[0].scores]
    widths = [13] * len(sets) + [10, 12, 12, 12, 12]

    def row(name: str, cells: Sequence[str]) -> str:
        return f"{name:<22}" + "".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=False))

    head = row("system (F1)", [*sets, "best ep", "s to best", "s total", "CPU s best", "CPU s total"])
    lines += [head, "-" * len(head)]
    for r in runs:
        lines.append(row(r.name, [*(f"{r.scores[s].f1:.2f}" for s in sets), str(r.best_epoch),
                                  f"{r.seconds_to_best:.1f}", f"{r.seconds_total:.1f}", f"{r.cpu_to_best:.1f}",
                                  f"{r.cpu_total:.1f}"]))
    if len(runs) > 1:
        def ms(get: Callable[[RunResult], float], digits: int = 2) -> str:
            m, s = mean_std([get(r) for r in runs])
            return f"{m:.{digits}f}±{s:.{digits}f}"

        lines.append(row("window mean ± std", [
            *(ms(lambda r, s=s: r.scores[s].f1) for s in sets), ms(lambda r: r.best_epoch, 1),
            ms(lambda r: r.seconds_to_best, 1), ms(lambda r: r.seconds_total, 1), ms(lambda r: r.cpu_to_best, 1),
            ms(lambda r: r.cpu_total, 1)]))
    if crf is not None:
        lines.append(row(crf.name, [*(f"{crf.scores[s].f1:.2f}" if s in crf.scores else "-" for s in sets),
                                    "-", "-", f"{crf.seconds_total:.1f}", "-", f"{crf.cpu_total:.1f}"]))
        if runs:
            for s in sets:
                if s in crf.scores:
                    gap = statistics.fmean(r.scores[s].f1 for r in runs) - crf.scores[s].f1
                    lines.append(f"window mean {s} F1 - CRF {s} F1: {gap:+.2f}")
    if runs:
        lines.append("precision / recall, window mean: " + "; ".join(
            f"{s} {statistics.fmean(r.scores[s].precision for r in runs):.2f} / "
            f"{statistics.fmean(r.scores[s].recall for r in runs):.2f}" for s in sets))

    lines.append("")
    per_type_sets = [s for s in ("dev", "test", "test lower", "test upper") if s in sets]
    head2 = f"{'per-type F1':<22}" + "".join(f"{s + ' ' + t:>16}" for s in per_type_sets for t in TYPES)
    lines += [head2, "-" * len(head2)]

    def type_row(name: str, get: Callable[[str, str], str]) -> str:
        return f"{name:<22}" + "".join(f"{get(s, t):>16}" for s in per_type_sets for t in TYPES)

    for r in runs:
        lines.append(type_row(r.name, lambda s, t, r=r: f"{_type_f1(r.scores[s], t):.2f}"))
    if len(runs) > 1:
        def type_ms(s: str, t: str) -> str:
            m, sd = mean_std([_type_f1(r.scores[s], t) for r in runs])
            return f"{m:.2f}±{sd:.2f}"

        lines.append(type_row("window mean ± std", type_ms))
    if crf is not None:
        lines.append(type_row(crf.name, lambda s, t: f"{_type_f1(crf.scores[s], t):.2f}" if s in crf.scores
                              else "-"))
    return "\n".join(lines) + "\n"


def format_paired(runs: Sequence[RunResult]) -> str:
    """Paired: each trained network scored with and without each part that leaves its weights alone."""
    lines: list[str] = []
    for part in dict.fromkeys(p for r in runs for p in r.paired):
        have = [r for r in runs if part in r.paired]
        sets = [s for s in ("dev", *EVAL_SETS[1:]) if s in have[0].paired[part]]
        lines += ["", f"{part}, paired: the same trained networks without / with it, F1 mean over the seeds",
                  f"{'':<22}" + "".join(f"{s:>13}" for s in sets)]
        lines.append("-" * len(lines[-1]))
        without = {s: statistics.fmean(r.paired[part][s].f1 for r in have) for s in sets}
        with_it = {s: statistics.fmean(r.scores[s].f1 for r in have) for s in sets}
        for label, cells in (("without", [f"{without[s]:.2f}" for s in sets]),
                             ("with", [f"{with_it[s]:.2f}" for s in sets]),
                             ("gain", [f"{with_it[s] - without[s]:+.2f}" for s in sets])):
            lines.append(f"{label:<22}" + "".join(f"{c:>13}" for c in cells))
    return "\n".join(lines) + "\n" if lines else ""


def format_ablations(base: Sequence[RunResult], ablations: dict[str, list[RunResult]]) -> str:
    """One row per variant of the config: dev F1 mean ± std over the seeds, and the change from the default."""
    if not ablations:
        return ""
    base_mean = statistics.fmean(r.dev.f1 for r in base)
    lines = ["", f"{'ablation (dev F1)':<58}{'mean ± std':>14}{'per seed':>24}{'vs default':>12}"]
    lines.append("-" * len(lines[-1]))
    bm, bs = mean_std([r.dev.f1 for r in base])
    lines.append(f"{'default config':<58}{f'{bm:.2f}±{bs:.2f}':>14}"
                 f"{' / '.join(f'{r.dev.f1:.2f}' for r in base):>24}{'':>12}")
    for name, runs in ablations.items():
        m, s = mean_std([r.dev.f1 for r in runs])
        lines.append(f"{name:<58}{f'{m:.2f}±{s:.2f}':>14}{' / '.join(f'{r.dev.f1:.2f}' for r in runs):>24}"
                     f"{m - base_mean:>+12.2f}")
    return "\n".join(lines) + "\n"


def to_json(runs: Sequence[RunResult], crf: RunResult | None, info: dict[str, Any], config: dict,
            ablations: dict[str, list[RunResult]]) -> dict:
    def one(r: RunResult) -> dict[str, Any]:
        return {"name": r.name, "scores": {k: v.to_dict() for k, v in r.scores.items()}, "best_epoch": r.best_epoch,
                "epochs_run": r.epochs_run, "seconds_to_best": r.seconds_to_best,
                "seconds_total": r.seconds_total, "cpu_to_best": r.cpu_to_best, "cpu_total": r.cpu_total,
                "dev_curve": r.dev_curve,
                "paired": {part: {k: v.to_dict() for k, v in sc.items()} for part, sc in r.paired.items()}}

    return {"machine": info, "config": config, "window": [one(r) for r in runs],
            "crf": one(crf) if crf is not None else None,
            "ablations": {name: [one(r) for r in rs] for name, rs in ablations.items()}}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR,
                        help="directory holding train.txt, dev.txt and test.txt (default: %(default)s)")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="YAML config (default: %(default)s)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds (default: 0 1 2)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="config override, as for `ner train --set` (repeatable)")
    parser.add_argument("--btc", type=Path, default=DEFAULT_BTC_DIR,
                        help="directory of the Broad Twitter Corpus sections, *.conll (default: %(default)s)")
    parser.add_argument("--ablation", action="append", default=[], metavar="'NAME: KEY=VALUE ...'",
                        help="a variant of the config trained with the same seeds and scored on dev (repeatable)")
    parser.add_argument("--skip-crf", action="store_true", help="do not train the CRF baseline")
    parser.add_argument("--json", type=Path, default=None, help="also write every number to this JSON file")
    parser.add_argument("--quiet", "-q", action="store_true", help="no per-epoch progress lines")
    args = parser.parse_args(argv)

    data_dir = args.data.resolve()
    for n in ("train", "dev", "test"):
        if not (data_dir / f"{n}.txt").is_file():
            raise SystemExit(f"error: no {n}.txt in {data_dir} (pass --data DIR)")
    from ner_cli.nn.compiled import use_compiled

    info = machine_info()
    print(machine_line(info), flush=True)
    base = load_cfg(args.config, data_dir, args.overrides)
    m, t = base.model, base.train
    print(f"config: {args.config}{' with ' + ' '.join(args.overrides) if args.overrides else ''}")
    print(f"  model: {m.task} {m.loss}, {m.tag_scheme}, decode {m.decode}, window {m.window}, dim {m.dim}, "
          f"case_dim {m.case_dim}, hidden {m.hidden} {m.activation}, embeddings {m.embeddings}, "
          f"dropout {m.dropout_input}/{m.dropout_hidden}")
    print(f"  train: {t.optimizer} lr {t.lr} (E x{t.embedding_lr_scale}, decay {t.lr_decay}), "
          f"batch {t.batch_size} sentences, epochs {t.epochs}, patience {t.patience}, CRF kernel {t.kernel} -> "
          f"{'numba' if use_compiled(t.kernel) else 'numpy'}")
    print(f"data: {data_dir}  (dev chooses the epoch; test is scored once per seed, never used to choose)",
          flush=True)

    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="ner-accuracy-"))
    files = EvalFiles(data_dir / "test.txt", btc_file(args.btc, tmp), data_dir / "dev.txt")
    if files.btc is None:
        print(f"no BTC sections in {args.btc}: the BTC column is left out", flush=True)
    echo = None if args.quiet else (lambda s: print(s, file=sys.stderr, flush=True))
    runs = []
    for seed in args.seeds:
        cfg = load_cfg(args.config, data_dir, args.overrides, seed)
        r = train_window(cfg, files, f"window seed {seed}", echo)
        print(f"seed {seed}: " + ", ".join(f"{s} F1 {v.f1:.2f}" for s, v in r.scores.items())
              + f" (epoch {r.best_epoch} of {r.epochs_run}); {r.seconds_to_best:.1f}s to best epoch "
              f"({r.cpu_to_best:.1f} CPU s), {r.seconds_total:.1f}s total", flush=True)
        runs.append(r)
    ablations: dict[str, list[RunResult]] = {}
    for spec in args.ablation:
        name, _, sets = spec.partition(":")
        for seed in args.seeds:
            cfg = load_cfg(args.config, data_dir, [*args.overrides, *sets.split()], seed)
            r = train_window(cfg, None, f"{name.strip()} seed {seed}", echo)
            print(f"ablation {name.strip()}, seed {seed}: dev F1 {r.dev.f1:.2f}", flush=True)
            ablations.setdefault(name.strip(), []).append(r)
    crf = None
    if not args.skip_crf:
        crf = train_crf_baseline(data_dir, files)
        print("CRF: " + ", ".join(f"{s} F1 {v.f1:.2f}" for s, v in crf.scores.items())
              + f", {crf.seconds_total:.1f}s training", flush=True)
    print()
    print(format_report(runs, crf) + format_paired(runs) + format_ablations(runs, ablations), end="")
    if args.json is not None:
        args.json.write_text(json.dumps(to_json(runs, crf, info, base.to_dict(), ablations), indent=2) + "\n")


if __name__ == "__main__":
    main()
