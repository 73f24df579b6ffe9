"""Speed and scale benchmark of `ner` on CoNLL-2003, with the CRF baseline run side by side on the same files.

Prints, beside the machine it ran on (cores, load, numpy's BLAS and thread count), the median of several runs of:

* training the default config (configs/conll2003.yaml): seconds per epoch, wall seconds to the best dev F1,
  peak resident memory, model file size; the CRF baseline's training time on the same training set;
* `ner tag` end to end as a subprocess (raw text file in, CoNLL output to a file: tokenizer, model, decoder and
  writer included) on a file of >= 1M tokens built from the corpus; with 1 and 2 BLAS threads and `--workers 2`;
  its peak memory on 1M tokens and on 10M (the same file streamed through stdin 10 times, output to /dev/null);
  the CRF baseline tagging the same raw text (same tokenizer, features, CRF, same CoNLL writer);
* the forward pass alone (tokens/s) next to what numpy's matrix multiply allows for the model's FLOPs;
* the wall time of `ner --help` and of loading a model (in a running process, and in a fresh one).

The raw text is built by joining each sentence's tokens with single spaces (a simple detokenisation: "U.S. ,"
rather than "U.S.,"), one sentence per line, train + dev + test, repeated until it holds >= 1M tokens.
Throughput counts the tokens `ner tag` outputs. Nothing is written inside the repository except with --save.

Run: ``OPENBLAS_NUM_THREADS=1 .venv/bin/python -m bench.speed`` (about 15 minutes; --quick for a smoke run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "conll2003"
CONFIG = REPO / "configs" / "conll2003.yaml"
NER = str(Path(sys.executable).parent / "ner")
EPOCH_RE = re.compile(r"^epoch\s+(\d+)\s+loss\s+\S+\s+dev F1\s+([\d.]+)\s+([\d.]+)s(\s+\*)?")


@dataclass
class Run:
    """One finished subprocess: wall seconds, CPU seconds (user + sys), peak RSS in MB, exit code."""

    wall: float
    cpu: float
    rss_mb: float
    code: int
    stderr: str = ""
    lines: list[tuple[float, str]] = field(default_factory=list)   # (seconds since start, stderr line)


def run(cmd: Sequence[str], *, stdout: Any = subprocess.DEVNULL, stdin_feed: Callable[[Any], None] | None = None,
        env: dict[str, str] | None = None, cwd: Path = REPO) -> Run:
    """Run `cmd`, timestamping its stderr lines; wall time, rusage (wait4: this child only) and peak RSS."""
    full_env = {**os.environ, **(env or {})}
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE, cwd=cwd, env=full_env, text=True,
                         stdin=subprocess.PIPE if stdin_feed else subprocess.DEVNULL)
    lines: list[tuple[float, str]] = []

    def read_err() -> None:
        assert p.stderr is not None
        for line in p.stderr:
            lines.append((time.perf_counter() - t0, line.rstrip("\n")))

    reader = threading.Thread(target=read_err)
    reader.start()
    if stdin_feed is not None:
        assert p.stdin is not None
        feeder = threading.Thread(target=lambda: (stdin_feed(p.stdin), p.stdin.close()))
        feeder.start()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    if stdin_feed is not None:
        feeder.join()
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, p.returncode,
               "\n".join(text for _, text in lines), lines)


def median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs))


def spread(xs: Sequence[float], fmt: str = "{:.2f}") -> str:
    """'median (min-max, n runs)'."""
    return f"{fmt.format(median(xs))} ({fmt.format(min(xs))}-{fmt.format(max(xs))}, {len(xs)} runs)"


def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


# ---- machine --------------------------------------------------------------------------------------------------

def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def machine() -> list[str]:
    """Cores, CPU model, Python, numpy and its BLAS with thread count, load average."""
    import numpy as np

    cpu = "unknown CPU"
    with open("/proc/cpuinfo") if Path("/proc/cpuinfo").exists() else open(os.devnull) as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    blas = "unknown"
    try:
        from threadpoolctl import threadpool_info

        infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        blas = "; ".join(f"{i['internal_api']} {i.get('version')} ({i.get('architecture')}), "
                         f"{i['num_threads']} thread(s) in this process" for i in infos) or blas
    except ImportError:
        cfg = np.show_config(mode="dicts")
        blas = str(cfg.get("Build Dependencies", {}).get("blas", {}).get("name", "unknown"))
    avail = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [f"machine: {platform.machine()} {cpu}, {os.cpu_count()} cores ({avail} available to this process), "
            f"{platform.system()} {platform.release()}",
            f"python {platform.python_version()}, numpy {np.__version__}, numba {_version('numba')}, BLAS: {blas}",
            f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')} (ner itself defaults to 1)",
            f"load average at start (1, 5, 15 min): {loadavg()}"]


def print_header(title: str, module: str, argv: Sequence[str] | None) -> None:
    """The title with the date, the machine, and the command that reproduces the run."""
    print(title, "—", time.strftime("%Y-%m-%d %H:%M:%S %Z"))
    print("\n".join(machine()))
    print(f"command: {' '.join([Path(sys.executable).name, '-m', module, *(argv or sys.argv[1:])])}")


# ---- input files --------------------------------------------------------------------------------------------

def sentences(data: Path) -> list[list[str]]:
    """Token lists of train + dev + test (first column), -DOCSTART- lines dropped."""
    out: list[list[str]] = []
    for name in ("train", "dev", "test"):
        sent: list[str] = []
        with open(data / f"{name}.txt", encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                if not parts:
                    if sent:
                        out.append(sent)
                        sent = []
                elif parts[0] != "-DOCSTART-":
                    sent.append(parts[0])
        if sent:
            out.append(sent)
    return out


def build_text(data: Path, path: Path, min_tokens: int) -> tuple[int, int]:
    """Write the corpus' sentences, tokens joined by spaces, one per line, repeated to >= min_tokens.

    Returns (lines, whitespace tokens)."""
    sents = sentences(data)
    block = "".join(" ".join(s) + "\n" for s in sents)
    n = sum(map(len, sents))
    reps = -(-min_tokens // n)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(reps):
            f.write(block)
    return reps * len(sents), reps * n


def count_conll_tokens(path: Path) -> int:
    """Tokens in `ner tag` CoNLL output: its non-blank lines."""
    n = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 24):
            n += chunk.count(b"\t")
    return n


# ---- measurements -------------------------------------------------------------------------------------------

def epoch_lines(r: Run) -> tuple[list[tuple[float, re.Match]], tuple[float, re.Match]]:
    """The epoch lines of a `ner train` run (seconds since start, match) and the first one with the best dev F1."""
    epochs = [(t, m) for t, line in r.lines if (m := EPOCH_RE.match(line))]
    return epochs, max(epochs, key=lambda e: float(e[1].group(2)))


@dataclass
class TrainResult:
    wall_to_best: list[float]
    epoch_seconds: list[float]
    wall_total: list[float]
    best_f1: list[float]
    rss_mb: list[float]
    model: Path
    model_mb: float
    cpu: list[float] = field(default_factory=list)


KERNEL_READY = """
import time
t0 = time.perf_counter()
from ner_cli.nn.compiled import warm_up
warm_up()
print(time.perf_counter() - t0)
"""


def bench_kernel_ready(repeats: int) -> dict[str, list[float]] | None:
    """Seconds for a fresh process to import numpy and have training's compiled loops ready (`compiled.warm_up`,
    as `ner train` does before its first epoch): with numba's cache empty (the first training after install
    compiles them) and filled (every later process). None without numba."""
    from ner_cli.nn.compiled import available

    if not available():
        return None
    res: dict[str, list[float]] = {"cold": [], "warm": []}
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as cache:
            for kind in ("cold", "warm"):
                out = subprocess.run([sys.executable, "-c", KERNEL_READY], capture_output=True, text=True, check=True,
                                     env={**os.environ, "NUMBA_CACHE_DIR": cache}, cwd=REPO)
                res[kind].append(float(out.stdout.split()[-1]))
    return res


def bench_train(work: Path, repeats: int) -> TrainResult:
    """`ner train configs/conll2003.yaml` as a subprocess, timed from process start to the best epoch's line."""
    res = TrainResult([], [], [], [], [], work / "model.npz", 0.0)
    for i in range(repeats):
        out = work / f"model{i}.npz"
        r = run([NER, "train", str(CONFIG), "-o", str(out)], env={"OPENBLAS_NUM_THREADS": "1"})
        if r.code != 0:
            raise SystemExit(f"ner train failed:\n{r.stderr}")
        epochs, best = epoch_lines(r)
        res.wall_to_best.append(best[0])
        res.best_f1.append(float(best[1].group(2)))
        res.epoch_seconds += [float(m.group(3)) for _, m in epochs]
        res.wall_total.append(r.wall)
        res.rss_mb.append(r.rss_mb)
        res.cpu.append(r.cpu)
        print(f"  train run {i + 1}: best dev F1 {res.best_f1[-1]:.2f} at epoch {best[1].group(1)} after "
              f"{best[0]:.1f}s; {len(epochs)} epochs, {r.wall:.1f}s total, peak RSS {r.rss_mb:.0f} MB", flush=True)
        shutil.move(out, res.model)
    res.model_mb = res.model.stat().st_size / 1e6
    return res


