"""Document consistency at decode time (nn/consistency.py): node marginals equal brute force, the groups and the
prior equal slow counts, and the tagger's output is the Viterbi path of the adjusted scores, wherever the chunks
are cut."""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np
import pytest
from conftest import CONLL, SAMPLE, enumerate_paths
from hypothesis import given, settings
from hypothesis import strategies as st

from ner_cli.nn.consistency import (
    FLOOR,
    consistent_scores,
    log_prior,
    recurring_groups,
    type_marginals,
)
from ner_cli.nn.crf import node_marginals_flat
from ner_cli.tags import transition_mask

IOB2 = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def _brute_node(S, A, st_, en, allowed, start_ok, end_ok):
    """p(y_t = j) of one sentence S (L, C) by enumerating every path (constraints as DISALLOWED)."""
    paths, logp = enumerate_paths(S, A, st_, en, allowed, start_ok, end_ok)
    out = np.zeros(S.shape)
    for y, lp in zip(paths, logp, strict=True):
        out[np.arange(len(S)), list(y)] += np.exp(lp)
    return out


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_node_marginals_equal_enumeration_of_all_paths(dtype):
    rng = np.random.default_rng(0)
    lengths = np.array([3, 1, 4, 2])
    C = len(IOB2)
    S = rng.normal(scale=2.0, size=(lengths.sum(), C))
    A, st_, en = rng.normal(size=(C, C)), rng.normal(size=C), rng.normal(size=C)
    start_ok, allowed, end_ok = transition_mask(IOB2, "IOB2")
    got = node_marginals_flat(S.astype(dtype), lengths, A, st_, en, allowed=allowed, start_ok=start_ok,
                              end_ok=end_ok)
    assert got.dtype == dtype
    bounds = np.concatenate(([0], np.cumsum(lengths)))
    want = np.concatenate([_brute_node(S[a:b], A, st_, en, allowed, start_ok, end_ok)
                           for a, b in zip(bounds[:-1], bounds[1:], strict=True)])
    np.testing.assert_allclose(got, want, atol=1e-5 if dtype == np.float32 else 1e-10)
    assert got[:, 2][[0, 3, 4, 8]].max() < 1e-6          # I-PER never opens a sentence (IOB2 constraint)
    rows = np.array([7, 0, 5])
    np.testing.assert_array_equal(node_marginals_flat(S.astype(dtype), lengths, A, st_, en, allowed=allowed,
                                                      start_ok=start_ok, end_ok=end_ok, rows=rows), got[rows])


def test_node_marginals_fall_back_to_log_space_when_the_scaled_tables_underflow():
    """800-nat switches (exp underflows to 0 in float64): the scaled tables give up, log space answers."""
    from ner_cli.nn.crf import _packed_tables

    S = np.array([[0.0, -900.0], [-900.0, 0.0], [0.0, -900.0], [-900.0, 0.0]])
    A = np.array([[0.0, -800.0], [-800.0, 0.0]])
    z = np.zeros(2)
    assert _packed_tables(S, np.array([4]), A, z, z) is None
    got = node_marginals_flat(S, np.array([4]), A, z, z)
    np.testing.assert_allclose(got, _brute_node(S, A, z, z, np.ones((2, 2), bool), np.ones(2, bool),
                                                np.ones(2, bool)), atol=1e-12)
    np.testing.assert_allclose(node_marginals_flat(S.astype(np.float32), np.array([4]), A, z, z, rows=np.array([2])),
                               got[[2]], atol=1e-6)


def _slow_groups(keys, docs):
    members = defaultdict(list)
    for i, (k, d) in enumerate(zip(keys, docs, strict=True)):
        members[(d, k)].append(i)
    kept = {g: m for g, m in members.items() if len(m) > 1}
    return sorted(i for m in kept.values() for i in m), kept


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 3)), max_size=40))
def test_recurring_groups_match_a_slow_count(tokens):
    keys = np.array([k for k, _ in tokens], dtype=np.int64)
    docs = np.array(sorted(d for _, d in tokens), dtype=np.int64)         # documents run in order
    rows, group = recurring_groups(keys, docs)
    want_rows, kept = _slow_groups(keys.tolist(), docs.tolist())
    assert rows.tolist() == want_rows
    assert len(group) == len(rows) and (len(group) == 0 or set(group.tolist()) == set(range(len(kept))))
    for i, j in itertools.combinations(range(len(rows)), 2):            # same number <=> same (document, word)
        a, b = rows[i], rows[j]
        assert (group[i] == group[j]) == ((keys[a], docs[a]) == (keys[b], docs[b]))


