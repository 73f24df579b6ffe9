"""Reliability (issue 11): nothing lost, nothing wrong, never a traceback on what an adversarial pass found.

One test (or more) per item of the issue, named after it: W = wrong result or data loss, T = traceback,
R = memory or time blow-up. Each failed before its fix.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import traceback
import zipfile
from pathlib import Path

import numpy as np
import pytest
import typer.main
import typer.testing
import yaml
from conftest import SAMPLE
from hypothesis import given, settings
from hypothesis import strategies as st

from ner_cli.errors import ConfigError, DataError, ModelFileError
from ner_cli.io.conll import parse_conll_lines, read_conll
from ner_cli.io.modelfile import META_KEY, load_model_arrays

NER = str(Path(sys.executable).parent / "ner")


@pytest.fixture(scope="module")
def cli(cli_invoke):
    """invoke(*args) -> Result (conftest's in-process runner)."""
    return lambda *args: cli_invoke(args)


def no_traceback(result) -> None:
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        pytest.fail("uncaught exception\n" + "".join(traceback.format_exception(exc))[-3000:])
    assert "Traceback" not in result.output


def error(result, code: int = 2) -> str:
    """The output of a clean failure with exit `code` (one error line, no traceback)."""
    no_traceback(result)
    assert result.exit_code == code, result.output
    assert "error:" in result.output, result.output
    return result.output



def model_parts(path: Path) -> tuple[dict, dict]:
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    return arrays, json.loads(arrays.pop(META_KEY).tobytes())


def npz_bytes(arrays: dict, meta: dict | None = None, raw_meta: bytes | None = None) -> bytes:
    arrays = dict(arrays)
    if meta is not None or raw_meta is not None:
        data = raw_meta if raw_meta is not None else json.dumps(meta).encode()
        arrays[META_KEY] = np.frombuffer(data, dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def write_config(tmp_path: Path, out: Path | None = None, **sections) -> Path:
    train = tmp_path / "train.txt"
    if not train.exists():
        train.write_text("Ana B-PER\nflew O\nto O\nLisbon B-LOC\n\nBob B-PER\nleft O\n", encoding="utf-8")
    body = {"data": {"train": str(train), "dev": None}, "model": {"hidden": 4, "dim": 4, "window": 1},
            "train": {"epochs": 1}, "output": {"path": str(out or tmp_path / "m.npz")}}
    for sec, values in sections.items():
        body[sec].update(values)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(body), encoding="utf-8")
    return cfg


# ---- W1, W2, W11: CoNLL reading and conversion lose nothing ------------------------------------------------

def test_w1_hash_tokens_are_tokens(cli, tiny_model, tmp_path):
    f = tmp_path / "h.txt"
    f.write_text("I O\nlove O\n#Paris B-LOC\ntoday O\n\n# O\n", encoding="utf-8")
    assert [s.words for s in read_conll(f)] == [["I", "love", "#Paris", "today"], ["#"]]
    result = cli("eval", tiny_model, f)
    no_traceback(result)
    assert result.stdout.startswith("processed 5 tokens with 1 phrases")
    out = cli("convert", f, "--to", "IOBES")
    assert "#Paris S-LOC\n" in out.stdout and "# O\n" in out.stdout
    tagged = cli("tag", "-m", tiny_model, "--input", "conll", f)
    assert [row.split("\t")[0] for row in tagged.stdout.split("\n") if row] == ["I", "love", "#Paris", "today", "#"]


def test_w1_tag_output_reads_back(cli, tiny_model, tmp_path):
    raw = tmp_path / "raw.txt"
    raw.write_text("# Paris is lovely #\n", encoding="utf-8")
    conll = tmp_path / "in.txt"
    conll.write_text("#Paris\nis\n\n#\n", encoding="utf-8")
    for args in ([raw], ["--input", "conll", conll]):
        out = cli("tag", "-m", tiny_model, *args).stdout
        back = list(parse_conll_lines(io.StringIO(out), require_tags=True))
        assert [s.words for s in back] == [[r.split("\t")[0] for r in block.split("\n") if r]
                                           for block in out.split("\n\n") if block.strip()]
        assert back[0].words[0].startswith("#")


def test_w1_no_comment_syntax():
    """CoNLL has none: a CoNLL-U style comment is a line with the wrong number of columns, named as such."""
    with pytest.raises(DataError) as e:
        list(parse_conll_lines(io.StringIO("# sent_id = 1\nEU B-ORG\n")))
    assert e.value.line == 1


def test_w2_scheme_error_line_after_comment_lines(tmp_path):
    from ner_cli.io.dataset import read_corpus

    f = tmp_path / "c.txt"
    f.write_text("Ana B-PER\n#x O\nflew O\nto O\nLisbon I-LOC\n", encoding="utf-8")
    with pytest.raises(DataError) as e:
        read_corpus(f)
    assert e.value.line == 5


def test_w2_utf8_error_line_with_cr_line_ends(tmp_path):
    f = tmp_path / "cr.txt"
    f.write_bytes(b"Ana B-PER\rflew O\r\rto O\rLis\xffbon B-LOC\r")
    with pytest.raises(DataError) as e:
        list(read_conll(f))
    assert e.value.line == 5 and "column 4" in e.value.message


def test_w11_convert_keeps_every_docstart_line(cli, tmp_path):
    f = tmp_path / "d.txt"
    f.write_text("-DOCSTART- -X- -X- O\n\n-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\n\n"
                 "-DOCSTART- -X- -X- O\n", encoding="utf-8")
    out = cli("convert", f, "--to", "IOB2").stdout
    assert out.count("-DOCSTART-") == 3
    assert out.index("-DOCSTART-", out.index("-DOCSTART-") + 1) < out.index("EU")


_tok = st.text(st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), min_size=1, max_size=5) \
    .filter(lambda w: w != "-DOCSTART-" and "\ufeff" not in w)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.just("DOC"), st.lists(st.tuples(_tok, st.sampled_from(
    ["O", "B-PER", "I-PER", "B-LOC"])), min_size=1, max_size=5)), min_size=1, max_size=6),
    st.sampled_from(["IOB1", "IOB2", "IOBES"]))
