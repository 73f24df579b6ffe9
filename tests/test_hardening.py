"""Hardening (issue 5): whatever `ner` is given it answers with a clean error or a correct result.

* a fuzz test feeds thousands of generated malformed inputs (CoNLL files, raw text, configs, model files) to the
  CLI in-process and asserts each one ends in exit 0 with correct-looking output, or a non-zero exit with an
  `error:` line and no traceback;
* targeted tests for the cases of the issue (closed stdout, full disk, unwritable output, mismatched windows,
  unknown gold types, huge or non-finite config values, pickles posing as models);
* subprocess tests for interruptions: SIGINT during training then --resume, SIGPIPE on tag, kill -9 during saves.
"""

from __future__ import annotations

import copy
import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import traceback
import warnings
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import SAMPLE
from hypothesis import given, settings
from hypothesis import strategies as st

from ner_cli.config import load_config
from ner_cli.io.conll import parse_conll_lines, read_conll
from ner_cli.io.modelfile import META_KEY
from ner_cli.io.tokenize import tokenize
from ner_cli.tagger import Tagger
from ner_cli.tags import SCHEMES, convert_tags, get_entities, normalize_scheme

NER = shutil.which("ner", path=str(Path(sys.executable).parent)) or "ner"


# ---- in-process CLI ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cli(cli_invoke):
    """invoke(args) -> Result (conftest's in-process runner)."""
    return cli_invoke


def clean(result, what: str) -> bool:
    """True on success; on failure asserts a clean error: exit code, an error line, no traceback."""
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        pytest.fail(f"{what}: uncaught exception\n" + "".join(traceback.format_exception(exc))[-3000:])
    assert "Traceback" not in result.output, f"{what}: {result.output[-2000:]}"
    if result.exit_code == 0:
        return True
    assert "error:" in result.output.lower(), f"{what}: exit {result.exit_code} without an error line: " \
                                              f"{result.output[-500:]!r}"
    return False



# ---- generators of malformed input ---------------------------------------------------------------------------

