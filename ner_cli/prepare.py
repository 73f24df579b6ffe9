"""From a config and its corpora to everything fixed before the first epoch: labels, vocabulary (with
pretrained rows), the model spec, the featurizer and the encoded train/dev data."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from . import __version__
from .config import Config
from .errors import ConfigError, DataError
from .features.augment import case_copies
from .features.casing import n_cases
from .features.document import ELSEWHERE
from .features.fallback import Fallback, extended_vocab, select_fallback
from .features.featurizer import Encoded, Featurizer, build_suffixes
from .features.gazetteer import Gazetteer
from .features.mentions import n_mention_ids
from .features.vocab import Vocab, build_vocab, count_words
from .io.dataset import Corpus, read_corpus
from .io.embeddings import PendingVectors, load_vectors, select_pretrained
from .nn.model import ModelSpec
from .tags import entity_types, label_order, tag_type


@dataclass(frozen=True)
class CorpusFacts:
    """What reports say of a corpus once its words are encoded: file, sentences, tokens, tag scheme."""

    path: str
    sentences: int
    tokens: int
    scheme: str

    @classmethod
    def of(cls, corpus: Corpus | None) -> CorpusFacts | None:
        return None if corpus is None else cls(corpus.path, len(corpus.words), corpus.n_tokens, corpus.scheme)


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
    fallback: Fallback | None = None          # untrained pretrained rows the saved model adds (features/fallback.py)
    warnings: list[str] = field(default_factory=list)
    train_corpus: Corpus | None = None        # the corpora as read; `Trainer.from_config` drops them once encoded
    dev_corpus: Corpus | None = None
    train_facts: CorpusFacts | None = None    # ... keeping what reports say of them
    dev_facts: CorpusFacts | None = None


def read_data(cfg: Config) -> tuple[Corpus, Corpus | None]:
    d = cfg.data
    kw = dict(token_col=d.token_col, tag_col=d.tag_col, scheme=d.scheme, repair=d.repair)
    train = read_corpus(d.train, **kw)
    dev = read_corpus(d.dev, **kw) if d.dev else None
    return train, dev


def make_labels(corpus: Corpus, scheme: str) -> list[str]:
    """Tag set in the model's scheme, in `tags.label_order`: O first, then by entity type and prefix."""
    return sorted({t for seq in corpus.tags_in(scheme) for t in seq}, key=label_order)


def targets_of(tags: list[list[str]], labels: list[str], target: str | None) -> np.ndarray:
    """(N,) training targets: label ids, or 1/0 for 'is of class target' in the binary task."""
    flat = [t for seq in tags for t in seq]
    if target is not None:
        return np.fromiter((tag_type(t) == target for t in flat), dtype=np.int64, count=len(flat))
    index = {t: i for i, t in enumerate(labels)}
    return np.fromiter((index.get(t, 0) for t in flat), dtype=np.int64, count=len(flat))