def test_w11_convert_is_lossless_property(tmp_path_factory, items, to):
    """Any valid IOB2 file, '#' tokens and repeated -DOCSTART- lines included, converts to `to` and back."""
    from ner_cli.io.dataset import convert_file
    from ner_cli.tags import repair_tags

    if all(item == "DOC" for item in items):
        items = [*items, [("x", "O")]]
    parts = []
    for item in items:
        if item == "DOC":
            parts.append("-DOCSTART- -X- O\n\n")
        else:
            tags = repair_tags([t for _, t in item], "IOB2")
            parts.append("".join(f"{w} {t}\n" for (w, _), t in zip(item, tags, strict=True)) + "\n")
    f = tmp_path_factory.mktemp("conv") / "f.txt"
    f.write_text("".join(parts), encoding="utf-8")
    there, _, _ = convert_file(f, to, source="IOB2")
    g = f.with_name("g.txt")
    g.write_text(there, encoding="utf-8")
    back, _, _ = convert_file(g, "IOB2", source=to)
    assert back == "".join(parts)


# ---- W14, swapped arguments, label sets -------------------------------------------------------------------

def test_w14_same_fault_same_exit_code(cli, tiny_model, tmp_path):
    missing = tmp_path / "missing.txt"
    for args in (["tag", "-m", tiny_model, missing], ["eval", tiny_model, missing],
                 ["convert", missing, "--to", "IOB2"],
                 ["convert", SAMPLE / "dev.txt", "--to", "IOB2", "--from", "XYZ"],
                 ["convert", SAMPLE / "dev.txt", "--to", "XYZ"], ["tag", "-m", missing, missing]):
        result = cli(*args)
        no_traceback(result)
        assert result.exit_code == 2, (args, result.output)


def test_w14_iobes_spelt_bioes_both_ways(cli):
    to = cli("convert", SAMPLE / "dev.txt", "--to", "BIOES")
    no_traceback(to)
    assert to.exit_code == 0 and "S-" in to.stdout
    assert cli("convert", SAMPLE / "dev.txt", "--to", "iobes").exit_code == 0


def test_swapped_eval_arguments_are_named(cli, tiny_model):
    out = error(cli("eval", SAMPLE / "dev.txt", tiny_model))
    assert "swapped" in out and "pickled" not in out


def test_label_sets_sharing_nothing_warn(cli, tiny_model, tmp_path):
    f = tmp_path / "onto.txt"
    f.write_text("Ana B-PERSON\nflew O\nto O\nLisbon B-GPE\n", encoding="utf-8")
    result = cli("eval", tiny_model, f)
    no_traceback(result)
    assert result.exit_code == 0 and "warning:" in result.stderr and "PERSON" in result.stderr
    assert "warning" not in cli("eval", tiny_model, SAMPLE / "dev.txt").stderr


# ---- T1-T4, R2: model files --------------------------------------------------------------------------------

def test_t1_npy_as_model(cli, tmp_path, monkeypatch):
    npy = tmp_path / "m.npy"
    np.save(npy, np.zeros(3))
    raw = tmp_path / "raw.txt"
    raw.write_text("Ana\n", encoding="utf-8")
    assert ".npy" in error(cli("tag", "-m", npy, raw))
    monkeypatch.setenv("NER_MODEL", str(npy))
    assert ".npy" in error(cli("tag", raw))
    assert ".npy" in error(cli("eval", npy, SAMPLE / "dev.txt"))


def test_t2_deeply_nested_metadata(tiny_model):
    arrays, _ = model_parts(tiny_model)
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(ModelFileError):
        load_model_arrays(npz_bytes(arrays, raw_meta=deep))


def test_t3_huge_format_version(tiny_model):
    arrays, meta = model_parts(tiny_model)
    raw = re.sub(r'"format_version": \d+', '"format_version": ' + "9" * 5000, json.dumps(meta)).encode()
    with pytest.raises(ModelFileError):
        load_model_arrays(npz_bytes(arrays, raw_meta=raw))


