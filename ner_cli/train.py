"""Training: build the vocabulary and parameters from a Config, then run minibatch epochs as a generator.

`fit` yields a `Step` after every batch and an `Epoch` after every epoch (with dev scores and whether it is the
best so far); it prints nothing and writes nothing, so the CLI (or a notebook) decides what to show and save.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import __version__
from .config import Config
from .errors import ConfigError, DataError, TrainingDiverged
from .evaluate import Evaluation, evaluate
from .features.augment import case_copies
from .features.casing import CASELESS, CASES
from .features.document import ELSEWHERE
from .features.featurizer import Encoded, Featurizer, build_suffixes
from .features.gazetteer import Gazetteer
from .features.vocab import Vocab, build_vocab, count_words
from .io.dataset import Corpus, read_corpus
from .io.embeddings import load_vectors, select_pretrained
from .nn.model import Batch, ModelSpec, Params, backward, forward, init_params
from .nn.optim import Optimizer, make_optimizer
from .tagger import Tagger


@dataclass
class Step:
    epoch: int
    batch: int
    n_batches: int
    loss: float


@dataclass
class Epoch:
    epoch: int
    loss: float                     # mean training loss over the epoch's batches
    seconds: float                  # wall time of the epoch (training + dev scoring)
    dev: Evaluation | None          # dev scores, None without a dev set
    is_best: bool                   # best dev F1 so far (always True without a dev set)
    tagger: Tagger                  # the model as it is after this epoch


@dataclass
class Setup:
    """Everything fixed before the first epoch."""

    spec: ModelSpec
    vocab: Vocab
    labels: list[str]
    featurizer: Featurizer
    train: Encoded
    dev: Encoded | None
    dev_gold: list[list[str]] | None
    meta: dict[str, Any] = field(default_factory=dict)
    init_E: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)


def read_data(cfg: Config) -> tuple[Corpus, Corpus | None]:
    d = cfg.data
    kw = dict(token_col=d.token_col, tag_col=d.tag_col, scheme=d.scheme, repair=d.repair)
    train = read_corpus(d.train, **kw)
    dev = read_corpus(d.dev, **kw) if d.dev else None
    return train, dev


def make_labels(corpus: Corpus, scheme: str) -> list[str]:
    """Tag set in the model's scheme: O first, then by entity type and prefix."""
    tags = {t for seq in corpus.tags_in(scheme) for t in seq}
    return sorted(tags, key=lambda t: (t != "O", t.partition("-")[2], t))


def targets_of(tags: list[list[str]], labels: list[str], target: str | None) -> np.ndarray:
    """(N,) training targets: label ids, or 1/0 for 'is of class target' in the binary task."""
    flat = [t for seq in tags for t in seq]
    if target is not None:
        suffix = "-" + target
        return np.fromiter((t.endswith(suffix) for t in flat), dtype=np.int64, count=len(flat))
    index = {t: i for i, t in enumerate(labels)}
    return np.fromiter((index.get(t, 0) for t in flat), dtype=np.int64, count=len(flat))


