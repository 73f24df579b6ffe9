"""A/B of `ner tag` (one process and `--workers 2`) against an earlier commit, alternated in the same minutes: the
machine's speed moves by 10-40% within an hour (see bench/train_ab.py), so only runs side by side compare.

Builds speed.py's input (the corpus' sentences, one a line, repeated to >= 1M tokens; in a scratch directory, never
in the repository), then runs `python -m ner_cli tag -m MODEL TEXT [--workers 2]` from a git worktree of `--base`
and from this checkout, alternately (the base first), with OPENBLAS_NUM_THREADS=1, start-up included. Prints each
side's median tokens/s for each worker count, and whether both sides wrote the same bytes.

Run: ``.venv/bin/python -m bench.tag_ab --base d7da253 --runs 5`` (about 2 minutes).
"""

from __future__ import annotations

import argparse
import filecmp
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .speed import DATA, REPO, build_text, count_conll_tokens, run

WORKERS = (1, 2)


def tag_once(root: Path, model: Path, text: Path, out: Path, workers: int) -> float:
    """Wall seconds of one `ner tag` run with the package of `root`, output to `out`."""
    cmd = [sys.executable, "-m", "ner_cli", "tag", "-m", str(model), str(text), "--workers", str(workers)]
    with open(out, "w") as f:
        r = run(cmd, stdout=f, env={"OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": str(root)}, cwd=out.parent)
    if r.code != 0:
        raise SystemExit(f"ner tag failed in {root}:\n{r.stderr[-2000:]}")
    return r.wall


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True, help="the commit to compare with (a git revision)")
    ap.add_argument("--runs", type=int, default=5, help="runs of each side and worker count, alternated")
    ap.add_argument("--model", type=Path, default=REPO / "ner_cli" / "models" / "en.npz", help="model to tag with")
    ap.add_argument("--data", type=Path, default=DATA, help="directory with CoNLL-2003's train/dev/test.txt")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ner-tag-ab-") as tmp:
        text = Path(tmp) / "corpus.txt"
        build_text(args.data, text, 1_000_000)
        base = Path(tmp) / "base"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(base), args.base], check=True)
        try:
            sides = {"base": base, "this": REPO}
            walls: dict[tuple[str, int], list[float]] = {(s, w): [] for s in sides for w in WORKERS}
            for _ in range(args.runs):
                for workers in WORKERS:
                    for side, root in sides.items():
                        out = Path(tmp) / f"{side}-{workers}.txt"
                        walls[side, workers].append(tag_once(root, args.model.resolve(), text, out, workers))
            tokens = count_conll_tokens(Path(tmp) / "this-1.txt")
            print(f"{tokens:,} tokens, {args.runs} runs of each, alternated; wall time with start-up")
            for (side, workers), ws in walls.items():
                med = statistics.median(ws)
                print(f"  {side} ({args.base if side == 'base' else 'this checkout'}), --workers {workers}: "
                      f"{tokens / med:,.0f} tokens/s (median {med:.2f} s, {min(ws):.2f}-{max(ws):.2f})")
            same = all(filecmp.cmp(Path(tmp) / f"base-{w}.txt", Path(tmp) / f"this-{w}.txt", shallow=False)
                       for w in WORKERS)
            same_workers = filecmp.cmp(Path(tmp) / "this-1.txt", Path(tmp) / "this-2.txt", shallow=False)
            print(f"the same output from both sides: {same}; --workers 2 the same as one process: {same_workers}")
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(base)], check=False)


if __name__ == "__main__":
    main()
