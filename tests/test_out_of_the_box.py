"""Issue 10 from the installed `ner`: confidence, error lists, info, gzip and stdin, streaming, the built-in
model, completion, `python -m ner_cli`, the terminal, and the Python API's handling of a single string."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CONLL, ROOT, SAMPLE
from test_cli import NER, run

BUILTIN = ROOT / "ner_cli" / "models" / "en.npz"


# ---- confidence -------------------------------------------------------------------------------------------


def read_until_exit(pid: int, fd: int) -> bytes:
    """Everything a pty child writes until it closes the terminal, then wait for it."""
    seen = b""
    try:
        while chunk := os.read(fd, 65536):
            seen += chunk
    except OSError:                                                # EIO: the child closed the pty
        pass
    os.waitpid(pid, 0)
    return seen


def test_jsonl_entities_carry_scores_and_min_score_drops_the_unsure(sample_model):
    text = (SAMPLE / "raw.txt").read_text(encoding="utf-8")
    p = run("tag", "-", "--model", str(sample_model), "--format", "jsonl", input=text, check=True)
    recs = [json.loads(r) for r in p.stdout.splitlines()]
    scores = [e["score"] for r in recs for e in r["entities"]]
    assert scores and all(0.0 <= s <= 1.0 for s in scores)
    cut = sorted(scores)[len(scores) // 2]
    p = run("tag", "-", "--model", str(sample_model), "--format", "jsonl", "--min-score", str(cut), input=text,
            check=True)
    kept = [e["score"] for r in map(json.loads, p.stdout.splitlines()) for e in r["entities"]]
    assert kept and all(s >= cut for s in kept) and len(kept) < len(scores)
    p = run("tag", "-", "--model", str(sample_model), "--scores", input="Ana Costa flew to Lisbon .\n", check=True)
    rows = [r.split("\t") for r in p.stdout.strip().splitlines()]
    assert all(len(r) == 3 for r in rows)
    for _, tag, score in rows:
        assert (score == "-") == (tag == "O")
        if tag != "O":
            assert 0 <= float(score) <= 1


def test_crf_scores_in_the_tagger_equal_brute_force(tmp_path):
    """A tiny CRF model: the score of each predicted entity equals the sum over all tag paths containing it."""
    import itertools

    import numpy as np

    from ner_cli.config import build_config
    from ner_cli.nn.decode import DISALLOWED as CRF_DISALLOWED
    from ner_cli.tagger import Tagger
    from ner_cli.train import train

    out = tmp_path / "crf.npz"
    cfg = build_config({"data": {"train": str(SAMPLE / "train.txt"), "dev": str(SAMPLE / "dev.txt")},
                        "model": {"hidden": 16, "loss": "crf", "embeddings": None, "dim": 8},
                        "train": {"epochs": 2, "seed": 0}, "output": {"path": str(out)}})
    train(cfg)
    tagger = Tagger.load(out)
    words = ["Ana", "Costa", "flew", "to", "Lisbon"]
    tags, ents = tagger.predict_scored([words])
    assert tags == tagger.predict([words])
    enc = tagger.featurizer.encode([words])
    S = tagger.scores(enc, 0, len(words)).astype(np.float64)
    start_ok, ok, end_ok = tagger._masks
    A = tagger.params["A"] + np.where(ok, 0, CRF_DISALLOWED)
    st = tagger.params["A_start"] + np.where(start_ok, 0, CRF_DISALLOWED)
    en = tagger.params["A_end"] + np.where(end_ok, 0, CRF_DISALLOWED)
    C, L = len(tagger.labels), len(words)
    paths = list(itertools.product(range(C), repeat=L))
    logp = np.array([st[y[0]] + en[y[-1]] + S[np.arange(L), y].sum() + sum(A[y[t - 1], y[t]] for t in range(1, L))
                     for y in paths])
    logp -= np.logaddexp.reduce(logp)
    from ner_cli.tags import get_entities

    for label, a, b, p in ents[0]:
        want = sum(np.exp(lp) for y, lp in zip(paths, logp, strict=True)
                   if (label, a, b) in [tuple(e) for e in get_entities([tagger.labels[i] for i in y])])
        assert p == pytest.approx(want, abs=1e-6)


# ---- errors, info -----------------------------------------------------------------------------------------

def test_eval_errors_as_json_lines(sample_model):
    p = run("eval", str(sample_model), str(SAMPLE / "dev.txt"), "--errors", check=True)
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    mistakes, summary = lines[:-1], lines[-1]["summary"]
    assert mistakes and summary["total"] == len(mistakes)
    kinds = {m["kind"] for m in mistakes}
    assert kinds <= {"missed", "spurious", "type", "boundary", "type+boundary"} and len(kinds) >= 2
    m = next(m for m in mistakes if m["gold"] and m["pred"])
    assert m["gold"]["text"] in m["text"] and isinstance(m["line"], int)
    ev = json.loads(run("eval", str(sample_model), str(SAMPLE / "dev.txt"), "--format", "json", check=True).stdout)
    e = ev["entity"]
    assert sum(m["gold"] is not None for m in mistakes) == e["phrases_gold"] - e["phrases_correct"]


def test_info_json_and_text(sample_model):
    info = json.loads(run("info", str(sample_model), "--format", "json", check=True).stdout)
    for key in ("task", "loss", "window", "sizes", "features", "labels", "vocab_size", "scores", "history",
                "file_size", "format_version", "config"):
        assert key in info
    assert info["file_size"] == sample_model.stat().st_size and "B-PER" in info["labels"]
    h = info["history"]
    assert [e["epoch"] for e in h] == list(range(1, len(h) + 1)) and len(h) >= 2
    for e in h:
        assert {"loss", "dev_f1", "dev_f1_per_type", "lr", "seconds"} <= set(e) and "PER" in e["dev_f1_per_type"]
    assert info["scores"]["dev"]["f1"] == max(e["dev_f1"] for e in h)
    text = run("info", str(sample_model), check=True).stdout
    assert "training history" in text and "vocabulary" in text and "format version" in text


# ---- input conveniences -------------------------------------------------------------------------------------

def test_gzip_and_stdin_for_eval_convert_tag_and_train(sample_model, tmp_path):
    dev = SAMPLE / "dev.txt"
    gz = tmp_path / "dev.conll"                             # no .gz suffix: detected by its magic bytes
    gz.write_bytes(gzip.compress(dev.read_bytes()))
    plain = run("eval", str(sample_model), str(dev), check=True).stdout
    assert run("eval", str(sample_model), str(gz), check=True).stdout == plain
    assert run("eval", str(sample_model), "-", input=dev.read_text(encoding="utf-8"), check=True).stdout == plain
    both = run("eval", str(sample_model), str(dev), str(gz), "--format", "json", check=True).stdout
    assert [r["data"] for r in json.loads(both)] == [str(dev), str(gz)]
    conv = run("convert", str(dev), "--to", "IOBES", check=True).stdout
    assert run("convert", str(gz), "--to", "IOBES", check=True).stdout == conv
    assert run("convert", "-", "--to", "IOBES", input=dev.read_text(encoding="utf-8"), check=True).stdout == conv
    raw = SAMPLE / "raw.txt"
    rgz = tmp_path / "raw.txt.gz"
    rgz.write_bytes(gzip.compress(raw.read_bytes()))
    want = run("tag", str(raw), "--model", str(sample_model), check=True).stdout
    assert run("tag", str(rgz), "--model", str(sample_model), check=True).stdout == want
    p = subprocess.run(f"cat '{rgz}' | '{NER}' tag - --model '{sample_model}'", shell=True, capture_output=True,
                       text=True, timeout=120)
    assert p.stdout == want
    tgz = tmp_path / "train.gz"
    tgz.write_bytes(gzip.compress((SAMPLE / "train.txt").read_bytes()))
    p = run("train", str(ROOT / "configs" / "sample.yaml"), "--set", f"data.train={tgz}", "--set",
            f"data.dev={gz}", "--set", "train.epochs=1", "--set", "model.hidden=8", "-o", str(tmp_path / "g.npz"),
            check=True)
    assert (tmp_path / "g.npz").is_file()


def test_completion_and_python_m(sample_model):
    p = run("--help", check=True)
    assert "--install-completion" in p.stdout
    p = subprocess.run([sys.executable, "-m", "ner_cli", "tag", "-", "--model", str(sample_model)],
                       input="Ana Costa flew to Lisbon .\n", capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and "Ana\t" in p.stdout
    p = subprocess.run([sys.executable, "-m", "ner_cli", "--version"], capture_output=True, text=True, timeout=60)
    assert p.stdout.startswith("ner ")


# ---- streaming -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("workers", ["1", "2"])
def test_each_line_is_tagged_as_soon_as_it_arrives_through_a_pipe(sample_model, workers):
    """Like `tail -f log | ner tag`: the writer pauses after each line; the result must come before the next,
    with worker processes too (they give what is tagged before waiting for input)."""
    import select

    p = subprocess.Popen([NER, "tag", "-", "--model", str(sample_model), "--format", "jsonl", "--workers", workers],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for sentence in ("Ana Costa flew to Lisbon .", "Braga United beat Porto .", "Rui stayed in Faro ."):
            p.stdin.write(sentence + "\n")
            p.stdin.flush()
            ready, _, _ = select.select([p.stdout], [], [], 60)  # the writer waits: no result by then is a failure
            assert ready, f"no result for {sentence!r} while the input paused"
            assert json.loads(p.stdout.readline())["text"] == sentence
    finally:
        p.stdin.close()
        p.wait(timeout=60)
    assert p.returncode == 0


def test_terminal_stdin_gets_a_hint_and_no_spinner_on_the_results(sample_model, tmp_path):
    """stdin and stdout on a terminal: stderr says how to end the input; no spinner shares the results' lines."""
    import pty

    pid, fd = pty.fork()
    if pid == 0:                                                   # child: the terminal is its stdin/out/err
        os.execv(NER, [NER, "tag", "--model", str(sample_model)])
    seen = b""
    os.write(fd, b"Ana Costa flew to Lisbon .\n")
    deadline = time.monotonic() + 60
    while b"Lisbon\tB-LOC" not in seen and time.monotonic() < deadline:
        seen += os.read(fd, 4096)
    os.write(fd, b"\x04")                                          # Ctrl-D
    text = (seen + read_until_exit(pid, fd)).decode("utf-8", "replace")
    assert "Ctrl-D ends it" in text and "Lisbon\tB-LOC" in text
    assert "lines tagged" not in text