def bench_tag(model: Path, text: Path, out: Path, repeats: int, threads: int = 1,
              workers: int = 1, fmt: str = "conll") -> tuple[list[Run], int]:
    """`ner tag -m MODEL TEXT -f FMT > OUT`; runs and the token count of the CoNLL output (0 for jsonl)."""
    runs = []
    cmd = [NER, "tag", "-m", str(model), "-f", fmt, str(text)] + (["--workers", str(workers)] if workers > 1 else [])
    for _ in range(repeats):
        with open(out, "w") as f:
            r = run(cmd, stdout=f, env={"OPENBLAS_NUM_THREADS": str(threads)})
        if r.code != 0:
            raise SystemExit(f"ner tag failed:\n{r.stderr}")
        runs.append(r)
    return runs, count_conll_tokens(out) if fmt == "conll" else 0


def bench_tag_stream(model: Path, text: Path, times: int) -> Run:
    """`ner tag -m MODEL -` fed `text` `times` times through stdin, output to /dev/null (memory flatness)."""
    def feed(pipe: Any) -> None:
        data = text.read_text(encoding="utf-8")
        for _ in range(times):
            pipe.write(data)

    r = run([NER, "tag", "-m", str(model), "-"], stdin_feed=feed, env={"OPENBLAS_NUM_THREADS": "1"})
    if r.code != 0:
        raise SystemExit(f"ner tag (stdin) failed:\n{r.stderr}")
    return r