TAGS = ["O", "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "E-ORG", "S-MISC", "B-FOO", "I-X"]
ODD_TAGS = ["L-PER", "U-LOC", "X-PER", "B-", "-", "o", "B-PER-X", "I", "0", "B_PER"]
WORDS = ["EU", "rejects", "Ana", "Lisbon", ".", "-DOCSTART-", "#", "#x", "é", "😀", "\x00", "\x1b", "日本", "-X-",
         "\u2028", "\x85", "\x0c", "\u00a0", "\ufeff", "\udcff", "a" * 5000]
SEPS = [" ", "\t", "  ", " \t ", "\t\t", "\u00a0", "\x0b"]
EOLS = ["\n", "\n", "\r\n", "\r", "\n\n", "\r\r\n"]


def conll_bytes(rng: random.Random) -> bytes:
    """A CoNLL-like file: ragged columns, mixed separators and line ends, BOMs, odd tags, stray bytes."""
    out = ["\ufeff"] if rng.random() < .1 else []
    ncols = rng.choice([1, 2, 2, 2, 3, 4])
    for _ in range(rng.randint(0, 25)):
        r = rng.random()
        if r < .12:
            out.append(rng.choice(EOLS))
        elif r < .16:
            out.append(rng.choice(["-DOCSTART- -X- -X- O", "-DOCSTART-", "-DOCSTART- O", "# comment"])
                       + rng.choice(EOLS))
        elif r < .18:
            out.append(rng.choice(SEPS) + rng.choice(EOLS))
        else:
            n = ncols if rng.random() > .05 else rng.randint(1, 5)
            cols = [rng.choice(WORDS[:5] if rng.random() < .7 else WORDS) for _ in range(n - 1)]
            cols.append(rng.choice(TAGS if rng.random() < .95 else ODD_TAGS))
            sep = rng.choice(SEPS[:5] if rng.random() < .9 else SEPS)
            out.append((rng.choice(SEPS) if rng.random() < .05 else "") + sep.join(cols) + rng.choice(EOLS))
    data = "".join(out).encode("utf-8", "surrogatepass")
    r = rng.random()
    if r < .06:                                                         # flip a few bytes
        b = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            if b:
                b[rng.randrange(len(b))] = rng.randrange(256)
        data = bytes(b)
    elif r < .08:
        data = data.decode("utf-8", "surrogatepass").encode("latin-1", "replace")
    elif r < .10:
        data = rng.randbytes(rng.randint(0, 400))
    return data


TEXT_PIECES = ["a", "Z", " ", " ", "\t", "\x00", "\x1b", "\x7f", "é", "日本語", "😀", "👩\u200d💻", "\u0301", "\ufeff",
               "\r", "\x0c", "\x0b", "\x1c", "\x85", "\u2028", "'", ".", "Mr.", "U.S.", "Paris", "Ana Costa",
               "http://x.y/z", "\u200b", "مرحبا", "Привет", "🇵🇹", "[", "]", "{\"", "\\"]


def raw_text_bytes(rng: random.Random) -> bytes:
    r = rng.random()
    if r < .08:
        return rng.randbytes(rng.randint(0, 3000))                        # binary garbage
    if r < .10:
        return ("Ana Costa flew to Lisbon . " * 4000)[:100_000].encode()  # one 100,000-character line
    lines = ["".join(rng.choice(TEXT_PIECES) for _ in range(rng.randint(0, 30))) for _ in range(rng.randint(0, 6))]
    text = rng.choice(["\n", "\r\n", "\r"]).join(lines) + rng.choice(["", "\n"])
    return text.encode("utf-8", "surrogateescape" if rng.random() < .5 else "surrogatepass")


def check_conll_success(cmd: str, data: bytes, path: Path, result, to: str) -> None:
    """A successful eval/convert/tag of a CoNLL file must agree with what the reader makes of it."""
    if cmd == "eval":
        gold = list(read_conll(path))
        n = sum(len(s.words) for s in gold)
        assert result.stdout.startswith(f"processed {n} tokens with "), result.stdout[:200]
        assert "gold \\ pred" in result.stdout
    elif cmd == "convert":
        src = list(read_conll(path, keep_columns=True))
        out = list(parse_conll_lines(io.StringIO(result.stdout, newline=""), "<out>", keep_columns=True))
        assert [s.words for s in out] == [s.words for s in src]
        assert [s.docstarts for s in out] == [s.docstarts for s in src]          # every -DOCSTART- line kept
        src, out = [s for s in src if s.words], [s for s in out if s.words]
        if "repaired" not in result.output:                                # lossless for valid input
            assert [get_entities(convert_tags(s.tags, to, "IOB2")) for s in out] == \
                   [get_entities(s.tags) for s in src]
    else:                                                                  # tag --input conll
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as stream:   # as `ner tag` reads
            src = list(parse_conll_lines(stream, require_tags=False))
        rows = [line for line in result.stdout.split("\n") if line]
        assert [r.rsplit("\t", 1)[0] for r in rows] == [w for s in src for w in s.words]


def check_raw_success(data: bytes, fmt: str, result) -> None:
    """Output aligned with the input lines; jsonl offsets slice back; conll tokens are the tokenizer's."""
    text = data.decode("utf-8-sig", "replace")
    lines = [line.rstrip("\r\n") for line in io.StringIO(text, newline="").readlines()]
    if fmt == "jsonl":
        records = [json.loads(r) for r in result.stdout.split("\n") if r]
        assert [r["text"] for r in records] == lines
        for r in records:
            for e in r["entities"]:
                assert r["text"][e["start"]:e["end"]] == e["text"] and e["text"]
    elif fmt == "conll":
        tokens = [row.rsplit("\t", 1)[0] for row in result.stdout.split("\n") if row]
        assert tokens == [t for line in lines for t in tokenize(line)[0]]
    else:
        assert result.stdout.count("\n") == len(lines)


def check_paragraph_sentences(data: bytes, result) -> None:
    """`--paragraphs` CoNLL output: one block (ended by a blank line) per sentence the splitter finds."""
    import re

    from ner_cli.io.tokenize import split_sentences

    text = data.decode("utf-8-sig", "replace")
    lines = [line.rstrip("\r\n") for line in io.StringIO(text, newline="").readlines()]
    want = [toks for line in lines for a, b in split_sentences(line) if (toks := tokenize(line[a:b])[0])]
    blocks = [b for b in re.split(r"\n\n+", result.stdout) if b.strip()]
    assert [[r.rsplit("\t", 1)[0] for r in b.split("\n") if r] for b in blocks] == want


def hostile_model(rng: random.Random, arrays: dict, meta0: dict) -> bytes:
    """Issue 11's model files: a bare .npy (T1), metadata nested 100,000 deep (T2), a 5,000-digit version (T3),
    too few casing rows (T4), members with unknown names or headers declaring gigabytes (R2)."""
    kind = rng.randrange(6)
    if kind == 0:
        buf = io.BytesIO()
        np.save(buf, rng.choice(list(arrays.values())))
        return buf.getvalue()
    meta, params = copy.deepcopy(meta0), dict(arrays)
    raw_meta = json.dumps(meta).encode()
    if kind == 1:
        depth = rng.choice([100, 5000, 100_000])
        raw_meta = b"[" * depth + b"]" * depth
    elif kind == 2:
        raw_meta = re.sub(rb'"format_version": \d+', b'"format_version": ' + b"9" * rng.choice([20, 5000]), raw_meta)
    elif kind == 3:
        meta["spec"]["n_cases"] = rng.randint(1, 7)
        params["K"] = params["K"][: meta["spec"]["n_cases"]]
        raw_meta = json.dumps(meta).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, a in {**params, META_KEY: np.frombuffer(raw_meta, dtype=np.uint8)}.items():
            with zf.open(name + ".npy", "w") as member:
                if kind == 5 and name == "W":                         # a header declaring 40 GB
                    np.lib.format.write_array_header_2_0(member, {"descr": "<f4", "fortran_order": False,
                                                                  "shape": (100_000, 100_000)})
                else:
                    np.lib.format.write_array(member, a)
        if kind == 4:                                                 # an unknown member, 1 GB declared
            with zf.open(rng.choice(["huge.npy", "notes.txt", "W.npy.bak"]), "w") as member:
                np.lib.format.write_array_header_1_0(member, {"descr": "<f4", "fortran_order": False,
                                                              "shape": (1 << 28,)})
    return buf.getvalue()


def flipped(rng: random.Random, data: bytes, most: int) -> bytes:
    """`data` with 1 to `most` random bytes overwritten."""
    b = bytearray(data)
    for _ in range(rng.randint(1, most)):
        b[rng.randrange(len(b))] = rng.randrange(256)
    return bytes(b)


def damaged_checkpoint(rng: random.Random, good: bytes) -> bytes:
    """Issue 11 T5: a real checkpoint with one part broken (state JSON, arrays, optimiser moments, bytes)."""
    r = rng.random()
    if r < .1:
        return good[: rng.randrange(len(good))]
    if r < .2:
        return flipped(rng, good, 10)
    with np.load(io.BytesIO(good), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    state = json.loads(arrays["__state__"].tobytes())
    weird = [None, "x", -1, 1.5, [], {}, True, 10**30, float("nan")]
    for _ in range(rng.randint(1, 2)):
        k = rng.random()
        if k < .3:
            state[rng.choice([*state, "bogus"])] = rng.choice(weird)
        elif k < .4:
            state = rng.choice([[state], "x", 1])
            break
        elif k < .5:
            state["config"][rng.choice([*state["config"], "bogus"])] = rng.choice(weird[:6])
        elif k < .6:
            state["rng"] = rng.choice([{"bit_generator": "PCG64", "state": "x"}, {"bit_generator": "MT19937"}, 3])
        elif k < .85:
            name = rng.choice(list(arrays))
            if name == "__state__":
                continue
            a = arrays[name]
            arrays[name] = rng.choice([a.astype(np.complex64), a[..., :1] if a.ndim else a, a.astype(np.int32),
                                       np.full_like(a, np.nan, dtype=np.float32), np.array("x")])
        else:
            drop = [k for k in arrays if k.startswith(rng.choice(["optim.m.", "optim.v.", "optim.t", "param."]))]
            for name in drop[: rng.randint(1, max(1, len(drop)))]:
                arrays.pop(name)
    arrays["__state__"] = np.frombuffer(json.dumps(state).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def hostile_config(rng: random.Random, base: dict, cfg_file: Path) -> tuple[str, list[str], bool]:
    """Issue 11's configs: deep nesting (T6), huge integers (T7), alias bombs (R1), NUL bytes in paths (T9),
    names too long for a temporary file (W12), outputs that are inputs (W3) or devices (W6).
    Returns (YAML text, overrides, whether it must be refused)."""
    kind = rng.randrange(7)
    text = yaml.safe_dump(base)
    if kind == 0:
        depth = rng.choice([25, 500, 10_000])
        return rng.choice(["data: ", "model:\n  window: "]) + "[" * depth + "]" * depth + "\n", [], True
    if kind == 1:
        digits = rng.choice([50, 5000])
        return text, ["--set", f"train.{rng.choice(['seed', 'lr'])}=" + "9" * digits], False
    if kind == 2:
        lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
        levels = rng.randint(2, 8)
        for i in range(1, levels):
            lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
        return "\n".join(lines) + f"\nmodel: {{activation: *a{levels - 1}}}\n", [], True
    if kind == 3:
        return text, ["--set", rng.choice(["output.path=m\x00.npz", "data.dev=d\x00", "model.embeddings=\x00"])], True
    if kind == 4:
        n = rng.choice([200, 246, 300])
        return text, ["--set", f"output.path={cfg_file.parent / ('m' * n)}.npz"], n > 200
    if kind == 5:
        return text, ["--set", f"output.path={rng.choice([base['data']['train'], str(cfg_file)])}"], True
    return text, ["--set", f"output.path={rng.choice(['/dev/null', '/dev/stdout', '/proc/self/m.npz'])}"], True


def mutated_model(rng: random.Random, good: bytes, arrays: dict, meta0: dict) -> bytes:
    """Truncated, bit-flipped, pickled, random bytes, or a real .npz with bad metadata or arrays."""
    import pickle

    r = rng.random()
    if r < .12:
        return good[: rng.randrange(len(good))]
    if r < .24:
        return flipped(rng, good, 20)
    if r < .28:
        return pickle.dumps(arrays)
    if r < .30:
        return rng.randbytes(rng.randint(0, 2000))
    weird = [None, -1, 0, 1, 3, 10**6, "x", [], {}, 1.5, True, ["O"], {"a": 1}, 10**20, "B-PER"]
    meta, params = copy.deepcopy(meta0), dict(arrays)
    for _ in range(rng.randint(1, 3)):
        k = rng.random()
        if k < .3:
            meta["spec"] = {**meta0["spec"], rng.choice([*meta0["spec"], "bogus"]): rng.choice(weird)}
        elif k < .42:
            meta[rng.choice(list(meta0))] = rng.choice(weird)
        elif k < .52:
            keys = meta0["vocab"]["keys"]
            meta["vocab"] = {**meta0["vocab"], "keys": rng.choice([rng.choice(weird), keys[:-1], keys[2:],
                                                                   [1] * len(keys)])}
        elif k < .62:
            labels = meta0["labels"]
            meta["labels"] = rng.choice([["O"] * len(labels), ["B-X", *labels[1:]], [1] * len(labels),
                                         ["??", *labels[1:]], labels[::-1], labels[:-1]])
        elif k < .8:
            name = rng.choice(list(params))
            a = params[name]
            params[name] = rng.choice([a.astype(np.int32), a.astype(np.float16), a.ravel(), a[..., :1],
                                       np.full_like(a, np.nan), a.astype(np.complex64), np.array("x"),
                                       a.astype(np.float64) * 1e300, np.array([{"a": 1}], dtype=object)])
        elif k < .9:
            params.pop(rng.choice(list(params)))
        else:
            meta["spec"] = {**meta0["spec"], "window": rng.choice([0, 2, 3, -1])}   # a window W disagrees with
    if rng.random() < .3:
        meta["format_version"] = rng.choice([2, 0, -1, "1", None, 1.0])
    params[META_KEY] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **params)
    return buf.getvalue()


CONFIG_KEYS = {
    "data": ["train", "dev", "test", "token_col", "tag_col", "scheme", "repair", "trian"],
    "model": ["task", "target", "window", "dim", "hidden", "activation", "loss", "tag_scheme", "decode", "case_dim",
              "embeddings", "pretrained_limit", "lowercase", "min_count", "dropout_input", "dropout_hidden",
              "hiden"],
    "train": ["epochs", "batch_size", "optimizer", "lr", "embedding_lr_scale", "lr_decay", "l2", "seed",
              "patience", "lr2"],
    "output": ["path", "pth"],
}
CONFIG_VALUES = [None, 0, -1, 1, 2, -0.5, 0.5, 1.5, "x", "", True, [], {}, [1], "relu", "crf", "IOB2", "IOBES",
                 "binary", "logistic", "PER", float("nan"), float("inf"), "/nonexistent/file", "1e-3", 10**30,
                 10**9 + 0.5, "sgd", "argmax"]
OVERRIDE_VALUES = ["1", "-3", "x", "null", "1e-3", "[1", "{a: 1}", "", "nan", ".inf", "1e400", "true", "0"]


def config_text(rng: random.Random, base: dict) -> tuple[str, list[str]]:
    """A config with 1-3 wrong, misspelt or unknown keys (never an endless or huge valid run), and overrides."""
    cfg = copy.deepcopy(base)
    for _ in range(rng.randint(1, 3)):
        sec = rng.choice([*CONFIG_KEYS, "bogus"])
        if sec == "bogus":
            cfg[rng.choice(["dta", "x", "1", "Model"])] = {}
            continue
        if rng.random() < .05:
            cfg[sec] = rng.choice(["x", 1, [1, 2]])
        elif isinstance(cfg[sec], dict):
            cfg[sec][rng.choice(CONFIG_KEYS[sec])] = rng.choice(CONFIG_VALUES)
    # keep every valid run tiny: only the fuzzed keys may stray, sizes that would be valid stay small
    for key in ("hidden", "dim", "case_dim", "window"):
        if isinstance(cfg.get("model"), dict) and isinstance(cfg["model"].get(key), int) and \
                not isinstance(cfg["model"][key], bool) and 8 < cfg["model"][key] <= 10**6:
            cfg["model"][key] = 2
    epochs = cfg["train"].get("epochs") if isinstance(cfg.get("train"), dict) else None
    if isinstance(epochs, int) and not isinstance(epochs, bool) and epochs > 2:
        cfg["train"]["epochs"] = 1
    if isinstance(cfg.get("model"), dict) and cfg["model"].get("embeddings") not in (None, "", "/nonexistent/file"):
        cfg["model"]["embeddings"] = None
    r = rng.random()
    if r < .9:
        text = yaml.safe_dump(cfg, allow_unicode=True)
    else:
        text = rng.choice(["", "- a\n- b\n", "data: [\n", "\x00\x01", "5\n", "data: {train: a, train: b}\n",
                           "data:\n  train: !!python/object:os.system x\n", "\t\tmodel:\n"])
    overrides = []
    if rng.random() < .3:
        sec = rng.choice(list(CONFIG_KEYS))
        key = rng.choice(CONFIG_KEYS[sec])
        if not (sec == "train" and key == "epochs") and not (sec == "model" and key in ("hidden", "dim", "window")):
            overrides = ["--set", f"{sec}.{key}={rng.choice(OVERRIDE_VALUES)}"]
    if rng.random() < .05:
        overrides = ["--set", rng.choice(["novalue", "=1", "model=1", ".x=1", "model.=2"])]
    return text, overrides


def test_fuzz_cli_never_tracebacks(cli, tiny_model, tmp_path, monkeypatch):
    """Thousands of generated malformed inputs through eval, convert, tag and train: clean error or right output."""
    monkeypatch.chdir(tmp_path)                        # a valid config's model lands here, never in the repo
    rng = random.Random(20240605)
    tried = Counter()
    ok = Counter()
    t0 = time.perf_counter()
    f = tmp_path / "input.txt"

    # 1. CoNLL files -> eval (also with --repair / json), convert, tag --input conll; '#' tokens, -DOCSTART- runs
    for _ in range(1600):
        data = conll_bytes(rng)
        f.write_bytes(data)
        cmd = rng.choice(["eval", "eval", "convert", "tag"])
        to = rng.choice([*SCHEMES, "BIOES", "iob2"])
        if cmd == "eval":
            args = ["eval", tiny_model, f, *(["--repair"] if rng.random() < .3 else []),
                    *(["-f", "json"] if rng.random() < .2 else [])]
        elif cmd == "convert":
            args = ["convert", f, "--to", to, *(["--repair"] if rng.random() < .3 else [])]
        else:
            args = ["tag", "-m", tiny_model, "--input", "conll", f]
        result = cli(args)
        tried["conll"] += 1
        if clean(result, f"{args} on {data[:300]!r}"):
            ok["conll"] += 1
            if "-f" not in args:
                check_conll_success(cmd, data, f, result, normalize_scheme(to))

    # 2. raw text for `ner tag`: empty lines, control characters, emoji, other scripts, huge lines, garbage;
    #    options --input conll cannot honour (W4), too many workers (R3), a few real worker pools (T11)
    for i in range(700):
        data = raw_text_bytes(rng)
        f.write_bytes(data)
        fmt = rng.choice(["conll", "jsonl", "jsonl", "inline"])
        args = ["tag", "-m", tiny_model, f, "-f", fmt, *(["--paragraphs"] if rng.random() < .3 else [])]
        refused = False
        if rng.random() < .05:
            args += ["--input", "conll", *(["--paragraphs"] if fmt == "conll" else [])]
            refused = True
        elif rng.random() < .03:
            args += ["--workers", str(rng.choice([10**6, 1000, 2 * (os.cpu_count() or 1) + 1]))]
            refused = True
        elif i < 3:
            args += ["--workers", "2"]
        result = cli(args)
        tried["text"] += 1
        if refused:
            assert not clean(result, f"{args}") and result.exit_code == 2, result.output
            continue
        assert clean(result, f"{args} on {data[:300]!r}"), result.output
        ok["text"] += 1
        if "--paragraphs" not in args:
            check_raw_success(data, fmt, result)
        elif fmt == "conll":
            check_paragraph_sentences(data, result)

    # 3. model files: truncated, corrupted, pickles, wrong shapes/dtypes/metadata, a window W disagrees with;
    #    issue 11's: .npy (T1), deep metadata (T2), huge versions (T3), casing rows (T4), zip bombs (R2), swaps
    good = tiny_model.read_bytes()
    with np.load(tiny_model, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta0 = json.loads(arrays.pop(META_KEY).tobytes())
    gold = tmp_path / "gold.txt"
    gold.write_text("Ana B-PER\nCosta I-PER\nflew O\nto O\nLisbon B-LOC\n\nNew B-ORG\n", encoding="utf-8")
    raw = tmp_path / "raw.txt"
    raw.write_text("Ana Costa flew to Lisbon .\n\nx\n", encoding="utf-8")
    m = tmp_path / "model.npz"
    for _ in range(1200):
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")                              # casts of the deliberately broken arrays
            r = rng.random()
            m.write_bytes(hostile_model(rng, arrays, meta0) if r < .25 else good if r < .28 else
                          mutated_model(rng, good, arrays, meta0))
        args = ["eval", m, gold] if rng.random() < .5 else ["tag", "-m", m, raw, "-f", "jsonl"]
        if rng.random() < .03:
            args = ["eval", gold, m]                                     # swapped
        result = cli(args)
        tried["model"] += 1
        if clean(result, f"{args}"):
            ok["model"] += 1
        elif args[1] == gold and zipfile.is_zipfile(m):
            assert "swapped" in result.output, result.output

    # 4. configs: missing/unknown/misspelt keys, wrong types, negative sizes, missing paths, bad YAML; issue 11's
    #    deep nesting, huge integers, alias bombs, NUL bytes, over-long names, outputs that are inputs or devices
    train = tmp_path / "train.txt"
    train_text = "Ana B-PER\nflew O\nto O\nLisbon B-LOC\n\nBob B-PER\nleft O\n"
    train.write_text(train_text, encoding="utf-8")
    base = {"data": {"train": str(train), "dev": str(train)},
            "model": {"hidden": 4, "dim": 4, "window": 1, "embeddings": None},
            "train": {"epochs": 1}, "output": {"path": str(tmp_path / "out" / "m.npz")}}
    cfg_file = tmp_path / "config.yaml"

    def device_files() -> dict[Path, int | None]:
        return {p: p.stat().st_mtime_ns if p.exists() else None
                for p in (Path("/dev/null.ckpt"), Path("/dev/stdout.ckpt"), Path("/proc/self/m.npz.ckpt"))}

    devices_before = device_files()
    for _ in range(1000):
        must_fail = False
        if rng.random() < .3:
            text, overrides, must_fail = hostile_config(rng, base, cfg_file)
        else:
            text, overrides = config_text(rng, base)
        cfg_file.write_text(text, encoding="utf-8", errors="surrogateescape")
        result = cli(["train", cfg_file, "-q", *overrides])
        tried["config"] += 1
        assert len(result.output) < 20_000, f"{len(result.output)} characters of output"   # never a whole bomb
        assert train.read_text(encoding="utf-8") == train_text and cfg_file.read_text(
            encoding="utf-8", errors="surrogateescape") == text                    # an output never destroys an input
        if clean(result, f"train {text[:300]!r} {overrides}"):
            assert not must_fail, (text[:200], overrides)
            ok["config"] += 1
            Tagger.load(load_config(cfg_file, overrides[1::2]).output.path)    # the model it wrote loads
        assert device_files() == devices_before, "a checkpoint was written beside a device"

    # 5. `ner train --resume` from damaged checkpoints (T5): a clean error, or a resumed run whose model loads
    cfg_file.write_text(yaml.safe_dump({**base, "data": {"train": str(train), "dev": None}}), encoding="utf-8")
    out = Path(base["output"]["path"])
    assert clean(cli(["train", cfg_file, "-q"]), "train for --resume")
    ckpt = out.with_name(out.name + ".ckpt")
    good_ckpt = ckpt.read_bytes()
    for _ in range(450):
        ckpt.write_bytes(damaged_checkpoint(rng, good_ckpt) if rng.random() < .9 else good_ckpt)
        result = cli(["train", cfg_file, "-q", "--resume", "--set", "train.epochs=2"])
        tried["resume"] += 1
        if clean(result, "train --resume"):
            ok["resume"] += 1
            Tagger.load(out)

    # 6. gradcheck with option values in and out of range (T8)
    for _ in range(120):
        args = ["gradcheck", cfg_file, "--entries", str(rng.choice([-3, 0, 1, 2])),
                "--sentences", str(rng.choice([-1, 0, 1, 2])), "--tolerance", str(rng.choice([-1.0, 0.0, 1.0]))]
        result = cli(args)
        tried["gradcheck"] += 1
        exc = result.exception
        assert exc is None or isinstance(exc, SystemExit), "".join(traceback.format_exception(exc))[-2000:]
        assert "Traceback" not in result.output
        ok["gradcheck"] += result.exit_code == 0
        assert result.exit_code in (0, 1, 2)

    total = sum(tried.values())
    elapsed = time.perf_counter() - t0
    print(f"\nfuzz: {total} generated inputs, 0 tracebacks, 0 wrong results, {elapsed:.1f}s; tried {dict(tried)}, "
          f"succeeded {dict(ok)}")
    assert total >= 5000
    for kind in tried:                                 # the generators must reach both outcomes
        assert ok[kind] > 0, kind
        assert ok[kind] < tried[kind], kind


# ---- readers: random documents in messy layouts read like their clean form (hypothesis) ----------------------

_token = st.text(st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), min_size=1, max_size=6) \
    .filter(lambda w: not w.startswith("#") and w != "-DOCSTART-" and "\ufeff" not in w)
_sentence = st.lists(st.tuples(_token, st.sampled_from(["O", "B-PER", "I-PER", "B-LOC", "I-MISC"])),
                     min_size=1, max_size=6)


@settings(max_examples=100, deadline=None)
@given(st.lists(_sentence, min_size=1, max_size=5), st.data())
def test_messy_layouts_read_like_the_clean_file(sentences, data):
    """Tabs mixed with spaces, CRLF / CR / LF, a BOM, runs of blank lines and -DOCSTART- between sentences."""
    clean_text = "".join("".join(f"{w} {t}\n" for w, t in s) + "\n" for s in sentences)
    out = ["\ufeff"] if data.draw(st.booleans()) else []
    for s in sentences:
        if data.draw(st.booleans()):
            out.append("-DOCSTART- -X- O" + data.draw(st.sampled_from(["\n", "\r\n"])))
        for w, t in s:
            sep = data.draw(st.sampled_from([" ", "\t", "  ", " \t", "\t "]))
            lead = data.draw(st.sampled_from(["", "", " ", "\t"]))
            out.append(f"{lead}{w}{sep}{t}" + data.draw(st.sampled_from(["\n", "\r\n", "\r", " \r\n", "\t\n"])))
        end = data.draw(st.sampled_from(["\n", "\r\n", "\r", "\n\n", " \n", "\t\r\n"]))
        out.append("\r" + end if out[-1].endswith("\r") and end.startswith("\n") else end)  # not one CRLF
    messy = "".join(out).encode("utf-8")
    got = [(x.words, x.tags) for x in parse_conll_lines(io.BytesIO(messy), "<messy>")]
    want = [(x.words, x.tags) for x in parse_conll_lines(io.StringIO(clean_text), "<clean>")]
    assert got == want


# ---- targeted cases ------------------------------------------------------------------------------------------

def test_eval_scores_gold_types_the_model_never_saw(cli, tiny_model, tmp_path):
    """Gold has FOO and an IOB1 mix the model never predicts: conlleval counting, FOO in the confusion matrix."""
    from ner_cli.io.dataset import read_corpus
    from ner_cli.metrics import conlleval_scores
    from ner_cli.render import conlleval_report

    f = tmp_path / "gold.txt"
    f.write_text("Ana B-PER\nCosta I-PER\nof O\nAcme B-FOO\nInc I-FOO\n\nZorg B-FOO\nin O\nLisbon B-LOC\n",
                 encoding="utf-8")
    result = cli(["eval", tiny_model, f])
    assert clean(result, "eval") and result.exit_code == 0
    corpus = read_corpus(f)
    pred = Tagger.load(tiny_model).predict(corpus.words)
    assert result.stdout.startswith(conlleval_report(conlleval_scores(corpus.tags, pred)))
    assert "FOO: precision:   0.00%" in result.stdout
    confusion = result.stdout.split("gold \\ pred")[1]
    assert "B-FOO" in confusion and "I-FOO" in confusion
    result = cli(["eval", tiny_model, f, "--format", "json"])
    doc = json.loads(result.stdout)
    assert doc["entity"]["phrases_gold"] == 4 and "B-FOO" in doc["confusion"]["labels"]


def test_invalid_gold_sequence_names_line_and_the_repair_option(cli, tiny_model, tmp_path):
    f = tmp_path / "bad.txt"
    f.write_text("Ana B-PER\nCosta I-PER\n\nin O\nLisbon I-LOC\n", encoding="utf-8")
    result = cli(["eval", tiny_model, f])
    assert not clean(result, "eval") and result.exit_code == 2
    assert f"{f}:5" in result.output and "--repair" in result.output
    assert clean(cli(["eval", tiny_model, f, "--repair"]), "eval --repair")


def test_model_whose_window_disagrees_with_its_arrays_is_refused(cli, tiny_model, tmp_path):
    with np.load(tiny_model, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays[META_KEY].tobytes())
    meta["spec"]["window"] = 2                                       # W was trained for window 1
    arrays[META_KEY] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    bad = tmp_path / "w.npz"
    with bad.open("wb") as fh:
        np.savez(fh, **arrays)
    raw = tmp_path / "raw.txt"
    raw.write_text("Ana flew\n", encoding="utf-8")
    result = cli(["tag", "-m", bad, raw])
    assert not clean(result, "tag") and result.exit_code == 2 and "array W has shape" in result.output


def test_resume_with_a_different_window_is_refused(cli, tmp_path):
    train = tmp_path / "train.txt"
    train.write_text("Ana B-PER\nflew O\n\nBob B-PER\nleft O\n", encoding="utf-8")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"data": {"train": str(train), "dev": None},
                                   "model": {"hidden": 4, "dim": 4, "window": 1},
                                   "train": {"epochs": 1}, "output": {"path": str(tmp_path / "m.npz")}}))
    assert clean(cli(["train", cfg, "-q"]), "train")
    result = cli(["train", cfg, "-q", "--resume", "--set", "model.window=2", "--set", "train.epochs=2"])
    assert not clean(result, "resume") and result.exit_code == 2 and "model.window" in result.output


