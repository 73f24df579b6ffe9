"""The two-pass "other mentions" feature (features/mentions.py): ids, training noise, gradients, two passes."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from conftest import SAMPLE, table_gradchecks
from hypothesis import given, settings
from hypothesis import strategies as st

from ner_cli.features.featurizer import lower_keys
from ner_cli.features.mentions import (
    ALL_O,
    BLANK,
    NONE,
    PAD_MENTION,
    corrupt,
    mention_groups,
    mention_ids,
    mention_names,
    n_mention_ids,
    training_ids,
)
from ner_cli.nn.gradcheck import gradcheck
from ner_cli.nn.model import Batch, ModelSpec, init_params

TYPES = ["LOC", "MISC", "ORG", "PER"]                 # entity_types order: type k is id k + 1

def brute_force(group: list[int], types: list[int], n_types: int) -> list[str]:
    """The id names, one token at a time, straight from the definition in the module docstring."""
    names = []
    for t, g in enumerate(group):
        others = [types[u] for u in range(len(group)) if group[u] == g and u != t]
        if not others:
            names.append("none")
            continue
        ent = [o for o in others if o > 0]
        if not ent:
            names.append("O")
            continue
        counts = Counter(ent)
        top = min(k for k in counts if counts[k] == max(counts.values()))   # ties: the first type
        names.append(f"{TYPES[top - 1] if n_types == 4 else 'T'}-{'most' if 2 * len(ent) >= len(others) else 'some'}")
    return names

def test_ids_of_a_small_document():
    words = ["Clinton", "met", "Dole", ".", "clinton", "said", "Dole", "and", "CLINTON", "met"]
    docs = np.zeros(len(words), dtype=np.int64)
    group = mention_groups(lower_keys(words), docs)
    #        Clinton  met  Dole  .  clinton  said  Dole  and  CLINTON  met
    types = np.array([4, 0, 4, 0, 0, 0, 3, 0, 4, 0])          # PER, O, PER, ..., Dole once ORG
    names = [mention_names(TYPES)[i] for i in mention_ids(group, types, 4)]
    # CLINTON: 1 of its 2 other mentions is in an entity, which counts as most
    assert names == ["PER-most", "O", "ORG-most", "none", "PER-most", "none", "PER-most", "none", "PER-most", "O"]
    assert n_mention_ids(4) == len(mention_names(TYPES)) == 12

def test_groups_do_not_cross_documents():
    words = ["Paris", "Paris", "Paris"]
    group = mention_groups(lower_keys(words), np.array([0, 0, 1]))
    ids = mention_ids(group, np.array([1, 1, 1]), 4)
    assert ids.tolist() == [4, 4, NONE]                         # LOC-most, LOC-most, alone in document 1

@settings(deadline=None, max_examples=200)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 4)), min_size=0, max_size=30))
def test_ids_match_the_definition(pairs):
    group = np.array([g for g, _ in pairs], dtype=np.int64)
    types = np.array([y for _, y in pairs], dtype=np.int64)
    got = mention_ids(group, types, 4)
    assert [mention_names(TYPES)[i] for i in got] == brute_force(group.tolist(), types.tolist(), 4)

@settings(deadline=None, max_examples=100)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 4)), min_size=1, max_size=40),
       st.floats(0, 1), st.integers(0, 2**32 - 1))
def test_corrupted_types_stay_valid_and_group_flips_agree(pairs, noise, seed):
    group = np.array([g for g, _ in pairs], dtype=np.int64)
    types = np.array([y for _, y in pairs], dtype=np.int64)
    out = corrupt(types, group, 4, noise, np.random.default_rng(seed))
    assert out.shape == types.shape and out.min() >= 0 and out.max() <= 4
    assert np.array_equal(corrupt(types, group, 4, 0.0, np.random.default_rng(seed)), types)

def test_corruption_rates_are_the_ones_asked_for():
    rng = np.random.default_rng(0)
    n = 200_000
    types = rng.choice(5, size=n, p=[0.8, 0.05, 0.05, 0.05, 0.05])
    group = rng.integers(0, 20_000, n)
    out = corrupt(types, group, 4, 0.1, rng)
    ent = types > 0
    changed = out != types
    # half per group, half per token: 1 - (1 - 0.05)^2 = 0.0975 of entities; O at 1/30 of that
    assert abs(changed[ent].mean() - 0.0975) < 0.005
    assert abs(changed[~ent].mean() - (1 - (1 - 0.05 / 30) ** 2)) < 0.001
    assert abs((out[ent & changed] == 0).mean() - 0.5) < 0.03   # half of the entity errors become O
    assert (out[~ent & changed] > 0).all()                      # an O error is an entity type

def test_whole_groups_flip_together_when_the_group_draw_fires():
    rng = np.random.default_rng(1)
    group = np.repeat(np.arange(5000), 4)
    types = np.full(len(group), 2)
    out = corrupt(types, group, 4, 0.5, rng).reshape(-1, 4)
    all_changed = (out != 2).all(axis=1)
    # a group draw (p = 0.25) changes all four mentions the same way; four independent token draws rarely do
    assert all_changed.mean() > 0.2
    same = all_changed & (out == out[:, :1]).all(axis=1)
    assert same.sum() >= 0.9 * all_changed.sum()

def test_training_ids_blank_whole_documents():
    group = np.arange(6)
    tok_doc = np.array([0, 0, 1, 1, 2, 2])
    types = np.zeros(6, dtype=np.int64)
    assert (training_ids(types, group, tok_doc, 4, 0.0, 1.0, np.random.default_rng(0)) == BLANK).all()
    none = training_ids(types, group, tok_doc, 4, 0.0, 0.0, np.random.default_rng(0))
    assert (none == NONE).all()
    some = training_ids(types, group, tok_doc, 4, 0.0, 0.5, np.random.default_rng(3)).reshape(3, 2)
    assert ((some == BLANK).all(axis=1) | (some != BLANK).all(axis=1)).all()   # a document is blank or not

@pytest.mark.parametrize(("task", "loss"), [("multiclass", "crf"), ("multiclass", "softmax"), ("binary", "logistic"),
                                            ("binary", "margin")])
def test_gradient_of_the_mention_table(task, loss):
    n_mention = n_mention_ids(1 if task == "binary" else 2)
    results = table_gradchecks(task, loss, 5, 5, {"mentions": n_mention}, mention_dim=3, n_mention=n_mention)
    assert "M" in {r.name for r in results}
    for r in results:
        assert r.max_rel_error < 1e-5, f"{r.name} off by {r.max_rel_error:.1e}"

def test_a_wrong_mention_gradient_is_caught(monkeypatch):
    import ner_cli.nn.model as model

    spec = ModelSpec(vocab_size=20, n_classes=3, window=1, dim=3, mention_dim=2, n_mention=n_mention_ids(1),
                     hidden=4, activation="tanh", loss="softmax")
    rng = np.random.default_rng(0)
    params = init_params(spec, rng, dtype=np.float64)
    n = 6
    batch = Batch(rng.integers(0, 20, (n, 3)).astype(np.int32), None, rng.integers(0, 3, n), np.array([n]),
                  mentions=rng.integers(0, 6, (n, 3)).astype(np.int32))
    scatter = model.scatter_rows

    def off(ids, d_rows, shape, compiled=False):
        g = scatter(ids, d_rows, shape, compiled)
        if shape == params["M"].shape:
            g.values = g.values * 1.01
        return g

    monkeypatch.setattr(model, "scatter_rows", off)
    worst = {r.name: r.max_rel_error for r in gradcheck(params, spec, batch, seed=1, entries=20)}
    assert worst["M"] > 1e-3 and worst["W"] < 1e-5

@pytest.fixture(scope="module")
def mention_model(tmp_path_factory):
    from ner_cli.config import build_config
    from ner_cli.train import train


    out = tmp_path_factory.mktemp("mentions") / "m.npz"
    cfg = build_config({"data": {"train": str(SAMPLE / "train.txt"), "dev": str(SAMPLE / "dev.txt")},
                        "model": {"hidden": 16, "case_dim": 4, "loss": "crf", "mention_dim": 4},
                        "train": {"epochs": 3, "lr": 0.005, "seed": 1}, "output": {"path": str(out)}})
    train(cfg)
    return out

def test_tagging_runs_pass_two_on_the_ids_of_pass_one(mention_model):
    from ner_cli.io.dataset import read_corpus
    from ner_cli.tagger import Tagger


    tagger = Tagger.load(mention_model)
    corpus = read_corpus(SAMPLE / "dev.txt")
    enc = tagger.featurizer.encode(corpus.words, docs=corpus.docs)
    assert enc.mention_group is not None and (enc.mentions[enc.words != 0] == BLANK).all()
    seen = []
    original = tagger.scores

    def spy(e, a, b, types=None):
        seen.append(e.mentions)
        return original(e, a, b, types)

    tagger.scores = spy
    out = tagger.predict_ids(enc)
    first, second = seen[0], seen[-1]
    assert (first[enc.words != 0] == BLANK).all()                  # pass 1: blank
    from dataclasses import replace

    pass1 = Tagger.load(mention_model).predict_ids(replace(enc, mention_group=None))
    expected = mention_ids(enc.mention_group, tagger._mention_types[pass1], tagger._n_types)
    assert np.array_equal(second[:, tagger.spec.window], expected)    # pass 2: from pass 1's tags
    assert (second[enc.words == 0] == PAD_MENTION).all()
    assert {ALL_O, NONE} <= set(np.unique(expected).tolist())
    # the scored path runs the same two passes and gives the same tags
    assert np.array_equal(Tagger.load(mention_model).predict_ids_scored(enc)[0], out)

def test_the_model_file_keeps_the_feature_and_ner_eval_gives_the_saved_dev_score(mention_model, cli_invoke):
    import json

    from ner_cli.io.modelfile import load_model_arrays


    params, meta = load_model_arrays(mention_model)
    assert params["M"].shape == (n_mention_ids(len(TYPES)), 4)
    result = cli_invoke(["eval", mention_model, SAMPLE / "dev.txt", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert abs(json.loads(result.stdout)["entity"]["f1"] - meta["scores"]["dev"]["f1"]) < 1e-9

def test_a_model_file_with_the_wrong_number_of_mention_rows_is_refused(mention_model, tmp_path):
    from ner_cli.errors import ModelFileError
    from ner_cli.io.modelfile import load_model_arrays, save_model

    params, meta = load_model_arrays(mention_model)
    meta["spec"]["n_mention"] += 1
    params["M"] = np.vstack([params["M"], params["M"][:1]])
    bad = tmp_path / "bad.npz"
    save_model(bad, params, meta)
    with pytest.raises(ModelFileError, match="n_mention"):
        load_model_arrays(bad)

def test_config_checks_the_mention_keys():
    from ner_cli.config import build_config
    from ner_cli.errors import ConfigError

    with pytest.raises(ConfigError, match="mention_noise"):
        build_config({"model": {"mention_noise": 1.5}})
    with pytest.raises(ConfigError, match="mention_dim"):
        build_config({"model": {"mention_dim": -1}})


def test_per_type_products_with_mentions_give_the_token_by_token_scores(mention_model, monkeypatch):
    """The fast path ((word, case) type products + rows of model.table_products(M)) scores pass 2 like x @ W.T."""
    import ner_cli.tagger as tagger_mod
    from ner_cli.tagger import Tagger

    tagger = Tagger.load(mention_model)
    raw = (SAMPLE / "raw.txt").read_text().split()
    sentences = [raw[i:i + 1 + i % 23] for i in range(0, len(raw), 3)] * 4
    docs = [k // 7 for k in range(len(sentences))]
    enc = tagger._second_pass(tagger.featurizer.encode(sentences, docs=docs))
    assert len(enc.words) >= tagger_mod.TYPE_MIN_TOKENS
    assert len(np.unique(enc.mentions)) > 3                         # pass 2 has more than pad / blank
    types = tagger._types(enc)
    assert types is not None
    np.testing.assert_allclose(tagger.scores(enc, 0, len(enc.words), types), tagger.scores(enc, 0, len(enc.words)),
                               rtol=1e-4, atol=1e-4)
    fast = tagger.predict_ids(tagger.featurizer.encode(sentences, docs=docs))
    monkeypatch.setattr(tagger_mod, "TYPE_MIN_TOKENS", 10**9)
    assert (tagger.predict_ids(tagger.featurizer.encode(sentences, docs=docs)) == fast).all()


def test_ner_info_names_the_feature_and_the_true_input_size(mention_model, cli_invoke):
    import json

    from ner_cli.io.modelfile import load_model_arrays

    params, _ = load_model_arrays(mention_model)
    result = cli_invoke(["info", mention_model, "--format", "json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["sizes"]["input"] == params["W"].shape[1]
    assert any("other mentions" in f for f in info["features"])
