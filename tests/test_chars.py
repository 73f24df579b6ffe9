"""Character n-gram bag: hashing, the forward mean against a slow loop, and its gradient."""

from __future__ import annotations

import numpy as np
import pytest

from ner_cli.features.chars import char_bag, ngram_rows
from ner_cli.nn.charbag import bag_forward
from ner_cli.nn.gradcheck import gradcheck
from ner_cli.nn.model import Batch, ModelSpec, init_params


def test_ngrams_are_stable_and_case_blind():
    rows = ngram_rows("Smith", 1000, 2, 4)
    assert rows == ngram_rows("SMITH", 1000, 2, 4) == ngram_rows("smith", 1000, 2, 4)
    assert len(rows) == 6 + 5 + 4 + 1                  # "<smith>": 2-, 3-, 4-grams and the whole word
    assert all(1 <= r < 1000 for r in rows)
    assert rows == [1 + __import__("zlib").crc32(g.encode()) % 999 for g in
                    ["<s", "sm", "mi", "it", "th", "h>", "<sm", "smi", "mit", "ith", "th>", "<smi", "smit", "mith",
                     "ith>", "<smith>"]]
    assert ngram_rows("1996", 1000, 2, 4) == ngram_rows("2001", 1000, 2, 4)      # digits are 0


def test_bag_forward_is_the_mean_of_the_ngram_rows():
    bag = char_bag(["", "ab", "abc", "x"], 50, 2, 3)
    Q = np.random.default_rng(0).normal(size=(50, 3))
    slots = np.array([[0, 1, 2], [3, 3, 0]])
    out, _ = bag_forward(Q, bag, slots)
    for (i, j), t in np.ndenumerate(slots):
        rows = bag.ngrams[bag.offsets[t]:bag.offsets[t + 1]]
        want = Q[rows].mean(axis=0) if len(rows) else np.zeros(3)
        np.testing.assert_allclose(out[i, j], want)


@pytest.mark.parametrize(("task", "loss"), [("multiclass", "crf"), ("binary", "margin")])
def test_gradient_of_the_ngram_table(task, loss):
    rng = np.random.default_rng(5)
    words = ["", "peter", "smith", "lives", "in", "lyon", "x", "wojciechowski"]
    bag = char_bag(words, 40, 2, 3)                    # few rows: n-grams of different words collide
    spec = ModelSpec(vocab_size=10, n_classes=1 if task == "binary" else 4, window=1, dim=2, char_dim=3,
                     n_char_buckets=40, char_min_n=2, char_max_n=3, hidden=4, activation="tanh", task=task,
                     loss=loss, dropout_input=0.1)
    params = init_params(spec, rng, dtype=np.float64)
    params["W"] *= 3
    lengths = np.array([3, 2, 4])
    n = int(lengths.sum())
    batch = Batch(rng.integers(0, 10, (n, 3)).astype(np.int32), None,
                  rng.integers(0, 2 if task == "binary" else 4, n), lengths,
                  chars=rng.integers(0, len(words), (n, 3)).astype(np.int32), char_bag=bag)
    for r in gradcheck(params, spec, batch, seed=1, entries=30):
        assert r.max_rel_error < 1e-5, f"{r.name} off by {r.max_rel_error:.1e}"