@pytest.mark.parametrize(("override", "message"), [
    ("model.hidden=1000000000000000000000000000000", "model.hidden: expected at most"),
    ("model.window=100000000", "model.window: expected at most"),
    ("model.dim=-4", "model.dim: expected a number > 0"),
    ("train.seed=-1", "train.seed: expected a number >= 0"),
    ("train.lr=nan", "train.lr: expected a finite number"),
    ("train.lr=.inf", "train.lr: expected a finite number"),
    ("train.lr_decay=-1", "train.lr_decay: expected a number > 0"),
    ("model.activaton=relu", "did you mean 'activation'"),
    ("data.train=/no/such/file.txt", "data.train: no such file"),
    ("model.embeddings=/no/such/vectors.txt", "vectors.txt"),
])
def test_bad_config_values_are_clean_errors(cli, tmp_path, override, message):
    train = tmp_path / "train.txt"
    train.write_text("Ana B-PER\nflew O\n", encoding="utf-8")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"data": {"train": str(train), "dev": None},
                                   "model": {"hidden": 4, "dim": 4}, "output": {"path": str(tmp_path / "m.npz")}}))
    result = cli(["train", cfg, "-q", "--set", override])
    assert not clean(result, override) and message in result.output
    assert not (tmp_path / "m.npz").exists()


