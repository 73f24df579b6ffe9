"""The installed `ner` command, run in subprocesses the way a shell pipeline would."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLE

from ner_cli.nn.activations import ACTIVATIONS
from ner_cli.nn.model import LOSSES

NER = shutil.which("ner", path=str(Path(sys.executable).parent)) or "ner"


def run(*args: str, input: str | None = None, cwd: Path = ROOT, env: dict | None = None,
        check: bool = False) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("NER_MODEL", None) if env is None or "NER_MODEL" not in env else None
    p = subprocess.run([NER, *args], input=input, capture_output=True, text=True, cwd=cwd, env=full_env,
                       timeout=300)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def test_help_lists_every_command():
    p = run("--help", check=True)
    for cmd in ("train", "eval", "tag", "gradcheck"):
        assert cmd in p.stdout
    p = run("tag", "--help", check=True)
    for option in ("--model", "--format", "--input", "--paragraphs", "--workers"):
        assert option in p.stdout


def test_train_eval_tag_end_to_end(tmp_path):
    model = tmp_path / "models" / "m.npz"
    p = run("train", str(ROOT / "configs" / "sample.yaml"), "--set", "train.epochs=3", "--set", "model.hidden=32",
            "-o", str(model), check=True)
    assert p.stdout == ""                                  # progress and epoch lines go to stderr only
    assert "epoch   1" in p.stderr and model.is_file()

    p = run("eval", str(model), str(SAMPLE / "dev.txt"), check=True)
    assert p.stdout.startswith("processed 1455 tokens with 149 phrases; found:")
    assert "gold \\ pred" in p.stdout
    p = run("eval", str(model), str(SAMPLE / "dev.txt"), "--format", "json", check=True)
    scores = json.loads(p.stdout)
    assert 0 <= scores["entity"]["f1"] <= 100 and scores["entity"]["phrases_gold"] == 149

    text = (SAMPLE / "raw.txt").read_text(encoding="utf-8")
    p = run("tag", "-", "--model", str(model), "--format", "jsonl", input=text, check=True)
    lines = text.splitlines()
    records = [json.loads(r) for r in p.stdout.splitlines()]
    assert len(records) == len(lines)
    for line, rec in zip(lines, records, strict=True):
        assert rec["text"] == line
        for ent in rec["entities"]:
            assert line[ent["start"]:ent["end"]] == ent["text"]
    assert p.stderr == ""                                  # --model given: nothing to say

    # no --model: the only .npz under ./models/ is used, and stderr says so
    p = run("tag", str(SAMPLE / "raw.txt"), cwd=tmp_path, check=True)
    assert "using model models/m.npz" in p.stderr
    assert p.stdout.count("\n\n") >= len([x for x in lines if x.strip()]) - 1


def test_tag_with_several_models_and_none_chosen_explains_how_to_choose(tmp_path):
    """(With no model at all, the built-in English model is used: see test_out_of_the_box.)"""
    (tmp_path / "models").mkdir()
    for name in ("a.npz", "b.npz"):
        (tmp_path / "models" / name).write_bytes(b"")
    p = run("tag", "-", input="Hello Paris\n", cwd=tmp_path)
    assert p.returncode != 0 and "no model given and 2 found" in p.stderr and "--model" in p.stderr
    assert "Traceback" not in p.stderr and p.stdout == ""


def test_tag_into_head_exits_quietly(sample_model, tmp_path):
    big = tmp_path / "big.txt"
    big.write_text(("Ana Costa flew from Lisbon to Paris on Monday .\n" * 50_000), encoding="utf-8")
    p = subprocess.run(f"'{NER}' tag '{big}' --model '{sample_model}' | head -1", shell=True, capture_output=True,
                       text=True, timeout=300)
    assert p.stdout.count("\n") == 1
    assert p.stderr == ""


def test_bad_input_exits_2_naming_file_and_line(sample_model, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("Peter B-PER\nlives O\nin\n", encoding="utf-8")
    p = run("eval", str(sample_model), str(bad))
    assert p.returncode == 2
    assert f"{bad}:3" in p.stderr and "Traceback" not in p.stderr


def test_config_error_names_the_key(tmp_path):
    p = run("train", str(ROOT / "configs" / "sample.yaml"), "--set", "model.activaton=relu")
    assert p.returncode == 2 and "model.activaton: unknown key" in p.stderr and "activation" in p.stderr


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize(("task", "loss"), [(task, loss) for task, losses in LOSSES.items() for loss in losses])
def test_gradcheck_command_passes_for_every_activation_and_loss(activation, task, loss):
    """`ner gradcheck` in-process (a subprocess each would be slow), then one real subprocess below."""
    from ner_cli.config import load_config
    from ner_cli.nn.model import param_shapes
    from ner_cli.train import check_gradients

    cfg = load_config(ROOT / "configs" / "sample.yaml", [
        f"model.activation={activation}", f"model.task={task}", f"model.loss={loss}", "model.target=PER",
        "model.hidden=6", "model.dim=4", "model.case_dim=2", "model.dropout_input=0.1",
        "model.embeddings=null"])
    spec, _, results = check_gradients(cfg, sentences=2, entries=12)
    assert (spec.activation, spec.task, spec.loss) == (activation, task, loss)
    assert {r.name for r in results} == set(param_shapes(spec))          # one check per parameter, no more
    worst = {r.name: r.max_rel_error for r in results}
    assert max(worst.values()) <= 1e-5, worst


def test_gradcheck_subprocess_prints_each_parameter():
    p = run("gradcheck", str(ROOT / "configs" / "sample.yaml"), "--set", "model.hidden=8", "--set", "model.loss=crf",
            check=True)
    for name in ("E", "K", "W", "b", "U", "c", "A", "A_start", "A_end"):
        assert f"  {name} " in p.stdout
    assert "all gradients match" in p.stdout


def test_progress_on_a_terminal_never_touches_stdout(sample_model, tmp_path):
    """With stderr on a terminal, `ner tag` shows a line counter there, and stdout still gets every result."""
    import pty

    text = tmp_path / "in.txt"
    text.write_text("Ana Costa flew from Lisbon to Paris .\n" * 5000, encoding="utf-8")
    expected = run("tag", str(text), "--model", str(sample_model), check=True).stdout
    master, slave = pty.openpty()
    with open(tmp_path / "out.conll", "w") as out:
        p = subprocess.run([NER, "tag", str(text), "--model", str(sample_model)], stdout=out, stderr=slave,
                           timeout=300)
    os.close(slave)
    shown = b""
    with contextlib.suppress(OSError):
        while chunk := os.read(master, 65536):
            shown += chunk
    os.close(master)
    assert p.returncode == 0
    assert (tmp_path / "out.conll").read_text(encoding="utf-8") == expected
    assert b"lines tagged" in shown


def test_messages_are_styled_only_on_a_terminal_and_never_carry_control_codes(capsys, monkeypatch):
    """`_stderr` writes plain lines to a pipe or file, SGR-styled ones on a terminal (or with FORCE_COLOR),
    and drops what rich would (bell, backspace, carriage return) in every case."""
    from ner_cli.cli.commands import _stderr

    monkeypatch.delenv("FORCE_COLOR", raising=False)
    _stderr("error: bad\r\x07 file", "bold red")
    assert capsys.readouterr().err == "error: bad file\n"                 # captured: not a terminal
    monkeypatch.setenv("FORCE_COLOR", "1")
    _stderr("hint: try", "yellow")
    _stderr("plain")
    assert capsys.readouterr().err == "\x1b[33mhint: try\x1b[0m\nplain\n"
    monkeypatch.delenv("FORCE_COLOR")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    _stderr("using model m", "dim")
    assert capsys.readouterr().err == "using model m\n"
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "xterm")
    _stderr("using model m", "dim")
    assert capsys.readouterr().err == "\x1b[2musing model m\x1b[0m\n"