FORWARD_CODE = r"""
import json, sys, time
import numpy as np
from ner_cli.tagger import Tagger, SCORE_ROWS
model, text, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
t = Tagger.load(model)
enc = t.featurizer.encode([line.split() for line in open(text, encoding="utf-8")])
N, D, H, C = len(enc.words), t.spec.input_size, t.spec.hidden, t.spec.n_classes
fwd = []
for _ in range(repeats):
    t0 = time.perf_counter(); t.scores(enc, 0, N); fwd.append(time.perf_counter() - t0)
rng = np.random.default_rng(0)
x = rng.standard_normal((SCORE_ROWS, D), dtype=np.float32)
W, U = t.params["W"], t.params["U"]
blocks = -(-N // SCORE_ROWS)
mm = []
for _ in range(repeats):
    t0 = time.perf_counter()
    for _ in range(blocks):
        (x @ W.T) @ U.T
    mm.append(time.perf_counter() - t0)
print(json.dumps({"N": N, "D": D, "H": H, "C": C, "rows": SCORE_ROWS, "blocks": blocks, "forward": fwd,
                  "matmul": mm}))
"""


def bench_forward(model: Path, text: Path, repeats: int, threads: int) -> dict[str, Any]:
    """Forward pass alone (Tagger.scores over the encoded text) vs the bare matrix products of the same shapes."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads)}
    out = subprocess.run([sys.executable, "-c", FORWARD_CODE, str(model), str(text), str(repeats)], cwd=REPO,
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def bench_startup(model: Path, repeats: int) -> dict[str, list[float]]:
    """Wall seconds of `ner --help`, of a fresh process that imports ner and loads a model, and of the load alone;
    and of a bare `python -c "import numpy"`, a floor no change to ner moves, which shows how fast this machine is
    running at the time (its speed varies by up to 40% from one quarter of an hour to the next).

    The package's modules are byte-compiled first, as `pip install` does (an editable install under
    PYTHONDONTWRITEBYTECODE=1 would otherwise recompile every module in every run)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "ner_cli")], check=True)
    help_ = [run([NER, "--help"]).wall for _ in range(repeats)]
    one_line = Path(tempfile.mkdtemp()) / "one.txt"
    one_line.write_text("Peter Blackburn lives in Lyon .\n", encoding="utf-8")
    tag_one, numpy_ = [], []
    for _ in range(repeats):                                       # alternated: the same moments of the machine
        tag_one.append(run([NER, "tag", "-m", str(model), str(one_line)]).wall)
        numpy_.append(run([sys.executable, "-c", "import numpy"]).wall)
    code = ("import time; t0 = time.perf_counter(); from ner_cli.tagger import Tagger; t1 = time.perf_counter(); "
            f"Tagger.load({str(model)!r}); print(time.perf_counter() - t1)")
    fresh, inproc = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
        fresh.append(time.perf_counter() - t0)
        inproc.append(float(out.stdout))
    return {"help": help_, "fresh": fresh, "load": inproc, "tag_one": tag_one, "numpy": numpy_}