def prepare(cfg: Config, train: Corpus, dev: Corpus | None, vectors: PendingVectors | None = None) -> Setup:
    """Vocabulary (with pretrained rows), labels, spec and encoded corpora. `vectors`: the config's pretrained
    vectors, already being loaded (`embeddings.start_loading`); else they are loaded here."""
    m = cfg.model
    if not train.words:
        raise DataError(train.path, None, "at least one training sentence", "none")
    scheme = m.tag_scheme
    labels = make_labels(train, scheme)
    target = m.target if m.task == "binary" else None
    if m.name_propagation is not None and m.name_propagation not in entity_types(labels):
        raise ConfigError(f"model.name_propagation: no '{m.name_propagation}' entities in {train.path} (types there: "
                          f"{', '.join(entity_types(labels))})")
    if target is not None and target not in entity_types(labels):
        types = entity_types(labels)
        raise ConfigError(f"model.target: no '{target}' entities in {train.path} (types there: {', '.join(types)})")
    counts = count_words(train.words, lowercase=m.lowercase)
    pretrained_words: list[str] = []
    pretrained_vecs = None
    if m.embeddings:
        words, vecs = vectors.result() if vectors is not None else load_vectors(m.embeddings)
        if vecs.shape[1] != m.dim:
            raise ConfigError(f"model.dim: is {m.dim} but {m.embeddings} has {vecs.shape[1]}-d vectors",
                              hint=f"--set model.dim={vecs.shape[1]}")
        keep = select_pretrained(words, set(counts), m.pretrained_limit)
        pretrained_words = [words[i] for i in keep]
        pretrained_vecs = vecs[keep]
    vocab = build_vocab(counts, min_count=m.min_count, lowercase=m.lowercase, pretrained=pretrained_words)
    fallback = select_fallback(words, vecs, vocab, m.fallback_limit) if m.embeddings else None
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
                     case_dim=m.case_dim, n_cases=n_cases(m.case_regime, m.compounds), suffix_dim=m.suffix_dim,
                     n_suffixes=len(suffixes.keys) if suffixes else 0, doc_dim=m.doc_dim,
                     n_doc=len(ELSEWHERE) if m.doc_dim else 0, gaz_dim=m.gaz_dim if gazetteer else 0,
                     n_gaz=gazetteer.n_ids if gazetteer else 0, char_dim=m.char_dim,
                     n_char_buckets=m.char_buckets if m.char_dim else 0, char_min_n=m.char_min_n,
                     char_max_n=m.char_max_n, mention_dim=m.mention_dim,
                     n_mention=n_mention_ids(len(entity_types(labels)) if not target else 1) if m.mention_dim else 0,
                     hidden=m.hidden, activation=m.activation,
                     task=m.task, loss=m.loss, dropout_input=m.dropout_input, dropout_hidden=m.dropout_hidden,
                     l2=cfg.train.l2)
    chars = (m.char_buckets, m.char_min_n, m.char_max_n) if m.char_dim else None
    featurizer = Featurizer(vocab, m.window, m.case_dim > 0, suffixes, m.case_regime, m.doc_dim > 0, gazetteer,
                            chars, mentions=m.mention_dim > 0, compounds=m.compounds)
    augmented = case_copies(train, cfg.data.augment_lower, cfg.data.augment_upper, cfg.train.seed)
    train_tags = augmented.tags_in(scheme)
    enc_train = featurizer.encode(augmented.words, targets_of(train_tags, labels, target), augmented.docs)
    if m.mention_dim:                                              # corrupted gold, not a first pass (mentions.py)
        enc_train = mention_training(enc_train, labels, target, m.mention_noise, m.mention_blank, augmented.docs,
                                     cfg.train.seed, m.window)
    dev_featurizer = featurizer if fallback is None else replace(featurizer, vocab=extended_vocab(vocab, fallback))
    enc_dev = dev_featurizer.encode(dev.words, docs=dev.docs) if dev is not None and dev.words else None
    dev_gold = dev.tags_in("IOB2") if enc_dev is not None else None
    warnings = []
    if dev_gold is not None and not any(t != "O" for seq in dev_gold for t in seq):
        warnings.append(f"{dev.path} has no entities: its F1 can't choose an epoch; keeping the last epoch")
        enc_dev = dev_gold = None
    meta = {"spec": spec.to_dict(),
            "vocab": {"keys": vocab.keys, "lowercase": vocab.lowercase, "digit_fallback": vocab.digit_fallback},
            "labels": labels, "tag_scheme": scheme, "decode": m.decode, "consistency": m.consistency, "target": target,
            "name_propagation": m.name_propagation,
            "train_scheme": train.scheme, "config": cfg.to_dict(), "ner_version": __version__,
            "features": {"case_regime": m.case_regime, "compounds": m.compounds}}
    if gazetteer is not None:
        meta["gazetteer"] = gazetteer.to_meta()
    if suffixes is not None:
        meta["suffixes"] = {"keys": suffixes.keys, "length": suffixes.length}
    return Setup(spec, vocab, labels, featurizer, enc_train, enc_dev, dev_gold, meta, init_E, fallback, warnings,
                 train, dev, CorpusFacts.of(train), CorpusFacts.of(dev))


def mention_training(enc: Encoded, labels: list[str], target: str | None, noise: float, blank: float,
                     docs: list[int] | None, seed: int, window: int) -> Encoded:
    """The training corpus with its "other mentions" ids made from the gold tags, corrupted and partly blank
    (`features.mentions.training_ids`); drawn from their own generator, so the other draws of a seed stay as
    they were."""
    from dataclasses import replace

    from .features.document import token_docs
    from .features.mentions import PAD_MENTION, training_ids
    from .features.windows import make_windows

    if target is not None:                                         # binary: targets are already 0 / 1
        types, n_types = enc.targets.astype(np.int64), 1
    else:
        names = entity_types(labels)
        of_label = np.array([names.index(tag_type(t)) + 1 if t != "O" else 0 for t in labels], dtype=np.int64)
        types, n_types = of_label[enc.targets], len(names)
    tok_doc = token_docs(enc.lengths, None if docs is None else np.asarray(docs))
    rng = np.random.default_rng([seed, 9])
    ids = training_ids(types, enc.mention_group, tok_doc, n_types, noise, blank, rng)
    return replace(enc, mentions=make_windows(ids, window, PAD_MENTION, lengths=enc.lengths), mention_group=None)
