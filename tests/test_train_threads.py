"""Training's helper thread and the work moved around for speed: the same numbers with or without it."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SAMPLE

from ner_cli.config import build_config
from ner_cli.nn.helper import Helper, default_threads
from ner_cli.nn.model import RowGrad, backward, dropout_masks, forward, init_params
from ner_cli.nn.optim import Adam
from ner_cli.train import Epoch, Trainer, fit, make_batch


def sample_config(**model):
    return build_config({"data": {"train": str(SAMPLE / "train.txt"), "dev": str(SAMPLE / "dev.txt")},
                         "model": {"hidden": 24, "case_dim": 4, "dropout_input": 0.3, "dropout_hidden": 0.3,
                                   "loss": "crf", **model},
                         "train": {"epochs": 2, "lr": 0.005, "seed": 7, "batch_size": 8}})


def final_params(cfg, threads: int) -> dict[str, np.ndarray]:
    trainer = Trainer.from_config(cfg, threads=threads)
    try:
        return [e for e in fit(trainer) if isinstance(e, Epoch)][-1].tagger.params
    finally:
        trainer.helper.close()


@pytest.mark.parametrize("loss", ["crf", "softmax"])
def test_helper_thread_gives_identical_weights(loss):
    """Masks drawn a batch ahead, δᵀx and W's optimiser update in another thread: bit-identical to one thread."""
    one, two = final_params(sample_config(loss=loss), 1), final_params(sample_config(loss=loss), 2)
    assert one.keys() == two.keys()
    for k in one:
        np.testing.assert_array_equal(one[k], two[k], err_msg=k)


def test_masks_drawn_ahead_equal_the_masks_forward_draws():
    cfg = sample_config()
    setup = Trainer.from_config(cfg).setup
    params = init_params(setup.spec, np.random.default_rng(0))
    batch = make_batch(setup.train, np.arange(3))
    own_loss, own = forward(params, setup.spec, batch, np.random.default_rng(5))
    rng = np.random.default_rng(5)
    masks = dropout_masks(setup.spec, len(batch.words), rng)
    given_loss, given = forward(params, setup.spec, batch, None, masks)
    assert own_loss == given_loss
    for k in ("x", "h_drop", "mask_x", "mask_h"):
        np.testing.assert_array_equal(own[k], given[k], err_msg=k)
    assert masks[0].dtype == np.float32 and set(np.unique(masks[0])) <= {0, np.float32(1 / 0.7)}


def test_backward_with_a_helper_equals_backward_inline():
    cfg = sample_config()
    setup = Trainer.from_config(cfg).setup
    params = init_params(setup.spec, np.random.default_rng(0))
    _, cache = forward(params, setup.spec, make_batch(setup.train, np.arange(4)), np.random.default_rng(1))
    helper = Helper(2)
    try:
        inline, threaded = backward(params, setup.spec, cache), backward(params, setup.spec, cache, helper)
    finally:
        helper.close()
    for k, g in inline.items():
        a, b = (g.dense(), threaded[k].dense()) if isinstance(g, RowGrad) else (g, threaded[k])
        np.testing.assert_array_equal(a, b, err_msg=k)


def test_helper_runs_inline_with_one_thread_or_once_closed(monkeypatch):
    assert Helper(1).submit(pow, 2, 10).result() == 1024
    helper = Helper(2)
    assert helper.submit(pow, 3, 2).result() == 9
    helper.close()
    assert helper.submit(pow, 2, 3).result() == 8                  # closed: runs in the caller's thread
    monkeypatch.setenv("NER_TRAIN_THREADS", "1")
    assert default_threads() == 1
    monkeypatch.delenv("NER_TRAIN_THREADS")
    assert default_threads() in (1, 2)


def test_lazy_adam_moves_the_rows_dense_adam_moves_for_rows_with_gradients():
    """The lazy row update equals dense Adam on every row a batch touched; untouched rows stay as they were."""
    rng = np.random.default_rng(3)
    E = rng.normal(size=(10, 4)).astype(np.float32)
    lazy, dense = {"E": E.copy()}, {"E": E.copy()}
    opt_lazy, opt_dense = Adam(0.01), Adam(0.01)
    rows = np.array([1, 4, 7])
    for _ in range(3):                                             # the same rows every step: the moments agree
        g = RowGrad(rows, rng.normal(size=(3, 4)).astype(np.float32), E.shape)
        opt_lazy.step(lazy, {"E": g})
        opt_dense.step(dense, {"E": g.dense()})
    np.testing.assert_allclose(lazy["E"][rows], dense["E"][rows], rtol=1e-6, atol=1e-7)
    untouched = np.setdiff1d(np.arange(10), rows)
    np.testing.assert_array_equal(lazy["E"][untouched], E[untouched])


def test_free_drops_the_moments():
    opt = Adam(0.01)
    params = {"W": np.ones((3, 3), np.float32)}
    opt.step(params, {"W": np.ones((3, 3), np.float32)})
    assert "m.W" in opt.state()
    opt.free()
    assert set(opt.state()) == {"t"}
    opt.step(params, {"W": np.ones((3, 3), np.float32)})           # still usable afterwards


def test_step_with_a_helper_thread_equals_the_step_inline():
    """`Optimizer.step` with a helper updates the largest dense parameter in the helper's thread: when it returns,
    every parameter is what the inline step gives."""
    rng = np.random.default_rng(2)
    start = {"W": rng.normal(size=(50, 80)).astype(np.float32), "b": rng.normal(size=50).astype(np.float32),
             "E": rng.normal(size=(10, 4)).astype(np.float32)}
    inline, aside = ({k: v.copy() for k, v in start.items()} for _ in range(2))
    opt_inline, opt_aside = Adam(0.01), Adam(0.01)
    helper = Helper(2)
    try:
        for _ in range(3):
            grads = {"W": rng.normal(size=(50, 80)).astype(np.float32), "b": rng.normal(size=50).astype(np.float32),
                     "E": RowGrad(np.array([2, 3]), rng.normal(size=(2, 4)).astype(np.float32), (10, 4))}
            opt_inline.step(inline, grads)
            opt_aside.step(aside, grads, helper)
    finally:
        helper.close()
    for k in start:
        np.testing.assert_array_equal(inline[k], aside[k], err_msg=k)