def test_t4_every_index_range_is_validated(cli, tiny_model, tmp_path):
    arrays, meta = model_parts(tiny_model)
    meta["spec"]["n_cases"] = 3
    arrays["K"] = arrays["K"][:3]
    bad = tmp_path / "k.npz"
    bad.write_bytes(npz_bytes(arrays, meta))
    with pytest.raises(ModelFileError, match="n_cases"):
        load_model_arrays(bad)


def test_r2_names_and_shapes_checked_before_decompressing(tiny_model, tmp_path):
    arrays, meta = model_parts(tiny_model)
    bomb = tmp_path / "bomb.npz"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, a in {**arrays, META_KEY: np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}.items():
            with zf.open(name + ".npy", "w") as member:
                np.lib.format.write_array(member, a)
        with zf.open("huge.npy", "w", force_zip64=True) as member:      # 1 GB of zeros, compressed to ~4 MB
            np.lib.format.write_array_header_1_0(member, {"descr": "<f4", "fortran_order": False,
                                                          "shape": (1 << 28,)})
            block = bytes(1 << 24)
            for _ in range((1 << 30) // len(block)):
                member.write(block)
    bomb.write_bytes(buf.getvalue())
    assert bomb.stat().st_size < 20_000_000
    t0 = time.perf_counter()
    with pytest.raises(ModelFileError, match="huge"):
        load_model_arrays(bomb)
    assert time.perf_counter() - t0 < 2
    # a member with a legitimate name whose header declares a huge shape is refused from the header
    arrays["W"] = np.zeros((1, 1), np.float32)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, a in {**arrays, META_KEY: np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}.items():
            with zf.open(name + ".npy", "w") as member:
                if name == "W":
                    np.lib.format.write_array_header_2_0(member, {"descr": "<f4", "fortran_order": False,
                                                                  "shape": (100_000, 100_000)})
                else:
                    np.lib.format.write_array(member, a)
    with pytest.raises(ModelFileError, match="W"):
        load_model_arrays(buf.getvalue())


# ---- T6, T7, R1, T9, W12: configs --------------------------------------------------------------------------

def test_t6_deeply_nested_yaml(cli, tmp_path):
    cfg = tmp_path / "deep.yaml"
    cfg.write_text("data: " + "[" * 10_000 + "]" * 10_000 + "\n", encoding="utf-8")
    assert "deep.yaml" in error(cli("train", cfg))


def test_t7_huge_integer_override(cli, tmp_path):
    cfg = write_config(tmp_path)
    out = error(cli("train", cfg, "--set", "train.seed=" + "9" * 5000))
    assert "train.seed" in out and len(out) < 1000


def test_r1_yaml_alias_bomb(cli, tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 7):                                       # 9^7 = 4.8 million scalars, from 500 bytes
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    lines.append("model: {activation: *a6}")
    cfg = tmp_path / "bomb.yaml"
    cfg.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert cfg.stat().st_size < 1000
    t0 = time.perf_counter()
    result = cli("train", cfg)
    out = error(result)
    assert len(out) < 2000 and time.perf_counter() - t0 < 5


def test_r1_bad_values_are_echoed_short(cli, tmp_path):
    cfg = write_config(tmp_path, model={"activation": "x" * 100_000})
    out = error(cli("train", cfg))
    assert "model.activation" in out and len(out) < 1500


def test_t9_nul_byte_in_paths(cli, tmp_path):
    cfg = write_config(tmp_path)
    out = error(cli("train", cfg, "--set", "output.path=m\x00.npz"))
    assert "output.path" in out and "epoch" not in out
    assert "data.dev" in error(cli("train", cfg, "--set", "data.dev=d\x00.txt"))


def test_w12_output_name_too_long_for_its_temporary_file(cli, tmp_path):
    cfg = write_config(tmp_path)
    out = error(cli("train", cfg, "-o", tmp_path / ("m" * 250 + ".npz")))
    assert "output.path" in out and "train:" not in out


# ---- T8: gradcheck options -------------------------------------------------------------------------------

@pytest.mark.parametrize("option", [["--entries", "0"], ["--entries", "-3"], ["--sentences", "0"],
                                    ["--sentences", "-1"], ["--tolerance", "-1"]])
def test_t8_gradcheck_option_ranges(cli, tmp_path, option):
    cfg = write_config(tmp_path)
    result = cli("gradcheck", cfg, *option)
    no_traceback(result)
    assert result.exit_code == 2 and option[0] in result.output


# ---- W7: CRF at any length, vectors files -------------------------------------------------------------------

def test_w7_crf_long_sentence_gradients_are_finite():
    from ner_cli.nn.crf import crf_backward, crf_nll

    rng = np.random.default_rng(0)
    T, C = 100_000, 9
    S = rng.normal(0, 8, (1, T, C)).astype(np.float32)
    tags = rng.integers(0, C, (1, T))
    A = rng.normal(0, 2, (C, C)).astype(np.float32)
    loss, cache = crf_nll(S, tags, np.ones((1, T), bool), A, np.zeros(C, np.float32), np.zeros(C, np.float32))
    grads = crf_backward(cache)
    assert np.isfinite(loss) and all(np.isfinite(g).all() for g in grads)
    node = grads[0] + (tags[:, :, None] == np.arange(C))          # node marginals: each row sums to 1
    np.testing.assert_allclose(node.sum(axis=2), 1, atol=1e-3)


@pytest.mark.parametrize("bad", ["nan", "1e39", "-inf"])
def test_w7_vectors_file_with_non_finite_values(tmp_path, bad):
    from ner_cli.io.embeddings import read_vectors_text

    f = tmp_path / "v.txt"
    f.write_text(f"the 0.1 0.2\nof 0.3 {bad}\n", encoding="utf-8")
    with pytest.raises(DataError) as e:
        read_vectors_text(f)
    assert e.value.line == 2 and str(f) in e.value.message


# ---- T10, T12, R3 (workers) ---------------------------------------------------------------------------------

def test_t10_out_of_memory_message_needs_no_memory(monkeypatch, capfd):
    import builtins

    from ner_cli.cli import commands

    real_import = builtins.__import__

    def no_memory(name, *a, **k):
        if name.startswith("rich"):
            raise MemoryError
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_memory)
    with pytest.raises(typer.Exit) as e, commands.user_errors():
        raise MemoryError
    assert e.value.exit_code == 1
    assert "out of memory" in capfd.readouterr().err