def test_the_prior_is_the_log_of_the_groups_mean_floored():
    q = np.array([[0.9, 0.1], [0.5, 0.5], [1.0, 0.0], [0.2, 0.8]])
    group = np.array([0, 1, 0, 1])
    got = log_prior(q, group)
    np.testing.assert_allclose(np.exp(got), [[0.95, 0.05], [0.35, 0.65], [0.95, 0.05], [0.35, 0.65]])
    assert log_prior(np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([0, 0]))[0, 1] == pytest.approx(np.log(FLOOR))


def test_consistent_scores_change_only_the_recurring_rows():
    rng = np.random.default_rng(1)
    S = rng.normal(size=(6, 5)).astype(np.float32)
    label_types = np.array([0, 1, 1, 2, 2])
    rows, group = np.array([1, 4]), np.array([0, 0])
    q = np.array([[0.2, 0.7, 0.1], [0.4, 0.5, 0.1]])
    out = consistent_scores(S, rows, q, group, label_types, 2.0)
    assert out.dtype == np.float32 and out is not S
    np.testing.assert_array_equal(np.delete(out, rows, axis=0), np.delete(S, rows, axis=0))
    want = S[rows] + 2.0 * np.log([0.3, 0.6, 0.1])[label_types]
    np.testing.assert_allclose(out[rows], want, rtol=1e-6)
    np.testing.assert_array_equal(consistent_scores(S, rows, q, group, label_types, 0.0), S)


def test_type_marginals_of_selected_sentences_equal_the_full_computation():
    """Sentences without a selected row are left out of forward-backward; the rows' marginals do not change."""
    rng = np.random.default_rng(2)
    lengths = np.array([3, 2, 4, 1, 3])
    S = rng.normal(size=(lengths.sum(), 5)).astype(np.float32)
    crf = (rng.normal(size=(5, 5)), rng.normal(size=5), rng.normal(size=5))
    masks = transition_mask(IOB2, "IOB2")
    label_types = np.array([0, 1, 1, 2, 2])
    rows = np.array([0, 6, 12])                                          # sentences 0, 2 and 4 only
    full = node_marginals_flat(S, lengths, *crf, allowed=masks[1], start_ok=masks[0], end_ok=masks[2])
    want = np.stack([full[:, 0], full[:, 1] + full[:, 2], full[:, 3] + full[:, 4]], axis=1)[rows]
    np.testing.assert_allclose(type_marginals(S, lengths, crf, masks, label_types, rows), want, atol=1e-6)


def test_word_keys_tell_unknown_words_apart_by_their_lowercased_form():
    from ner_cli.features.featurizer import word_keys
    from ner_cli.features.vocab import UNK_ID

    ids = np.array([5, UNK_ID, UNK_ID, 7, UNK_ID, 5])
    keys = word_keys(ids, ["the", "Zorg", "blip", "a", "ZORG", "The"])
    assert keys[0] == keys[5] == 5 and keys[3] == 7
    assert keys[1] == keys[4] != keys[2] and min(keys[1], keys[2]) > 7


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["a b", "c", "", "  "]), max_size=40), st.integers(1, 5))
def test_documents_of_lines_start_at_blank_lines_and_hold_at_most_max_lines(lines, max_lines):
    from ner_cli.pipeline import line_documents

    docs = line_documents(lines, max_lines).tolist()
    assert docs == sorted(docs)
    for i, line in enumerate(lines):
        if i and not line.strip():
            assert docs[i] == docs[i - 1] + 1                              # a blank line opens the next document
    for d in set(docs):                                                  # at most max_lines non-blank lines
        assert sum(1 for i, line in enumerate(lines) if docs[i] == d and line.strip()) <= max_lines
    blocks = "|".join("" if not line.strip() else "x" for line in lines).split("||")
    if all(len([b for b in block.split("|") if b]) <= max_lines for block in blocks):
        assert len(set(docs)) == len(set(np.cumsum([not line.strip() for line in lines]).tolist()))