def test_training_edge_cases(cli, tmp_path):
    """An exploding learning rate, an empty training set, a dev set without entities."""
    train = tmp_path / "train.txt"
    train.write_text("".join(f"Ana{i} B-PER\nflew O\nto O\nLisbon B-LOC\n\n" for i in range(40)), encoding="utf-8")
    nodev = tmp_path / "dev.txt"
    nodev.write_text("the O\ncat O\n", encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n  \n\r\n", encoding="utf-8")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"data": {"train": str(train), "dev": str(nodev)},
                                   "model": {"hidden": 8, "dim": 8}, "train": {"epochs": 2},
                                   "output": {"path": str(tmp_path / "m.npz")}}))
    result = cli(["train", cfg, "-q", "--set", "train.optimizer=sgd", "--set", "train.lr=1e12"])
    assert not clean(result, "diverge") and "training loss became" in result.output
    assert "lower the learning rate" in result.output and not (tmp_path / "m.npz").exists()
    result = cli(["train", cfg, "-q", "--set", f"data.train={empty}"])
    assert not clean(result, "empty") and result.exit_code == 2 and "no tokens" in result.output
    result = cli(["train", cfg, "-q"])
    assert clean(result, "dev without entities") and "has no entities" in result.output
    Tagger.load(tmp_path / "m.npz")