# ---- the built-in model ---------------------------------------------------------------------------------

@pytest.mark.skipif(not BUILTIN.is_file(), reason="the built-in model ner_cli/models/en.npz is not built")
def test_builtin_model_tags_real_english_in_an_empty_directory(tmp_path):
    (tmp_path / "file.txt").write_text("Angela Merkel met Emmanuel Macron in Paris on Monday .\n",
                                       encoding="utf-8")
    p = run("tag", "file.txt", "--format", "jsonl", cwd=tmp_path, check=True)
    assert "built-in" in p.stderr
    ents = {(e["text"], e["label"]) for e in json.loads(p.stdout)["entities"]}
    assert {("Angela Merkel", "PER"), ("Paris", "LOC")} <= ents
    assert BUILTIN.stat().st_size <= 12_000_000
    info = json.loads(run("info", "--format", "json", cwd=tmp_path, check=True).stdout)
    assert info["history"] and info["scores"]["dev"]["f1"] > 90


@pytest.mark.slow
@pytest.mark.skipif(not CONLL.is_dir() or not BUILTIN.is_file(), reason="needs ../shared/data/conll2003 and en.npz")
def test_builtin_model_scores_stored_equal_ner_eval_now():
    info = json.loads(run("info", str(BUILTIN), "--format", "json", check=True).stdout)
    for name in ("dev", "test"):
        ev = json.loads(run("eval", str(BUILTIN), str(CONLL / f"{name}.txt"), "--format", "json", check=True).stdout)
        stored = info["scores"][name]
        assert stored["f1"] == ev["entity"]["f1"], name
        assert stored["phrases_correct"] == ev["entity"]["phrases_correct"], name