def prepare(cfg: Config, train: Corpus, dev: Corpus | None) -> Setup:
    """Vocabulary (with pretrained rows), labels, spec and encoded corpora."""
    m = cfg.model
    if not train.words:
        raise DataError(train.path, None, "at least one training sentence", "none")
    scheme = m.tag_scheme
    labels = make_labels(train, scheme)
    target = m.target if m.task == "binary" else None
    if target is not None and not any(t.endswith("-" + target) for t in labels):
        types = sorted({t.partition("-")[2] for t in labels if t != "O"})
        raise ConfigError(f"model.target: no '{target}' entities in {train.path} (types there: {', '.join(types)})")
    counts = count_words(train.words, lowercase=m.lowercase)
    pretrained_words: list[str] = []
    pretrained_vecs = None
    if m.embeddings:
        words, vecs = load_vectors(m.embeddings)
        if vecs.shape[1] != m.dim:
            raise ConfigError(f"model.dim: is {m.dim} but {m.embeddings} has {vecs.shape[1]}-d vectors",
                              hint=f"--set model.dim={vecs.shape[1]}")
        keep = select_pretrained(words, set(counts), m.pretrained_limit)
        pretrained_words = [words[i] for i in keep]
        pretrained_vecs = vecs[keep]
    vocab = build_vocab(counts, min_count=m.min_count, lowercase=m.lowercase, pretrained=pretrained_words)
    rng = np.random.default_rng(cfg.train.seed)
    init_E = None
    if pretrained_vecs is not None:
        std = float(pretrained_vecs.std())
        init_E = rng.normal(0, std, (len(vocab), m.dim)).astype(np.float32)
        init_E[2:2 + len(pretrained_words)] = pretrained_vecs
        init_E[0] = 0.0                                            # padding starts as the zero vector
    suffixes = build_suffixes(counts, m.suffix_len) if m.suffix_dim else None
    gazetteer = None
    if m.gaz_dim and m.gazetteers:
        from .io.gazetteers import load_lists

        gazetteer = Gazetteer(load_lists(n.strip() for n in m.gazetteers.split(",") if n.strip()))
    spec = ModelSpec(vocab_size=len(vocab), n_classes=1 if target else len(labels), window=m.window, dim=m.dim,
                     case_dim=m.case_dim, n_cases=len(CASES) if m.case_regime else CASELESS, suffix_dim=m.suffix_dim,
                     n_suffixes=len(suffixes.keys) if suffixes else 0, doc_dim=m.doc_dim,
                     n_doc=len(ELSEWHERE) if m.doc_dim else 0, gaz_dim=m.gaz_dim if gazetteer else 0,
                     n_gaz=gazetteer.n_ids if gazetteer else 0, char_dim=m.char_dim,
                     n_char_buckets=m.char_buckets if m.char_dim else 0, char_min_n=m.char_min_n,
                     char_max_n=m.char_max_n, hidden=m.hidden, activation=m.activation,
                     task=m.task, loss=m.loss, dropout_input=m.dropout_input, dropout_hidden=m.dropout_hidden,
                     l2=cfg.train.l2)
    chars = (m.char_buckets, m.char_min_n, m.char_max_n) if m.char_dim else None
    featurizer = Featurizer(vocab, m.window, m.case_dim > 0, suffixes, m.case_regime, m.doc_dim > 0, gazetteer,
                            chars)
    train = case_copies(train, cfg.data.augment_lower, cfg.data.augment_upper, cfg.train.seed)
    train_tags = train.tags_in(scheme)
    enc_train = featurizer.encode(train.words, targets_of(train_tags, labels, target), train.docs)
    enc_dev = featurizer.encode(dev.words, docs=dev.docs) if dev is not None and dev.words else None
    dev_gold = dev.tags_in("IOB2") if enc_dev is not None else None
    warnings = []
    if dev_gold is not None and not any(t != "O" for seq in dev_gold for t in seq):
        warnings.append(f"{dev.path} has no entities: its F1 can't choose an epoch; keeping the last epoch")
        enc_dev = dev_gold = None
    meta = {"spec": spec.to_dict(),
            "vocab": {"keys": vocab.keys, "lowercase": vocab.lowercase, "digit_fallback": vocab.digit_fallback},
            "labels": labels, "tag_scheme": scheme, "decode": m.decode, "target": target,
            "train_scheme": train.scheme, "config": cfg.to_dict(), "ner_version": __version__,
            "features": {"case_regime": m.case_regime}}
    if gazetteer is not None:
        meta["gazetteer"] = gazetteer.to_meta()
    if suffixes is not None:
        meta["suffixes"] = {"keys": suffixes.keys, "length": suffixes.length}
    return Setup(spec, vocab, labels, featurizer, enc_train, enc_dev, dev_gold, meta, init_E, warnings)