def test_a_block_is_cut_after_max_lines_whether_or_not_a_blank_line_opens_it():
    from ner_cli.pipeline import line_documents

    assert line_documents(["x"] * 7, 3).tolist() == [0, 0, 0, 1, 1, 1, 2]
    assert line_documents(["", *["x"] * 7], 3).tolist() == [1, 1, 1, 1, 2, 2, 2, 3]


def test_conll_input_keeps_a_document_whole_across_batches(crf_model):
    """--input conll reads batches that end at a -DOCSTART-: the tags do not depend on the batch size, and a
    document longer than a batch stays one document (with consistency strong enough to change tags)."""
    from ner_cli.pipeline import conll_batches, tag_conll_input

    t = _tagger_with(crf_model, 4.0)
    lines = []
    for i, sentence in enumerate(SAMPLE.joinpath("dev.txt").read_text(encoding="utf-8").split("\n\n")):
        if sentence.strip():
            lines += (["-DOCSTART- -X- -X- O", ""] if i % 30 == 0 else []) + [sentence, ""]
    text = "\n".join(lines).splitlines(keepends=True)
    whole = "".join(tag_conll_input(t, iter(text), "x", chunk=10**6))
    assert "".join(tag_conll_input(t, iter(text), "x", chunk=7)) == whole
    off = _tagger_with(crf_model, 0.0)
    assert "".join(tag_conll_input(off, iter(text), "x", chunk=10**6)) != whole
    from types import SimpleNamespace

    opens = [SimpleNamespace(doc_start=i in (0, 5, 20)) for i in range(25)]
    assert [len(b) for b in conll_batches(iter(opens), 4, most=6)] == [5, 6, 6, 6, 2]   # at a start, else at most


def _tagger_with(model, weight):
    from ner_cli.tagger import Tagger

    t = Tagger.load(model)
    t.consistency = weight
    return t


