"""A/B of `ner train` against an earlier commit, alternated in the same minutes: the machine's speed moves by
10-30% within an hour, so two benchmark runs an hour apart cannot tell a 5% change from the machine's phase.

Runs `python -m ner_cli train CONFIG` from a git worktree of `--base` and from this checkout, alternately (the base
first), with OPENBLAS_NUM_THREADS=1, and prints for each run the seconds to the best dev epoch's line, the whole
run, peak RSS and the epochs; then the medians of each side, and whether the two sides saved the same arrays
(`__meta__`, which holds timings, aside).

Run: ``.venv/bin/python -m bench.train_ab --base 98c0e8e --runs 3`` (each run ~50 s on the default config).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .speed import CONFIG, REPO, epoch_lines, run


def train_once(root: Path, config: Path, out: Path) -> dict[str, float | str]:
    """`ner train` with the package of `root`; the seconds to the best epoch's line, the whole run and more."""
    r = run([sys.executable, "-m", "ner_cli", "train", str(config), "-o", str(out)],
            env={"OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": str(root)}, cwd=root)
    if r.code != 0:
        raise SystemExit(f"ner train failed in {root}:\n{r.stderr[-2000:]}")
    epochs, best = epoch_lines(r)
    return {"to_best": best[0], "best_f1": best[1].group(2), "best_epoch": best[1].group(1), "total": r.wall,
            "rss": r.rss_mb, "epoch_median": statistics.median(float(m.group(3)) for _, m in epochs)}


def same_arrays(a: Path, b: Path) -> bool:
    """Whether two model files hold the same arrays, bit for bit (their metadata aside)."""
    with np.load(a, allow_pickle=False) as x, np.load(b, allow_pickle=False) as y:
        keys = [k for k in x.files if k != "__meta__"]
        return keys == [k for k in y.files if k != "__meta__"] and all(np.array_equal(x[k], y[k]) for k in keys)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True, help="the commit to compare with (a git revision)")
    ap.add_argument("--runs", type=int, default=3, help="runs of each side, alternated")
    ap.add_argument("--config", type=Path, default=None,
                    help="training config (default: each side's own configs/conll2003.yaml, so that a key one side "
                         "does not know is no error)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ner-ab-") as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(base), args.base], check=True)
        try:
            (base.parent / "shared").symlink_to(REPO.parent / "shared")   # configs point at ../shared/data
            sides = {"base": base, "this": REPO}
            results: dict[str, list[dict[str, float | str]]] = {side: [] for side in sides}
            for i in range(args.runs):
                for side, root in sides.items():
                    config = args.config.resolve() if args.config else root / CONFIG.relative_to(REPO)
                    r = train_once(root, config, Path(tmp) / f"{side}.npz")
                    results[side].append(r)
                    print(f"{side} run {i + 1}: best dev F1 {r['best_f1']} at epoch {r['best_epoch']} after "
                          f"{r['to_best']:.1f} s; whole run {r['total']:.1f} s; peak RSS {r['rss']:.0f} MB; "
                          f"epochs median {r['epoch_median']:.2f} s", flush=True)
            for side, rs in results.items():
                med = {k: statistics.median(float(r[k]) for r in rs) for k in ("to_best", "total", "epoch_median")}
                print(f"{side} ({args.base if side == 'base' else 'this checkout'}): median {med['to_best']:.1f} s to "
                      f"the best epoch, {med['total']:.1f} s whole run, {med['epoch_median']:.2f} s an epoch")
            print("the same arrays saved:", same_arrays(Path(tmp) / "base.npz", Path(tmp) / "this.npz"))
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(base)], check=False)


if __name__ == "__main__":
    main()