def test_output_that_cannot_be_written_is_a_clean_error_before_training(cli, tmp_path, monkeypatch):
    train = tmp_path / "train.txt"
    train.write_text("Ana B-PER\nflew O\n", encoding="utf-8")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"data": {"train": str(train), "dev": None}, "model": {"hidden": 4, "dim": 4},
                                   "train": {"epochs": 1}}))
    (tmp_path / "adir").mkdir()
    for out, message in [(tmp_path / "adir", "is a directory"), (train / "m.npz", "is not a directory"),
                         ("/proc/no/such/m.npz", "cannot write to")]:
        result = cli(["train", cfg, "-q", "-o", out])
        assert not clean(result, str(out)) and result.exit_code == 2 and message in result.output
        assert "epoch" not in result.output and "train:" not in result.output      # refused before any work

    def denied(*a, **k):                                 # what a read-only directory does (tests may run as root)
        raise PermissionError(13, "Permission denied", str(tmp_path / "ro"))
    monkeypatch.setattr("tempfile.mkstemp", denied)
    result = cli(["train", cfg, "-q", "-o", tmp_path / "ro" / "m.npz"])
    assert not clean(result, "read-only") and "Permission denied" in result.output
    assert result.exit_code == 1                          # the environment's fault, not the config's


def test_full_disk_while_saving_keeps_the_old_model(cli, tiny_model, tmp_path, monkeypatch):
    """ENOSPC during the atomic write: a clean message, the old file intact, no temporary file left."""
    import errno

    out = tmp_path / "m.npz"
    out.write_bytes(tiny_model.read_bytes())
    train = tmp_path / "train.txt"
    train.write_text("Ana B-PER\nflew O\n", encoding="utf-8")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"data": {"train": str(train), "dev": None}, "model": {"hidden": 4, "dim": 4},
                                   "train": {"epochs": 1}, "output": {"path": str(out)}}))

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr("ner_cli.io.modelfile.os.fsync", full)
    result = cli(["train", cfg, "-q"])
    assert not clean(result, "ENOSPC") and result.exit_code == 1
    assert "No space left on device" in result.output and "free some disk space" in result.output
    assert out.read_bytes() == tiny_model.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml", "m.npz", "train.txt"]
    # the same for `ner eval --predictions`
    gold = SAMPLE / "dev.txt"
    result = cli(["eval", tiny_model, gold, "--predictions", tmp_path / "pred.txt"])
    assert not clean(result, "eval ENOSPC") and "No space left on device" in result.output
    assert not (tmp_path / "pred.txt").exists()


