"""Accuracy against speed, one row per config: what each optional feature of issue 9 costs at training and tag time.

For the default `configs/conll2003.yaml` and each variant (the default plus one feature), trains one model
(seed 0, same data) and prints its best dev F1, the seconds from `ner train` start to that epoch, the whole
run's CPU seconds, the model size, and `ner tag` throughput (raw text in, CoNLL and jsonl out, one process,
1 BLAS thread, median of --repeats runs) on the same >= 1M-token file `bench/speed.py` uses.

One seed per row: dev differences under ~0.3 are seed noise; the 3-seed ablation is in bench/ABLATIONS.md.

Run: ``OPENBLAS_NUM_THREADS=1 .venv/bin/python -m bench.tradeoff`` (about 15 minutes).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

from bench.speed import (
    CONFIG,
    DATA,
    NER,
    bench_tag,
    build_text,
    epoch_lines,
    loadavg,
    median,
    print_header,
    run,
    spread,
)

# name -> `--set` overrides on top of configs/conll2003.yaml
VARIANTS: dict[str, list[str]] = {
    "default (configs/conll2003.yaml)": [],
    "- name propagation (name_propagation null)": ["model.name_propagation=null"],
    "- hyphenated compounds (compounds none)": ["model.compounds=none"],
    "- document consistency (consistency 0)": ["model.consistency=0"],
    "+ doc_dim 8 (casing elsewhere in the document)": ["model.doc_dim=8"],
    "+ gazetteers, 5 lists (gaz_dim 8)": ["model.gazetteers=city,country,region,first,last", "model.gaz_dim=8"],
    "+ char_dim 16 (character n-gram bag)": ["model.char_dim=16"],
    "+ mention_dim 8 (two passes: other mentions)": ["model.mention_dim=8"],
}


def train_variant(overrides: Sequence[str], out: Path) -> dict[str, float]:
    """`ner train` with the overrides; best dev F1, seconds to it, whole-run wall and CPU seconds, peak RSS."""
    cmd = [NER, "train", str(CONFIG), "-o", str(out)]
    for o in overrides:
        cmd += ["--set", o]
    r = run(cmd)
    if r.code != 0:
        raise SystemExit(f"ner train {' '.join(overrides)} failed:\n{r.stderr}")
    _, best = epoch_lines(r)
    return {"dev": float(best[1].group(2)), "to_best": best[0], "wall": r.wall, "cpu": r.cpu, "rss": r.rss_mb,
            "epoch": float(best[1].group(1))}


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA, help="directory with train.txt, dev.txt, test.txt")
    ap.add_argument("--work", type=Path, default=Path("/tmp/ner-tradeoff"), help="scratch directory")
    ap.add_argument("--repeats", type=int, default=3, help="`ner tag` runs per format (median reported)")
    ap.add_argument("--tokens", type=int, default=1_000_000, help="minimum tokens of the tagging input")
    ap.add_argument("--only", action="append", default=[], help="run only variants whose name contains this")
    ap.add_argument("--reuse", action="store_true", help="reuse models already trained in --work (tagging only)")
    args = ap.parse_args(argv)
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    started = time.time()
    print_header("ner accuracy/speed trade-off", "bench.tradeoff", argv)
    text = work / "corpus.txt"
    n_lines, n_ws = build_text(args.data, text, args.tokens)
    print(f"tagging input: {n_lines:,} lines, {n_ws:,} space-separated tokens", flush=True)

    rows = []
    for i, (name, overrides) in enumerate(VARIANTS.items()):
        if args.only and not any(s in name for s in args.only):
            continue
        model = work / f"variant{i}.npz"
        print(f"\n[{name}] load average {loadavg()}", flush=True)
        if args.reuse and model.exists():
            t = None
        else:
            t = train_variant(overrides, model)
            print(f"  trained: best dev {t['dev']:.2f} at epoch {t['epoch']:.0f} after {t['to_best']:.0f} s "
                  f"(whole run {t['wall']:.0f} s wall, {t['cpu']:.0f} s CPU, peak RSS {t['rss']:.0f} MB)", flush=True)
        conll, n_tok = bench_tag(model, text, work / "out.conll", args.repeats)
        jsonl, _ = bench_tag(model, text, work / "out.jsonl", args.repeats, fmt="jsonl")
        rate = {f: [n_tok / r.cpu for r in runs] for f, runs in (("conll", conll), ("jsonl", jsonl))}
        print(f"  ner tag CoNLL {spread(rate['conll'], '{:,.0f}')} tokens per CPU s; "
              f"jsonl {spread(rate['jsonl'], '{:,.0f}')}", flush=True)
        rows.append((name, t, median(rate["conll"]), median(rate["jsonl"]), model.stat().st_size / 1e6))

    print(f"\n== trade-off (seed 0; tag figures: median tokens per CPU second; load average now {loadavg()}) ==")
    head = f"{'config':50s} {'dev F1':>7s} {'s to best':>9s} {'train CPU s':>11s} {'CoNLL tok/s':>12s} " \
           f"{'jsonl tok/s':>12s} {'MB':>6s}"
    print(head)
    base = rows[0][2] if rows else 1.0
    for name, t, conll, jsonl, mb in rows:
        dev, to_best, cpu = (f"{t['dev']:.2f}", f"{t['to_best']:.0f}", f"{t['cpu']:.0f}") if t else ("-",) * 3
        print(f"{name:50s} {dev:>7s} {to_best:>9s} {cpu:>11s} {conll:>12,.0f} {jsonl:>12,.0f} {mb:>6.2f}"
              f"   ({conll / base:.2f}x the first row's CoNLL speed)")
    print(f"benchmark wall time {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