def test_the_tagger_decodes_the_adjusted_scores(crf_model):
    """predict = Viterbi over S + λ log q̄, computed here step by step from the module's functions."""
    from ner_cli.io.dataset import read_corpus

    t = _tagger_with(crf_model, 4.0)                                    # strong: some tags must change
    c = read_corpus(SAMPLE / "dev.txt")
    docs = [i // 20 for i in range(len(c.words))]                        # documents of 20 sentences
    enc = t.featurizer.encode(c.words, docs=docs)
    S = t.scores(enc, 0, len(enc.words))
    rows, group = recurring_groups(enc.word_keys, enc.docs)
    assert len(rows) > 0
    crf = (t.params["A"], t.params["A_start"], t.params["A_end"])
    q = type_marginals(S, enc.lengths, crf, t._masks, t._label_types, rows)
    want = t._decode(consistent_scores(S, rows, q, group, t._label_types, 4.0), enc.lengths)
    np.testing.assert_array_equal(t.predict_ids(enc), want)
    off = _tagger_with(crf_model, 0.0).predict_ids(enc)
    assert (off != want).any()


def test_consistency_does_not_depend_on_where_chunks_are_cut(crf_model, monkeypatch):
    from ner_cli import tagger as tagger_module
    from ner_cli.io.dataset import read_corpus

    t = _tagger_with(crf_model, 4.0)
    c = read_corpus(SAMPLE / "dev.txt")
    docs = [i // 20 for i in range(len(c.words))]
    whole = t.predict(c.words, docs)
    assert whole != _tagger_with(crf_model, 0.0).predict(c.words, docs)
    monkeypatch.setattr(tagger_module, "CHUNK_TOKENS", 50)               # documents now span many chunks
    assert t.predict(c.words, docs) == whole
    tags, _ = t.predict_scored(c.words, docs)
    assert tags == whole


def test_entity_probabilities_come_from_the_networks_own_lattice(crf_model):
    """Consistency changes which entities are found, not the probability of an entity both decodings find."""
    from ner_cli.io.dataset import read_corpus

    c = read_corpus(SAMPLE / "dev.txt")
    docs = [i // 20 for i in range(len(c.words))]
    on = _tagger_with(crf_model, 4.0).predict_scored(c.words, docs)[1]
    off = _tagger_with(crf_model, 0.0).predict_scored(c.words, docs)[1]
    assert on != off
    shared = 0
    for a, b in zip(on, off, strict=True):
        probs = {e[:3]: e[3] for e in b}
        for e in a:
            if e[:3] in probs:
                assert e[3] == pytest.approx(probs[e[:3]], abs=1e-12)
                shared += 1
    assert shared > 50


def test_without_documents_each_sentence_is_its_own(crf_model):
    """docs=None: only words repeated inside one sentence can recur."""
    from ner_cli.io.dataset import read_corpus

    c = read_corpus(SAMPLE / "dev.txt")
    single = [s for s in c.words if len({w.lower() for w in s}) == len(s)][:200]
    assert _tagger_with(crf_model, 1.0).predict(single) == _tagger_with(crf_model, 0.0).predict(single)


def test_a_weight_set_on_the_tagger_travels_with_its_bytes(crf_model):
    from ner_cli.tagger import Tagger

    t = _tagger_with(crf_model, 0.0)
    assert Tagger.from_bytes(t.to_bytes()).consistency == 0.0
    t.consistency = 2.5
    assert Tagger.from_bytes(t.to_bytes()).consistency == 2.5


def test_config_and_model_file_refuse_a_bad_weight(tmp_path, crf_model):
    from ner_cli.config import build_config
    from ner_cli.errors import ConfigError, ModelFileError
    from ner_cli.io.modelfile import load_model_arrays, save_model
    from ner_cli.tagger import Tagger

    with pytest.raises(ConfigError, match="model.consistency: needs model.loss: crf"):
        build_config({"model": {"loss": "softmax", "consistency": 1.0}})
    with pytest.raises(ConfigError, match="model.consistency"):
        build_config({"model": {"loss": "crf", "consistency": -1}})
    params, meta = load_model_arrays(crf_model)
    for bad in (-0.5, "1", True, 1e9, None):
        meta["consistency"] = bad
        save_model(tmp_path / "bad.npz", params, meta)
        with pytest.raises(ModelFileError, match="consistency"):
            Tagger.load(tmp_path / "bad.npz")


@pytest.mark.skipif(not (CONLL / "dev.txt").is_file(), reason="needs ../shared/data/conll2003")
def test_the_built_in_model_gains_on_conll_dev_from_consistency():
    """The measured gain holds for the shipped model (dev chose λ; this guards the wiring, not a new choice)."""
    from ner_cli.cli.models import BUILTIN_MODEL
    from ner_cli.evaluate import score_file
    from ner_cli.tagger import Tagger

    t = Tagger.load(BUILTIN_MODEL)
    assert t.consistency == 1.0
    on = score_file(t, CONLL / "dev.txt").evaluation.scores.f1
    t.consistency = 0.0
    off = score_file(t, CONLL / "dev.txt").evaluation.scores.f1
    assert on > off + 0.05


def test_predict_takes_any_integer_document_ids_and_refuses_others(crf_model):
    """Ids are only labels: negative or huge ones name the same documents as small ones (no memory per id)."""
    from ner_cli.io.dataset import read_corpus

    t = _tagger_with(crf_model, 4.0)
    c = read_corpus(SAMPLE / "dev.txt")
    docs = [i // 20 for i in range(len(c.words))]
    want = t.predict(c.words, docs)
    assert t.predict(c.words, [10**18 - 7 * d for d in docs]) == want
    assert t.predict(c.words, np.array(docs, dtype=np.uint8) if max(docs) < 256 else docs) == want
    for bad in ([0.5] * len(c.words), docs[:-1]):
        with pytest.raises(ValueError, match="one integer document id per sentence"):
            t.predict(c.words, bad)
    assert t.predict([[], []]) == [[], []] and t.predict_scored([[], []]) == ([[], []], [[], []])
