"""`ner tag` throughput before and after a change, from a file and through a pipe, on >= 1M tokens.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python -m bench.streaming --model MODEL [--before DIR] [--runs 3]

The text is CoNLL-2003 train, one sentence per line with tokens joined by single spaces, repeated to >= 1M
tokens. Each run is a subprocess `python -m ner_cli tag` writing CoNLL to a file, timed from start to exit (wall) and
by the CPU time it used (less sensitive to other work on a shared machine).
`--before DIR` is a checkout of the code to compare with (e.g. `git archive main | tar -x -C DIR`); it is
put first on PYTHONPATH for its runs. Runs of the two alternate, so a change in the machine's load hits both.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "conll2003"


def corpus(path: Path, min_tokens: int = 1_000_000) -> int:
    from ner_cli.io.conll import read_conll

    lines = [" ".join(s.words) for s in read_conll(DATA / "train.txt")]
    n = sum(len(line.split()) for line in lines)
    reps = -(-min_tokens // n)
    path.write_text(("\n".join(lines) + "\n") * reps, encoding="utf-8")
    return n * reps


def run(code: Path | None, model: str, text: Path, out: Path, pipe: bool) -> tuple[float, float]:
    """(wall seconds, CPU seconds of `ner tag` and any child) for one run."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    if code is not None:
        env["PYTHONPATH"] = str(code)
    cmd = [sys.executable, "-m", "ner_cli", "tag", "-" if pipe else str(text), "--model", model]
    t0 = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "w") as f:
        if pipe:                                            # a real pipe: `cat text | ner tag -`
            cat = subprocess.Popen(["cat", str(text)], stdout=subprocess.PIPE)
            subprocess.run(cmd, stdin=cat.stdout, stdout=f, env=env, check=True)
            cat.stdout.close()
            cat.wait()
        else:
            subprocess.run(cmd, stdout=f, env=env, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)               # cat's share, if piped, is tiny
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--before", type=Path, help="a checkout of the code to compare with")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        text = Path(tmp) / "corpus.txt"
        tokens = corpus(text)
        print(f"input: {tokens:,} tokens, {text.stat().st_size / 1e6:.1f} MB; model {args.model}; "
              f"load average {os.getloadavg()[0]:.2f}")
        versions = {"after": None} if args.before is None else {"before": args.before, "after": None}
        outputs: dict[str, bytes] = {}
        for pipe in (False, True):
            times: dict[str, list[tuple[float, float]]] = {v: [] for v in versions}
            for _ in range(args.runs):
                for name, code in versions.items():
                    out = Path(tmp) / f"{name}.conll"
                    times[name].append(run(code, args.model, text, out, pipe))
                    outputs[name] = out.read_bytes()
            same = len(set(outputs.values())) == 1
            for name, ts in times.items():
                wall = statistics.median(t for t, _ in ts)
                cpu = statistics.median(c for _, c in ts)
                best = min(t for t, _ in ts)
                print(f"{'pipe' if pipe else 'file'} {name:6s}: {tokens / wall:9,.0f} tokens/s wall (median of "
                      f"{len(ts)}: {wall:.2f} s, best {best:.2f} s); {tokens / cpu:9,.0f} tokens per CPU second "
                      f"(median {cpu:.2f} s)")
            print(f"  outputs identical: {same}")
        print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