def test_t12_ctrl_c_while_importing(tmp_path):
    """A KeyboardInterrupt raised while the commands import their modules (typer here): exit 130, no traceback."""
    script = (
        "import sys\n"
        "class Hook:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'typer':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Hook())\n"
        "sys.argv = ['ner', '--version']\n"
        "from ner_cli.cli import main\n"
        "main()\n")
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert p.returncode == 130 and "Traceback" not in p.stderr and "interrupted" in p.stderr, p.stderr


def _convert_signalled(delay: float, sig: int) -> tuple[int, str]:
    """`ner convert` on the sample, sent `sig` after `delay` seconds: its exit code and stderr."""
    proc = subprocess.Popen([NER, "convert", str(SAMPLE / "dev.txt"), "--to", "IOBES"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    proc.send_signal(sig)
    err = proc.communicate(timeout=60)[1]
    return proc.returncode, err


def test_t12_ctrl_c_during_startup(tmp_path):
    """SIGINT at moments spread over start-up: exit 130 or 0, never a traceback through ner's code. Python's own
    start-up (site's .pth files, the zipimport check of argv[0], the import lock's weakref callback) and the console
    script's first lines (`import re`, `re.sub` on argv[0]) run before any ner code: an interrupt there is Python's
    to report, no frame of it is in ner_cli/, and the test lets it pass."""
    for delay in (0.02, 0.05, 0.08, 0.12, 0.16, 0.2, 0.3):
        code, err = _convert_signalled(delay, signal.SIGINT)
        frames = re.findall(r'File "([^"]+)"', err)
        if "Fatal Python error: init_" in err:
            continue                            # the interpreter's own initialisation, aborted
        if (err == "KeyboardInterrupt\n" and code == 1) or (
                frames and not any(f"{os.sep}ner_cli{os.sep}" in f for f in frames)):
            assert code in (0, 1, 130, -signal.SIGINT), (delay, code, err)
            continue
        assert "Traceback" not in err, (delay, err)
        assert code in (0, 130, -signal.SIGINT), (delay, code, err)   # -2: before or after


def test_t12_sigterm_during_startup_is_never_taken_for_ctrl_c():
    """SIGTERM at moments spread over start-up: killed before ner's handler exists (-15), "terminated" and 143
    once it does, 0 once the command is done; never "interrupted" or 130 (errors.Terminated is a KeyboardInterrupt,
    and the console script's outermost handler tells the two apart)."""
    for delay in (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4):
        code, err = _convert_signalled(delay, signal.SIGTERM)
        assert "interrupted" not in err and code != 130, (delay, code, err)
        assert code in (0, 143, -signal.SIGTERM), (delay, code, err)
        assert code != 143 or err.endswith("terminated\n"), (delay, err)


def test_min_score_must_be_a_probability_nan_included(cli, tiny_model, tmp_path):
    raw = tmp_path / "raw.txt"
    raw.write_text("Ana\n", encoding="utf-8")
    for bad in ("nan", "1.5", "-0.1"):                 # click's range check words the last two its own way
        result = cli("tag", "-m", tiny_model, raw, "--min-score", bad)
        no_traceback(result)
        assert result.exit_code == 2 and "--min-score" in result.output, result.output


def test_r3_workers_are_capped(cli, tiny_model, tmp_path):
    raw = tmp_path / "raw.txt"
    raw.write_text("Ana\n", encoding="utf-8")
    out = error(cli("tag", "-m", tiny_model, raw, "--workers", "500"))
    assert "--workers" in out and str(2 * (os.cpu_count() or 1)) in out


# ---- W4, W10, R3, T11: ner tag ----------------------------------------------------------------------------

def test_w4_conll_input_refuses_options_it_cannot_honour(cli, tiny_model, tmp_path):
    f = tmp_path / "in.txt"
    f.write_text("Ana\nflew\n", encoding="utf-8")
    for extra in (["-f", "jsonl"], ["--paragraphs"], ["--workers", "2"]):
        out = error(cli("tag", "-m", tiny_model, "--input", "conll", f, *extra))
        assert extra[0] in out


def test_w10_paragraphs_blank_line_after_each_sentence(cli, tiny_model, tmp_path):
    raw = tmp_path / "raw.txt"
    raw.write_text("Ana flew to Lisbon. Bob stayed home.\n\nIt rained.\n", encoding="utf-8")
    out = cli("tag", "-m", tiny_model, "--paragraphs", raw).stdout
    blocks = out.split("\n\n")
    assert [[r.split("\t")[0] for r in b.split("\n") if r] for b in blocks if b.strip()] == [
        ["Ana", "flew", "to", "Lisbon", "."], ["Bob", "stayed", "home", "."], ["It", "rained", "."]]
    assert out.endswith("\n\n") and "\n\n\n\n" not in out.replace("\n\n\n", "\n\n", 1)


def test_r3_chunks_are_bounded_by_characters_and_long_lines_refused():
    from ner_cli.pipeline import MAX_LINE_CHARS, chunks

    lines = ["word " * 2500 + "\n"] * 2000                          # 2,000 lines of 2,500 tokens
    sizes = [sum(map(len, c)) for c in chunks(lines)]
    assert max(sizes) <= 1 << 20 and sum(sizes) == 2000 * len(lines[0].rstrip("\n"))
    with pytest.raises(DataError) as e:
        list(chunks(["ok\n", "x" * (MAX_LINE_CHARS + 1)]))
    assert e.value.line == 2


def _wait_for_output(proc) -> None:
    assert proc.stdout.readline()                                   # workers started and tagging


def _big_text(tmp_path: Path, lines: int) -> Path:
    """A raw text file of `lines` copies of one sentence: long enough to interrupt `ner tag --workers 2` in."""
    big = tmp_path / "big.txt"
    big.write_text("Ana Costa flew from Lisbon to Paris on Monday .\n" * lines, encoding="utf-8")
    return big


@pytest.mark.parametrize("how", ["SIGINT to the group", "SIGTERM"])
def test_t11_interrupting_workers(tiny_model, tmp_path, how):
    big = _big_text(tmp_path, 400_000)
    proc = subprocess.Popen([NER, "tag", "-m", str(tiny_model), str(big), "--workers", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    _wait_for_output(proc)
    if how == "SIGTERM":
        proc.send_signal(signal.SIGTERM)
    else:
        os.killpg(proc.pid, signal.SIGINT)                          # what Ctrl-C in a terminal does
    _, err = proc.communicate(timeout=60)
    err = err.decode()
    assert "Traceback" not in err and "leaked" not in err, err
    assert proc.returncode == (143 if how == "SIGTERM" else 130), err


def test_t11_ctrl_c_while_workers_start(tiny_model, tmp_path):
    """Ctrl-C (SIGINT to the process group) at moments spread over the start of `--workers 2`: the workers and the
    forkserver ignore it from birth, so nothing but "interrupted" (exit 130) is printed: no worker traceback, no
    numpy ImportError from an import cut short. A traceback with no frame of ner's, numpy's or multiprocessing's
    is the parent interpreter's own start-up (see test_t12_ctrl_c_during_startup) and is let pass."""
    big = _big_text(tmp_path, 200_000)
    for delay in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0, 1.2):
        proc = subprocess.Popen([NER, "tag", "-m", str(tiny_model), str(big), "--workers", "2"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True, text=True)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGINT)
        err = proc.communicate(timeout=60)[1]
        frames = re.findall(r'File "([^"]+)"', err)
        if frames and not any(part in f for f in frames for part in ("ner_cli", "numpy", "multiprocessing")):
            continue
        assert "Traceback" not in err and "Error" not in err and "leaked" not in err, (delay, err)
        assert proc.returncode in (130, -signal.SIGINT), (delay, proc.returncode, err)


def test_t11_ctrl_c_as_the_forkserver_starts_is_not_lost(tiny_model, tmp_path):
    """Ctrl-C the moment `ner tag --workers 2` has its second child (the forkserver, spawned while the parent
    ignores SIGINT for it to inherit): the parent holds the signal and stops, exit 130. Lost, the run would
    finish and exit 0."""
    big = _big_text(tmp_path, 200_000)
    for _ in range(5):
        proc = subprocess.Popen([NER, "tag", "-m", str(tiny_model), str(big), "--workers", "2"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True, text=True)
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline and len(children.read_text().split()) < 2:
            time.sleep(0.0005)                                      # the resource tracker, then the forkserver
        os.killpg(proc.pid, signal.SIGINT)
        err = proc.communicate(timeout=60)[1]
        assert proc.returncode == 130 and err == "interrupted\n", (proc.returncode, err)


# ---- R4: padding memory ----------------------------------------------------------------------------------

def _short_and_one_long(n_short: int, long: int) -> list[list[str]]:
    return [["Ana", "flew", "to", "Lisbon", "."]] * n_short + [["word"] * long]


def test_r4_crf_training_batch_pads_within_a_memory_bound():
    """A batch of many short sentences and one long one: the CRF pads groups, not everything to the longest."""
    import tracemalloc

    from ner_cli.features.featurizer import Featurizer
    from ner_cli.features.vocab import build_vocab, count_words
    from ner_cli.nn.model import Batch, ModelSpec, backward, forward, init_params

    sentences = _short_and_one_long(300, 5000)
    vocab = build_vocab(count_words(sentences, lowercase=True), min_count=1, lowercase=True)
    enc = Featurizer(vocab, 1, False).encode(sentences, np.zeros(sum(map(len, sentences)), dtype=np.int64))
    spec = ModelSpec(vocab_size=len(vocab), n_classes=9, window=1, dim=4, case_dim=0, hidden=4, loss="crf")
    params = init_params(spec, np.random.default_rng(0))
    batch = Batch(enc.words, None, enc.targets, enc.lengths)
    tracemalloc.start()
    loss, cache = forward(params, spec, batch, np.random.default_rng(0))
    grads = backward(params, spec, cache)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert np.isfinite(loss) and all(np.isfinite(getattr(g, "values", g)).all() for g in grads.values())
    assert peak < 150e6, f"{peak / 1e6:.0f} MB"                      # padding all 301 to 5,000 tokens: > 500 MB


def test_r4_grouped_crf_loss_equals_the_padded_one():
    from ner_cli.nn import model

    rng = np.random.default_rng(1)
    lengths = np.array([3, 1, 7, 2, 5])
    S = rng.normal(size=(lengths.sum(), 4))
    y = rng.integers(0, 4, lengths.sum())
    params = {"A": rng.normal(size=(4, 4)), "A_start": rng.normal(size=4), "A_end": rng.normal(size=4)}
    whole = model._crf_loss(params, S, y, lengths)
    old = model.MAX_PADDED_TOKENS
    try:
        model.MAX_PADDED_TOKENS = 8                                  # forces several groups
        grouped = model._crf_loss(params, S, y, lengths)
    finally:
        model.MAX_PADDED_TOKENS = old
    assert grouped[0] == pytest.approx(whole[0])
    np.testing.assert_allclose(grouped[1], whole[1], atol=1e-12)
    for k in whole[2]:
        np.testing.assert_allclose(grouped[2][k], whole[2][k], atol=1e-12)


def test_r4_decoding_pads_within_a_memory_bound(tiny_model, monkeypatch):
    import tracemalloc

    from ner_cli import tagger as tagger_mod
    from ner_cli.tagger import Tagger

    # the type table is allocated whole (192 MB, resident only as types arrive; tracemalloc counts all of it):
    # a small one here, so the bound is about padding
    monkeypatch.setattr(tagger_mod, "TYPE_MAX_FLOATS", 4_000_000)
    tagger = Tagger.load(tiny_model)
    sentences = _short_and_one_long(1500, 20_000)
    tracemalloc.start()
    tags = tagger.predict(sentences)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [len(t) for t in tags] == [len(s) for s in sentences]
    assert peak < 150e6, f"{peak / 1e6:.0f} MB"                      # 1,501 x 20,000 padded positions: > 1 GB


# ---- W3, W5, W6, W8, W9, T5: training outputs and checkpoints ------------------------------------------------

def test_w3_outputs_never_destroy_inputs(cli, tiny_model, tmp_path):
    cfg = write_config(tmp_path)
    train = tmp_path / "train.txt"
    test = tmp_path / "test.txt"
    test.write_text("Ana B-PER\n", encoding="utf-8")
    before = {p: p.read_bytes() for p in (cfg, train, test)}
    for args in (["-o", train], ["-o", cfg], ["--set", f"data.test={test}", "-o", test],
                 ["-o", tmp_path / "link.npz"]):
        if args[-1] == tmp_path / "link.npz":
            (tmp_path / "link.npz").symlink_to(train)
        out = error(cli("train", cfg, *args))
        assert "output.path" in out and "epoch" not in out
    model = tmp_path / "m.npz"
    model.write_bytes(tiny_model.read_bytes())
    gold = tmp_path / "gold.txt"
    gold.write_text("Ana B-PER\nflew O\n", encoding="utf-8")
    before.update({model: model.read_bytes(), gold: gold.read_bytes()})
    for target in (gold, model):
        assert "--predictions" in error(cli("eval", model, gold, "-p", target))
    assert all(p.read_bytes() == data for p, data in before.items())


def test_w6_devices_are_refused_as_training_output(cli, tmp_path):
    cfg = write_config(tmp_path)
    out = error(cli("train", cfg, "-o", "/dev/null"))
    assert "not a regular file" in out
    with open(tmp_path / "captured", "w") as f:                  # /dev/stdout redirected to a regular file
        os.dup2(f.fileno(), 99)
        try:
            error(cli("train", cfg, "-o", "/dev/fd/99"))
        finally:
            os.close(99)
    assert (tmp_path / "captured").stat().st_size == 0
    assert not Path("/dev/null.ckpt").exists()


def test_w5_one_training_run_per_model_file(cli, tmp_path):
    from ner_cli.io.checkpoint import lock_output, release_output

    cfg = write_config(tmp_path)
    held = lock_output(tmp_path / "m.npz")                     # another run is writing m.npz
    try:
        out = error(cli("train", cfg), code=1)
        assert "another `ner train`" in out and not (tmp_path / "m.npz").exists()
    finally:
        release_output(held)
    no_traceback(result := cli("train", cfg))
    assert result.exit_code == 0 and not (tmp_path / ".m.npz.lock").exists()


def test_w8_stale_temporaries_are_removed(cli, tmp_path):
    cfg = write_config(tmp_path)
    stale = [tmp_path / ".m.npz.ckpt.abcd1234.tmp", tmp_path / ".m.npz.x1y2z3w4.tmp"]
    others = [tmp_path / ".m.npz.ckpt.notours.tmp.keep", tmp_path / ".other.npz.abcd1234.tmp"]
    for p in stale + others:
        p.write_bytes(b"x" * 100)
    no_traceback(result := cli("train", cfg))
    assert result.exit_code == 0
    assert not any(p.exists() for p in stale) and all(p.exists() for p in others)


def test_w9_interrupt_before_any_save_says_so(tmp_path, tiny_model):
    from ner_cli.config import load_config
    from ner_cli.render import interrupted_lines
    from ner_cli.train import TrainingRun

    (tmp_path / "m.npz").write_bytes(tiny_model.read_bytes())    # an older model at -o
    run = TrainingRun(load_config(write_config(tmp_path)))
    try:
        text = " ".join(interrupted_lines(run))
    finally:
        run.close()
    assert "nothing saved by this run" in text and "(epoch 0)" not in text


def _damage(ckpt: Path, how: str) -> None:
    with np.load(ckpt, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    state = json.loads(arrays["__state__"].tobytes())
    if how == "state is a list":
        state = [state]
    elif how == "no config":
        del state["config"]
    elif how == "no optim.t":
        del arrays["optim.t"]
    elif how == "extra section":
        state["config"]["bogus"] = {"x": 1}
    elif how == "epoch is a string":
        state["epoch"] = "x"
    elif how == "lr is null":
        state["lr"] = None
    elif how == "bad rng state":
        state["rng"] = {"bit_generator": "PCG64", "state": "x"}
    elif how == "wrong moment shape":
        key = next(k for k in arrays if k.startswith("optim.m."))
        arrays[key] = arrays[key][..., :1]
    elif how == "complex W":
        arrays["param.W"] = arrays["param.W"].astype(np.complex64)
    elif how == "no Adam moments":
        arrays = {k: v for k, v in arrays.items() if not k.startswith(("optim.m.", "optim.v."))}
    elif how == "config not a mapping":
        state["config"] = "x"
    elif how == "history is a number":
        state["history"] = 3
    elif how == "nan in a moment":
        key = next(k for k in arrays if k.startswith("optim.v."))
        arrays[key] = np.full_like(arrays[key], np.nan)
    elif how == "a pickled member":
        arrays["param.W"] = np.array([{"a": 1}], dtype=object)
    arrays["__state__"] = np.frombuffer(json.dumps(state).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    ckpt.write_bytes(buf.getvalue())


DAMAGE = ["state is a list", "no config", "no optim.t", "extra section", "epoch is a string", "lr is null",
          "bad rng state", "wrong moment shape", "complex W", "no Adam moments", "config not a mapping",
          "history is a number", "nan in a moment", "a pickled member"]


@pytest.fixture(scope="module")
def trained_checkpoint(tmp_path_factory) -> tuple[Path, bytes]:
    from ner_cli.config import load_config
    from ner_cli.train import train

    root = tmp_path_factory.mktemp("ckpt")
    cfg = write_config(root)
    train(load_config(cfg))
    return cfg, (root / "m.npz.ckpt").read_bytes()


@pytest.mark.parametrize("how", DAMAGE)
def test_t5_damaged_checkpoints_are_refused(cli, trained_checkpoint, how):
    cfg, good = trained_checkpoint
    ckpt = cfg.parent / "m.npz.ckpt"
    ckpt.write_bytes(good)
    _damage(ckpt, how)
    out = error(cli("train", cfg, "--resume", "--set", "train.epochs=2"))
    assert "m.npz.ckpt" in out


# ---- W13: token accuracy as conlleval counts it ----------------------------------------------------------------

def _conlleval_accuracy(path: Path) -> tuple[int, int]:
    """conlleval.pl's token counting on a 'token gold guessed' file: tokens, and tokens whose two tags are equal
    as written (its `$correctTags`)."""
    tokens = correct = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if not fields or fields[0] == "-DOCSTART-":
            continue
        tokens += 1
        correct += fields[-1] == fields[-2]
    return tokens, correct


@pytest.mark.parametrize("gold", [
    "Ana I-PER\nCosta I-PER\nflew O\nto O\nLisbon I-LOC\nand O\nPorto I-LOC\nB-LOC B-LOC\n\nEU I-ORG\n",   # IOB1
    "Ana O\nCosta I-PER\nflew I-LOC\nto O\nLisbon I-LOC\n\nBob B-PER\nI-PER I-LOC\n",                   # needs --repair
    "Ana B-PER\nCosta E-PER\nflew O\nin O\nLisbon S-LOC\n",                                               # IOBES
])
def test_w13_token_accuracy_matches_conlleval_on_the_written_tags(cli, tiny_model, tmp_path, gold):
    f = tmp_path / "gold.txt"
    f.write_text(gold, encoding="utf-8")
    pred = tmp_path / "pred.txt"
    result = cli("eval", tiny_model, f, "--repair", "-p", pred, "-f", "json")
    no_traceback(result)
    scores = json.loads(result.stdout)["entity"]
    tokens, correct = _conlleval_accuracy(pred)
    assert [r.split()[:2] for r in pred.read_text().splitlines() if r] == [r.split() for r in gold.splitlines() if r]
    assert (scores["tokens"], scores["correct_tags"]) == (tokens, correct)


# ---- properties of the readers and helpers touched (hypothesis) ---------------------------------------------

_line = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), max_size=8)   # one field


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_line, st.sampled_from(["\n", "\r", "\r\n"])), min_size=1, max_size=8), st.data())
def test_utf8_errors_name_the_logical_line_and_column(lines, data):
    """One undecodable byte anywhere in a file with mixed LF / CR / CRLF line ends: its logical line and column."""
    k = data.draw(st.integers(0, len(lines) - 1))
    text, eol = lines[k]
    col = data.draw(st.integers(0, len(text)))
    lines[k] = (text[:col] + "\udcff" + text[col:], eol)               # a lone 0xff byte once encoded
    full = "".join(t + e for t, e in lines)
    before = full[: full.index("\udcff")]
    breaks = re.findall(r"\r\n|\r|\n", before)                          # "\r" then "\n" is one CRLF
    last = re.split(r"\r\n|\r|\n", before)[-1]
    with pytest.raises(DataError) as e:
        list(parse_conll_lines(io.BytesIO(full.encode("utf-8", "surrogateescape")), "f", require_tags=False))
    assert e.value.line == len(breaks) + 1 and f"column {len(last.encode()) + 1}" in e.value.message


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["train.lr", "train.seed", "model.activation", "output.path",
                                               "data.dev", "model.window", "bogus.key"]))