STAGES_CODE = r"""
import json, sys, time
import numpy as np
from ner_cli.confidence import find_spans, span_scores
from ner_cli.io.tokenize import tokenize_chunk
from ner_cli.io.writers import RENDERERS, TaggedChunk
from ner_cli.pipeline import CHUNK_LINES, format_lines, line_documents, wants_scores
from ner_cli.tagger import Tagger
model, text, n_lines, fmt, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
t = Tagger.load(model)
with open(text, encoding="utf-8") as f:
    lines = [line.rstrip("\n") for _, line in zip(range(n_lines), f)]
scored = wants_scores(fmt)                          # jsonl and html show each entity's probability
cpu = dict.fromkeys(["tokenize", "featurize", "score", "consistency", "decode", "propagation"]
                   + ["entity scores"] * scored + ["render"], 0.0)
P = t._params                              # not `params`: E stays lazy (rows dequantised as read), as in ner tag
crf = (P["A"], P["A_start"], P["A_end"]) if t.spec.loss == "crf" else None
masks = t._masks if crf is not None and t.decoding == "viterbi" else None
clock = time.process_time
for rep in range(repeats):
    for a in range(0, len(lines), CHUNK_LINES):     # pipeline.tag_chunk and Tagger.predict_ids(_scored), stage by stage
        batch = lines[a:a + CHUNK_LINES]
        c0 = clock(); chunk = tokenize_chunk(batch); lengths = chunk.counts[chunk.counts > 0]
        c1 = clock(); docs = line_documents(batch)[chunk.counts > 0]
        enc = t.featurizer.encode_flat(chunk.tokens, lengths, docs=docs)
        cpu["tokenize"] += c1 - c0; cpu["featurize"] += clock() - c1
        probs, typed, parts = [], t._typed_chunks(enc), []
        while True:                                 # each chunk scored before the next one's types (as the tagger does)
            c2 = clock(); item = next(typed, None); cpu["score"] += clock() - c2
            if item is None:
                break
            s, e, lo, hi, types = item
            c3 = clock(); parts.append((s, e, lo, hi, t.scores(enc, lo, hi, types))); cpu["score"] += clock() - c3
        c3 = clock()                                # document consistency (Tagger._scored_chunks)
        adjusted = t.document_scores(enc, parts) if t.consistency else [S for *_, S in parts]
        cpu["consistency"] += clock() - c3
        paths = np.empty(len(enc.words), dtype=np.int64)
        c4 = clock()
        for (s, e, lo, hi, S), S_dec in zip(parts, adjusted):
            paths[lo:hi] = t._paths(S_dec, enc.lengths[s:e])
        c5 = clock(); cpu["decode"] += c5 - c4
        paths = t._propagated(paths, enc); ids = t._to_out[paths]       # name propagation (Tagger.predict_ids)
        c6 = clock(); cpu["propagation"] += c6 - c5
        if scored:
            for s, e, lo, hi, S in parts:
                starts, ends = find_spans(ids[lo:hi], enc.lengths[s:e], t.out_labels)
                probs.append(span_scores(S, enc.lengths[s:e], paths[lo:hi], starts, ends, labels=t.labels,
                                         scheme=t.scheme, crf=crf, masks=masks))
            cpu["entity scores"] += clock() - c6
        c6 = clock()
        tagged = TaggedChunk(batch, chunk.tokens, chunk.starts, chunk.ends, chunk.counts, lengths, ids, t.out_labels,
                             np.concatenate(probs) if scored and probs else (np.zeros(0) if scored else None))
        out = RENDERERS[fmt](tagged)
        c7 = clock()
        cpu["render"] += c7 - c6
        if rep == 0:
            assert out == format_lines(t, batch, fmt, False), "the staged path must be the pipeline's"
n_tok = sum(int(c.counts.sum()) for c in [tokenize_chunk(lines)]) * repeats
print(json.dumps({"cpu": cpu, "tokens": n_tok}))
"""