def test_readme_states_the_rebuild_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "ner train configs/conll2003.yaml --set data.test=../shared/data/conll2003/test.txt " \
           "--set train.kernel=numpy -o ner_cli/models/en.npz" in readme


def test_model_precedence(sample_model, tmp_path, monkeypatch):
    from ner_cli.cli.models import BUILTIN_MODEL, find_model

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NER_MODEL", raising=False)
    assert find_model(None) == (BUILTIN_MODEL, "the built-in English model")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "a.npz").write_bytes(sample_model.read_bytes())
    assert find_model(None)[0] == Path("models/a.npz")
    monkeypatch.setenv("NER_MODEL", str(sample_model))
    assert find_model(None) == (Path(str(sample_model)), "$NER_MODEL")
    assert find_model("x.npz") == (Path("x.npz"), "--model")


# ---- API -----------------------------------------------------------------------------------------------

def test_api_single_string_is_one_line_and_entities_have_scores(sample_model):
    from ner_cli import api
    from ner_cli.tagger import Tagger

    recs = list(api.records(str(sample_model), "Ana Costa flew to Lisbon ."))
    assert len(recs) == 1 and recs[0]["text"] == "Ana Costa flew to Lisbon ."
    assert all(0 <= e["score"] <= 1 for e in recs[0]["entities"]) and recs[0]["entities"]
    assert list(api.tag(str(sample_model), "Ana Costa flew .", fmt="inline")) == \
        list(api.tag(str(sample_model), ["Ana Costa flew ."], fmt="inline"))
    tagger = Tagger.load(sample_model)
    with pytest.raises(TypeError):
        tagger.predict(["Ana Costa flew"])
    with pytest.raises(TypeError):
        tagger.predict("Ana Costa flew")
    assert len(tagger.predict([["Ana", "Costa", "flew"]])[0]) == 3


def test_eval_errors_on_a_terminal_is_a_table(sample_model):
    import pty

    pid, fd = pty.fork()
    if pid == 0:
        os.environ["COLUMNS"] = "160"
        os.execv(NER, [NER, "eval", str(sample_model), str(SAMPLE / "dev.txt"), "--errors"])
    text = read_until_exit(pid, fd).decode("utf-8", "replace")
    assert "mistakes by type and kind" in text and "type+boundary" in text and "[PER " in text
    assert '"kind"' not in text                                    # not JSON lines


def test_train_quiet_prints_nothing_but_notices(tmp_path):
    p = run("train", str(ROOT / "configs" / "sample.yaml"), "-q", "--set", "train.epochs=1", "--set",
            "model.hidden=8", "-o", str(tmp_path / "q.npz"), check=True)
    assert p.stderr == "" and p.stdout == ""
    h = json.loads(run("info", str(tmp_path / "q.npz"), "--format", "json", check=True).stdout)["history"]
    assert len(h) == 1