def batches(n_sentences: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """A shuffled partition of sentence ids into minibatches."""
    order = rng.permutation(n_sentences)
    return [order[i:i + batch_size] for i in range(0, n_sentences, batch_size)]


def make_batch(enc: Encoded, sentence_ids: np.ndarray) -> Batch:
    rows = enc.rows_of(sentence_ids)
    def take(ids: np.ndarray | None) -> np.ndarray | None:
        return None if ids is None else ids[rows]

    return Batch(enc.words[rows], take(enc.cases), enc.targets[rows], enc.lengths[sentence_ids],
                 take(enc.suffixes), take(enc.elsewhere), take(enc.gazetteer), take(enc.char_types), enc.char_bag)


def dev_f1(ev: Evaluation) -> float:
    return ev.scores.f1


class Trainer:
    """The state of one training run: parameters, optimiser, random generator, epoch counter, best score."""

    def __init__(self, cfg: Config, setup: Setup) -> None:
        self.cfg, self.setup = cfg, setup
        t = cfg.train
        self.rng = np.random.default_rng(t.seed)
        self.params: Params = init_params(setup.spec, self.rng, embeddings=setup.init_E)
        scale = {"E": t.embedding_lr_scale}
        self.optimizer: Optimizer = make_optimizer(t.optimizer, t.lr, scale)
        self.epoch = 0
        self.best_f1 = -1.0
        self.best_epoch = 0
        self.bad_epochs = 0

    def tagger(self, params: Params | None = None, scores: dict[str, Any] | None = None) -> Tagger:
        meta = {**self.setup.meta, "scores": scores or {}}
        return Tagger({k: v.copy() for k, v in (params or self.params).items()}, meta)

    def run_epoch(self) -> Iterator[Step | Epoch]:
        """One pass over the training data, then dev scoring."""
        t0 = time.perf_counter()
        self.epoch += 1
        enc, spec = self.setup.train, self.setup.spec
        parts = batches(len(enc.lengths), self.cfg.train.batch_size, self.rng)
        total = 0.0
        for i, ids in enumerate(parts):
            with np.errstate(over="ignore", invalid="ignore"):       # a diverging run is reported just below
                loss, cache = forward(self.params, spec, make_batch(enc, ids), self.rng)
            if not np.isfinite(loss):
                raise TrainingDiverged(
                    f"the training loss became {loss} in epoch {self.epoch}, batch {i + 1}",
                    hint=f"lower the learning rate (now --set train.lr={self.optimizer.lr:g}) or try "
                         "--set train.optimizer=adam")
            self.optimizer.step(self.params, backward(self.params, spec, cache))
            total += loss
            yield Step(self.epoch, i + 1, len(parts), loss)
        self.optimizer.lr *= self.cfg.train.lr_decay
        ev = None
        tagger = self.tagger()
        is_best = True
        if self.setup.dev is not None:
            pred = tagger.predict_encoded(self.setup.dev)
            ev = evaluate(self.setup.dev_gold, pred, self.setup.meta["target"])
            is_best = dev_f1(ev) > self.best_f1
        if is_best:
            self.best_f1 = dev_f1(ev) if ev else self.best_f1
            self.best_epoch = self.epoch
            self.bad_epochs = 0
            tagger.meta["scores"] = {"epoch": self.epoch, "dev": ev.scores.to_dict() if ev else None}
        else:
            self.bad_epochs += 1
        yield Epoch(self.epoch, total / max(len(parts), 1), time.perf_counter() - t0, ev, is_best, tagger)

    def should_stop(self) -> bool:
        t = self.cfg.train
        return self.epoch >= t.epochs or (t.patience > 0 and self.bad_epochs >= t.patience)


def fit(cfg: Config, train: Corpus | None = None, dev: Corpus | None = None) -> Iterator[Step | Epoch]:
    """Train as the config says, yielding progress. Reads the data itself unless corpora are given."""
    if train is None:
        train, dev = read_data(cfg)
    trainer = Trainer(cfg, prepare(cfg, train, dev))
    while not trainer.should_stop():
        yield from trainer.run_epoch()