def test_any_override_value_is_a_config_or_a_short_error(value, key):
    from ner_cli.config import build_config

    try:
        build_config({}, [f"{key}={value}"])
    except ConfigError as e:
        assert len(e.message) < 600
    except Exception as e:  # noqa: BLE001
        pytest.fail(f"{type(e).__name__}: {e}")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=40), st.integers(1, 5), st.integers(1, 60))
def test_chunks_keep_every_line_in_bounded_chunks(lines, size, chars):
    from ner_cli.pipeline import chunks

    got = list(chunks([line + "\n" for line in lines], size, chars))
    assert [x for c in got for x in c] == [line.rstrip("\r\n") for line in lines]
    assert all(c and len(c) <= 2 * size and (len(c) == 1 or sum(map(len, c)) <= chars) for c in got)
    # past `size` lines only to reach a blank line (a document's end), as pipeline.chunks says
    assert all(len(c) <= size or all(x.strip() for x in c[size - 1:-1]) for c in got)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 50), max_size=30), st.integers(1, 200))
def test_length_groups_partition_within_the_budget(lengths, budget):
    from ner_cli.nn.model import length_groups

    groups = length_groups(np.array(lengths, dtype=np.int64), budget)
    assert [i for a, b in groups for i in range(a, b)] == list(range(len(lengths)))
    assert all(b - a == 1 or (b - a) * max(lengths[a:b]) <= budget for a, b in groups)