def bench_stages(model: Path, text: Path, n_lines: int, fmt: str, repeats: int) -> dict[str, Any]:
    """CPU seconds of each stage of `ner tag` (tokenize, featurize, score, decode, entity scores for the formats
    that show them, render) on the first lines."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", STAGES_CODE, str(model), str(text), str(n_lines), fmt, str(repeats)],
                         cwd=REPO, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


DASK_CODE = r"""
import json, sys, time, tempfile
from pathlib import Path
import dask.bag as db
from distributed import Client, LocalCluster
from ner_cli.api import tag_bag
model, text, workers, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
walls = []
with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                  env={"OPENBLAS_NUM_THREADS": "1"}) as cluster, Client(cluster):
    for _ in range(repeats + 1):                           # the first run also loads the model in every worker
        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter()
            lines = db.read_text(text, blocksize=Path(text).stat().st_size // 8 + 1)   # 8 partitions
            tag_bag(lines, model, fmt="conll").to_textfiles(str(Path(out) / "*.conll"), last_endline=True)
            walls.append(time.perf_counter() - t0)
            npart = lines.npartitions
print(json.dumps({"walls": walls, "partitions": npart}))
"""


def bench_dask(model: Path, text: Path, repeats: int) -> dict[int, dict[str, Any]] | None:
    """`api.tag_bag` on a real distributed.LocalCluster with 1 and 2 worker processes (None without dask)."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return None
    res = {}
    for workers in (1, 2):
        out = subprocess.run([sys.executable, "-c", DASK_CODE, str(model), str(text), str(workers), str(repeats)],
                             cwd=REPO, capture_output=True, text=True, check=True)
        res[workers] = json.loads(out.stdout.strip().splitlines()[-1])
    return res


def bench_crf(text: Path, max_lines: int, repeats: int, train_repeats: int, data: Path) -> dict[str, Any]:
    """CRF baseline: training time on train.txt; end-to-end tagging of the first `max_lines` lines of `text`."""
    sys.path.insert(0, str(REPO))
    from bench.crf_baseline import load, sent_features, train_crf
    from ner_cli.io.tokenize import tokenize_lines
    from ner_cli.io.writers import format_conll

    train = load(data / "train.txt")
    train_s, model = [], None
    for _ in range(train_repeats):
        t0 = time.perf_counter()
        model = train_crf(train)
        train_s.append(time.perf_counter() - t0)
    with open(text, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for _, line in zip(range(max_lines), f, strict=False)]
    tag_s, n_tokens = [], 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        toks = [t for t, _, _ in tokenize_lines(lines, offsets=False)]
        pred = iter(model.predict([sent_features(t) for t in toks if t]))
        with open(os.devnull, "w") as out:
            for t in toks:
                out.write(format_conll(t, list(next(pred))) if t else "\n")
        tag_s.append(time.perf_counter() - t0)
        n_tokens = sum(map(len, toks))
    return {"train": train_s, "tag": tag_s, "tokens": n_tokens}


# ---- report -------------------------------------------------------------------------------------------------

def verdict(ok: bool) -> str:
    return "MET" if ok else "not met"


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA, help="directory with train.txt, dev.txt, test.txt")
    ap.add_argument("--work", type=Path, default=Path("/tmp/ner-bench"), help="scratch directory (big files)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per timing (median reported)")
    ap.add_argument("--train-repeats", type=int, default=3, help="`ner train` runs")
    ap.add_argument("--crf-train-repeats", type=int, default=3, help="CRF training runs (each takes a minute)")
    ap.add_argument("--tokens", type=int, default=1_000_000, help="minimum tokens of the tagging input")
    ap.add_argument("--stream-times", type=int, default=10, help="copies streamed for the memory-flatness run")
    ap.add_argument("--crf-lines", type=int, default=20_000, help="lines of the input the CRF tags (it is slow)")
    ap.add_argument("--stage-lines", type=int, default=20_000, help="lines of the input for the per-stage shares")
    ap.add_argument("--model", type=Path, help="skip training and benchmark this model file")
    ap.add_argument("--quick", action="store_true", help="smoke run: 1 repeat, small inputs, no training")
    args = ap.parse_args(argv)
    if args.quick:
        args.repeats, args.train_repeats, args.tokens, args.stream_times, args.crf_lines = 1, 1, 100_000, 2, 2000
        args.stage_lines = 2000
        args.crf_train_repeats = 1
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    started = time.time()
    print_header("ner speed benchmark", "bench.speed", argv)

    text = work / "corpus.txt"
    n_lines, n_ws = build_text(args.data, text, args.tokens)
    print(f"input: {text} — {n_lines:,} lines, {n_ws:,} space-separated tokens, "
          f"{text.stat().st_size / 1e6:.1f} MB (CoNLL-2003 train+dev+test sentences, tokens joined by spaces)")

    # training
    if args.model is None and not args.quick:
        print("\n[training] ner train configs/conll2003.yaml (OPENBLAS_NUM_THREADS=1)", flush=True)
        tr: TrainResult | None = bench_train(work, args.train_repeats)
        model = tr.model
        print("[kernel] training's compiled loops: compile (empty numba cache) and load (cache filled)", flush=True)
        kernel = bench_kernel_ready(3)
    else:
        tr, kernel = None, None
        model = args.model or REPO / "models" / "sample.npz"
    model_mb = model.stat().st_size / 1e6

    print(f"\n[tag] ner tag -m {model.name} corpus.txt -f conll|jsonl > out (load average {loadavg()})", flush=True)
    out = work / "out.conll"
    one, n_tok = bench_tag(model, text, out, args.repeats, threads=1)
    reference = out.read_bytes()
    jsonl, _ = bench_tag(model, text, work / "out.jsonl", args.repeats, threads=1, fmt="jsonl")
    par, _ = bench_tag(model, text, out, args.repeats, threads=1, workers=2)
    same_par = out.read_bytes() == reference
    del reference
    stream = bench_tag_stream(model, text, args.stream_times)
    print(f"[stages] CPU seconds per stage, first {args.stage_lines:,} lines", flush=True)
    stages = {fmt: bench_stages(model, text, args.stage_lines, fmt, args.repeats) for fmt in ("conll", "jsonl")}

    print("[forward] Tagger.scores over the encoded input vs bare matrix products", flush=True)
    fwd = {t: bench_forward(model, text, args.repeats, t) for t in (1,)}
    print("[startup]", flush=True)
    st = bench_startup(model, max(args.repeats, 5))
    print("[dask] api.tag_bag on a distributed.LocalCluster, 1 and 2 worker processes", flush=True)
    dask_res = bench_dask(model, text, args.repeats)
    print(f"[crf] training and tagging (bench/crf_baseline.py; load average {loadavg()})", flush=True)
    crf = bench_crf(text, args.crf_lines, args.repeats, args.crf_train_repeats, args.data)

    # ---- figures
    tps = lambda runs: [n_tok / r.wall for r in runs]                      # noqa: E731
    cpu_tps = lambda runs: [n_tok / r.cpu for r in runs]                  # noqa: E731
    e2e, e2e_json = median(tps(one)), median(tps(jsonl))
    crf_tps = crf["tokens"] / median(crf["tag"])
    f1 = fwd[1]
    flops_tok = 2 * (f1["D"] * f1["H"] + f1["H"] * f1["C"])
    fwd_tps = {t: f["N"] / median(f["forward"]) for t, f in fwd.items()}
    mm_tps = {t: f["N"] / median(f["matmul"]) for t, f in fwd.items()}
    gflops = {t: mm_tps[t] * flops_tok / 1e9 for t in fwd}
    L = []
    L.append("")
    L.append(f"== results (median of runs; load average now {loadavg()}) ==")
    if tr is not None:
        L.append("training, default CoNLL-2003 config (configs/conll2003.yaml), 1 BLAS thread, "
                 + ("numba's compiled loops (train.kernel auto, numba installed):" if kernel else "numpy (no numba):"))
        L.append(f"  seconds per epoch (training + dev scoring): {spread(tr.epoch_seconds)}")
        L.append(f"  wall seconds from `ner train` start to the best dev F1: {spread(tr.wall_to_best, '{:.1f}')}  "
                 f"[target <= 30 s: {verdict(median(tr.wall_to_best) <= 30)}]")
        f1s = ", ".join(f"{x:.2f}" for x in tr.best_f1)
        L.append(f"  whole run {spread(tr.wall_total, '{:.1f}')} s  [target <= 45 s: "
                 f"{verdict(median(tr.wall_total) <= 45)}]; CPU {spread(tr.cpu, '{:.1f}')} s")
        L.append(f"  peak RSS {spread(tr.rss_mb, '{:.0f}')} MB  "
                 f"[target <= 400 MB: {verdict(median(tr.rss_mb) <= 400)}]")
        L.append(f"  best dev F1: {f1s}")
        if kernel:
            L.append(f"  a fresh process's `import numpy` + the compiled loops ready: {spread(kernel['cold'])} s "
                     f"with numba's cache empty (once after install: it compiles), {spread(kernel['warm'])} s cached "
                     "(every training run above)")
        L.append(f"  CRF baseline training (L-BFGS, 100 iterations): {spread(crf['train'], '{:.1f}')} s  "
                 f"-> ner reaches its best dev F1 in {median(tr.wall_to_best) / median(crf['train']):.2f}x the CRF's "
                 "training time")
    L.append(f"model file: {model_mb:.2f} MB ({model.name})  [target <= 10 MB: {verdict(model_mb <= 10)}]")
    L.append(f"`ner tag` end to end, {n_tok:,} tokens, raw text file -> file, one process, 1 BLAS thread:")
    L.append(f"  CoNLL: {spread(tps(one), '{:,.0f}')} tokens/s, wall {spread([r.wall for r in one])} s, "
             f"CPU {median([r.cpu for r in one]):.2f} s ({median(cpu_tps(one)):,.0f} tokens per CPU second)  "
             f"[target >= 300,000: {verdict(e2e >= 300_000)}]")
    L.append(f"  jsonl: {spread(tps(jsonl), '{:,.0f}')} tokens/s, wall {spread([r.wall for r in jsonl])} s, "
             f"CPU {median([r.cpu for r in jsonl]):.2f} s ({median(cpu_tps(jsonl)):,.0f} tokens per CPU second)  "
             f"[target >= 250,000: {verdict(e2e_json >= 250_000)}]")
    L.append(f"  CoNLL, --workers 2: {spread(tps(par), '{:,.0f}')} tokens/s (output identical to one process: "
             f"{same_par})")
    L.append(f"  CRF baseline, same tokenizer and writer, first {args.crf_lines:,} lines ({crf['tokens']:,} tokens): "
             f"{spread([crf['tokens'] / x for x in crf['tag']], '{:,.0f}')} tokens/s -> ner is {e2e / crf_tps:.1f}x "
             f"faster (CoNLL), {e2e_json / crf_tps:.1f}x (jsonl)")
    L.append("  CPU share of each stage (in-process, the pipeline's own functions; median-free: summed over runs):")
    for fmt, res in stages.items():
        total = sum(res["cpu"].values())
        shares = "  ".join(f"{k} {v / total:.0%}" for k, v in res["cpu"].items())
        L.append(f"    {fmt:5s}: {res['tokens'] / total:,.0f} tokens per CPU second; {shares}")
    if dask_res:
        base = None
        for workers, res in dask_res.items():
            warm = res["walls"][1:]
            rate = n_tok / median(warm)
            base = base or rate
            L.append(f"  Dask LocalCluster, {workers} worker process(es), api.tag_bag -> to_textfiles (CoNLL), "
                     f"{res['partitions']} partitions: {spread([n_tok / w for w in warm], '{:,.0f}')} tokens/s "
                     f"({rate / base:.2f}x one worker; first run, loading the model: {res['walls'][0]:.1f} s)")
    L.append("peak resident memory of `ner tag`:")
    L.append(f"  {n_tok / 1e6:.1f}M tokens (file in, file out): {median([r.rss_mb for r in one]):.0f} MB; "
             f"{args.stream_times * n_tok / 1e6:.1f}M tokens ({args.stream_times} copies through stdin, "
             f"output to /dev/null): {stream.rss_mb:.0f} MB at {args.stream_times * n_tok / stream.wall:,.0f} "
             f"tokens/s  [flat: {verdict(stream.rss_mb < 1.2 * median([r.rss_mb for r in one]))}]")
    L.append(f"forward pass alone, the gather + matmul path (Tagger.scores without per-type products, "
             f"{f1['rows']} rows per product), {flops_tok:,} FLOPs/token:")
    for t in fwd:
        L.append(f"  {t} BLAS thread(s): {fwd_tps[t]:,.0f} tokens/s; the plain matrix products alone: "
                 f"{mm_tps[t]:,.0f} tokens/s ({gflops[t]:.1f} GFLOP/s) -> "
                 f"{fwd_tps[t] / mm_tps[t]:.2f} of the matmul bound")
    L.append(f"`ner --help`: {spread(st['help'], '{:.3f}')} s")
    L.append(f"`ner tag` start-up (a fresh process tagging one line): {spread(st['tag_one'], '{:.3f}')} s  "
             f"[target < 0.3 s: {verdict(median(st['tag_one']) < 0.3)}]; loading the model in a running process: "
             f"{spread(st['load'], '{:.3f}')} s; a bare `python -c \"import numpy\"` in the same moments (a floor "
             f"that shows the machine's speed then): {spread(st['numpy'], '{:.3f}')} s")
    L.append(f"benchmark wall time {time.time() - started:.0f} s")
    print("\n".join(L))


if __name__ == "__main__":
    main()