def test_unreadable_model_is_a_clean_error(cli, tiny_model, monkeypatch, tmp_path):
    def denied(*a, **k):
        raise PermissionError(13, "Permission denied", str(tiny_model))
    monkeypatch.setattr("ner_cli.tagger.load_model_arrays", denied)
    raw = tmp_path / "raw.txt"
    raw.write_text("Ana\n", encoding="utf-8")
    result = cli(["tag", "-m", tiny_model, raw])
    assert not clean(result, "EACCES") and f"{tiny_model}: Permission denied" in result.output


def test_predictions_to_a_directory_or_a_device(cli, tiny_model, tmp_path):
    result = cli(["eval", tiny_model, SAMPLE / "dev.txt", "--predictions", tmp_path])
    assert not clean(result, "dir") and "Is a directory" in result.output
    assert clean(cli(["eval", tiny_model, SAMPLE / "dev.txt", "--predictions", os.devnull]), "devnull")
    assert Path(os.devnull).is_char_device()                         # written to, never renamed over


# ---- subprocesses: closed and full stdout, pipes, Ctrl-C, kill -9 --------------------------------------------

def sh(command: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120, **kw)


def test_closed_stdout_full_disk_and_closed_pipes(tiny_model, tmp_path):
    """`>&-`, `> /dev/full`, `| head -1` for tag, eval and convert: a short message or quiet, never a traceback."""
    raw = tmp_path / "raw.txt"
    raw.write_text("Ana Costa flew to Lisbon .\n" * 30000, encoding="utf-8")
    dev = SAMPLE / "dev.txt"
    commands = {"tag": f"'{NER}' tag '{raw}' -m '{tiny_model}'", "eval": f"'{NER}' eval '{tiny_model}' '{dev}'",
                "convert": f"'{NER}' convert '{dev}' --to IOBES"}
    full = Path("/dev/full").is_char_device()
    script = []
    for name, cmd in commands.items():
        script.append(f"echo '## {name} closed' >&2; {cmd} >&- ; echo \"rc=$?\" >&2")
        if full:
            script.append(f"echo '## {name} full' >&2; {cmd} > /dev/full ; echo \"rc=$?\" >&2")
        script.append(f"echo '## {name} pipe' >&2; {cmd} | head -1 > /dev/null; echo \"rc=${{PIPESTATUS[0]}}\" >&2")
    script.append(f"echo '## stdin closed' >&2; '{NER}' tag - -m '{tiny_model}' <&- ; echo \"rc=$?\" >&2")
    if full:
        script.append(f"echo '## predictions full' >&2; '{NER}' eval '{tiny_model}' '{dev}' -p /dev/full >/dev/null;"
                      f" echo \"rc=$?\" >&2")
    p = sh("\n".join(script))
    assert "Traceback" not in p.stderr and "Exception ignored" not in p.stderr, p.stderr
    blocks = dict(b.split("\n", 1) for b in p.stderr.split("## ")[1:])
    for name in commands:
        assert blocks[f"{name} closed"].endswith("rc=1\n") and "standard output is closed" in blocks[f"{name} closed"]
        pipe = blocks[f"{name} pipe"]
        assert pipe.endswith("rc=0\n") and "error" not in pipe, pipe
        if full:
            assert blocks[f"{name} full"].endswith("rc=1\n") and "No space left" in blocks[f"{name} full"]
            assert len(blocks[f"{name} full"].splitlines()) <= 4
    assert blocks["stdin closed"].endswith("rc=1\n") and "standard input is closed" in blocks["stdin closed"]
    if full:
        assert "No space left" in blocks["predictions full"] and Path("/dev/full").is_char_device()