def test_w7_divergence_hint_fits_the_config(cli, tmp_path):
    cfg = write_config(tmp_path, train={"epochs": 2})
    for optimizer, adam_hint in (("adam", False), ("sgd", True)):
        out = error(cli("train", cfg, "--set", f"train.optimizer={optimizer}", "--set", "train.lr=1e30"))
        assert "training loss became" in out and ("optimizer=adam" in out) == adam_hint, out


def test_a_run_never_saves_parameters_that_became_nan(cli, tmp_path):
    """Found by the fuzz test: lr = 1e50 keeps the first losses finite, then the update makes the weights NaN."""
    cfg = write_config(tmp_path)
    out = error(cli("train", cfg, "--set", "train.optimizer=sgd", "--set", "train.lr=" + "9" * 50))
    assert "NaN or infinite" in out and not (tmp_path / "m.npz").exists()


@pytest.mark.parametrize("entries", ["1", "2", "3"])
def test_t8_gradcheck_with_very_few_entries(cli, tmp_path, entries):
    """Found by the fuzz test: --entries 1 and 2 asked for a negative number of embedding rows."""
    cfg = write_config(tmp_path)
    result = cli("gradcheck", cfg, "--entries", entries, "--sentences", "1")
    no_traceback(result)
    assert result.exit_code == 0 and "all gradients match" in result.output