def _train_config(tmp_path: Path, out: Path, *, epochs: int, dev: bool = True, hidden: int = 24) -> Path:
    cfg = tmp_path / f"{out.stem}.yaml"
    cfg.write_text(yaml.safe_dump({
        "data": {"train": str(SAMPLE / "train.txt"), "dev": str(SAMPLE / "dev.txt") if dev else None},
        "model": {"hidden": hidden, "dim": 16, "case_dim": 2, "embeddings": None},
        "train": {"epochs": epochs, "patience": 0, "seed": 3, "lr": 0.003}, "output": {"path": str(out)}}))
    return cfg


def test_sigint_keeps_best_model_and_checkpoint_and_resume_matches(tmp_path):
    """Ctrl-C after an epoch line: exit 130, a valid best model, a checkpoint; --resume == an uninterrupted run."""
    from ner_cli.config import load_config
    from ner_cli.io.checkpoint import checkpoint_path
    from ner_cli.train import train

    epochs = 14
    out = tmp_path / "run" / "m.npz"
    cfg = _train_config(tmp_path, out, epochs=epochs, hidden=48)
    proc = subprocess.Popen([NER, "train", str(cfg)], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if line.startswith("epoch   2"):
            proc.send_signal(signal.SIGINT)
            break
    rest = proc.stderr.read()
    proc.wait(timeout=60)
    err = "".join(lines) + rest
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err and "--resume" in err
    Tagger.load(out)                                                    # the best model so far is valid
    assert checkpoint_path(out).is_file()
    assert sorted(p.name for p in out.parent.iterdir()) == ["m.npz", "m.npz.ckpt"]   # nothing half-written

    p = subprocess.run([NER, "train", str(cfg), "--resume", "-q"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "resumed from" in p.stderr

    straight = tmp_path / "straight" / "m.npz"
    train(load_config(_train_config(tmp_path, straight, epochs=epochs, hidden=48)))
    a, b = Tagger.load(straight), Tagger.load(out)
    assert a.meta["scores"] == b.meta["scores"]
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    with np.load(checkpoint_path(straight)) as za, np.load(checkpoint_path(out)) as zb:
        for k in za.files:
            if k.startswith("param."):
                np.testing.assert_array_equal(za[k], zb[k])


def test_kill_9_at_any_moment_never_corrupts_the_model(tiny_model, tmp_path):
    """Without a dev set every epoch saves the model and a checkpoint; kill -9 at random moments, then load."""
    from ner_cli.io.checkpoint import checkpoint_path

    out = tmp_path / "m.npz"
    out.write_bytes(tiny_model.read_bytes())                     # an existing model that must never be corrupted
    cfg = _train_config(tmp_path, out, epochs=10_000, dev=False, hidden=8)
    rng = random.Random(5)
    saves = 0
    for attempt in range(12):                                    # 4 kills, more if none landed after a save yet
        if attempt >= 4 and saves:                               # (a loaded machine: the first epoch comes late)
            break
        proc = subprocess.Popen([NER, "train", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        assert proc.stderr.readline().startswith("train:")     # imports done, data being read
        time.sleep(rng.uniform(0.2, 1.0))
        proc.kill()
        proc.wait(timeout=30)
        Tagger.load(out)                                         # always a complete, valid model
        if checkpoint_path(out).exists():
            with np.load(checkpoint_path(out), allow_pickle=False) as z:
                assert "__state__" in z.files
        saves += Tagger.load(out).meta["spec"]["dim"] == 16           # written by this training, not the old file
        for leftover in out.parent.glob(".m.npz*.tmp"):         # a kill mid-write may leave a hidden temp file
            leftover.unlink()
    assert saves                                                    # kills landed while epochs were being saved
