"""Hyphenated compounds ("Ontario-based", "ex-Milan"): their casing ids, the part they are read through, and what
a model with `model.compounds` stores and refuses."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SAMPLE
from hypothesis import given, settings
from hypothesis import strategies as st

from ner_cli.features.casing import (
    BASE_CASE,
    CASELESS,
    CASES,
    COMPOUND_ALLCAPS,
    COMPOUND_CAPITALISED,
    COMPOUND_CASELESS,
    COMPOUND_LATER,
    COMPOUND_LOWER,
    HASDIGIT,
    INITCAP,
    MIXED,
    compound_case,
    compound_parts,
    head_part,
    n_cases,
    word_case,
)
from ner_cli.features.featurizer import CASE_BITS, Featurizer
from ner_cli.features.vocab import UNK_ID, Vocab


@pytest.mark.parametrize(("word", "case", "head"), [
    ("Ontario-based", COMPOUND_CAPITALISED, "based"), ("ex-Milan", COMPOUND_LATER, "Milan"),
    ("Jean-Michel", COMPOUND_CAPITALISED, "Michel"), ("U.S.-based", COMPOUND_CAPITALISED, "based"),
    ("PRO-MOSCOW", COMPOUND_ALLCAPS, "MOSCOW"), ("ontario-based", COMPOUND_LOWER, "based"),
    ("Ata-ur-Rehman", COMPOUND_CAPITALISED, "Rehman")])
def test_compounds_get_a_category_and_a_head_part(word, case, head):
    parts = compound_parts(word)
    assert parts is not None and compound_case(parts) == case and head_part(parts) == head


@pytest.mark.parametrize("word", ["1-0", "F-14", "AK-47s", "-DOCSTART-", "oOo-----", "--", "-", "Paris", "x-"])
def test_words_that_are_not_compounds(word):
    assert compound_parts(word) is None


words = st.text(st.sampled_from("aBc-É1."), min_size=1, max_size=12)


@settings(deadline=None, max_examples=300)
@given(words)
def test_compound_properties(word):
    parts = compound_parts(word)
    if parts is None:
        return
    assert "-".join(parts) == word and len(parts) >= 2 and head_part(parts) in parts
    case = compound_case(parts)
    assert BASE_CASE[case] == word_case(word) or (case == COMPOUND_CAPITALISED and word_case(word) == MIXED)
    assert compound_case(compound_parts(word.lower())) == COMPOUND_LOWER       # same parts, lowercase category
    if word.upper() != word.lower():
        assert compound_case(compound_parts(word.upper())) == COMPOUND_ALLCAPS


def test_rows_of_K_follow_the_setting():
    assert n_cases(False, "none") == CASELESS and n_cases(True, "none") == CASELESS + 1
    assert n_cases(True, "case") == n_cases(False, "part") == len(CASES)


def featurizer(compounds: str) -> Featurizer:
    vocab = Vocab(["<PAD>", "<UNK>", "ontario", "based", "ontario-based", "milan", "the", "firm", "said"])
    return Featurizer(vocab, 2, True, case_regime=True, compounds=compounds)


def test_part_mode_reads_a_compound_through_its_head_and_keeps_it_apart_for_consistency():
    doc = [["The", "Ontario-based", "firm", "said", "Ontario", "ex-Milan", "Bergamo-based"]]
    off, case, part = (featurizer(c).encode(doc, docs=[0]) for c in ("none", "case", "part"))
    centre = (lambda e: e.words[:, 2]), (lambda e: e.cases[:, 2])
    words = {k: centre[0](e).tolist() for k, e in (("none", off), ("case", case), ("part", part))}
    assert words["none"] == words["case"] == [6, 4, 7, 8, 2, 1, 1]
    assert words["part"] == [6, 3, 7, 8, 2, 5, 3]            # read through "based" and "milan"
    assert centre[1](off).tolist() == [INITCAP, INITCAP, 1, 1, INITCAP, MIXED, INITCAP]
    assert centre[1](case).tolist() == centre[1](part).tolist() == [
        INITCAP, COMPOUND_CAPITALISED, 1, 1, INITCAP, COMPOUND_LATER, COMPOUND_CAPITALISED]
    keys = part.word_keys
    assert keys[1] != keys[4] and keys[5] != keys[4]          # "Ontario-based" is not "Ontario" for consistency
    assert len(set(keys.tolist())) == 7 and (off.word_keys == case.word_keys).all()


def test_a_caseless_document_gives_compounds_their_caseless_category():
    f = featurizer("part")
    doc = [["the", "ontario-based", "firm", "said", "ex-milan", "1-0", "x-foo"]]
    lower = f.encode(doc, docs=[0])
    upper = f.encode([[w.upper() for w in s] for s in doc], docs=[0])
    np.testing.assert_array_equal(lower.cases, upper.cases)
    np.testing.assert_array_equal(lower.words, upper.words)
    assert lower.cases[:, 2].tolist() == [CASELESS, COMPOUND_CASELESS, CASELESS, CASELESS, COMPOUND_CASELESS, HASDIGIT,
                                       COMPOUND_CASELESS]
    assert lower.words[1:, 2].tolist() == [3, 7, 8, 5, 1, 1]  # read through "based" and "milan"; "foo" unknown


def test_codes_fit_the_case_bits():
    assert len(CASES) <= 1 << CASE_BITS and UNK_ID == 1


@pytest.fixture(scope="module")
def compound_model(tmp_path_factory):
    from ner_cli.config import build_config
    from ner_cli.train import train

    out = tmp_path_factory.mktemp("compounds") / "m.npz"
    train(build_config({"data": {"train": str(SAMPLE / "train.txt"), "dev": str(SAMPLE / "dev.txt")},
                        "model": {"hidden": 16, "case_dim": 4, "case_regime": True, "compounds": "part",
                                  "loss": "crf"},
                        "train": {"epochs": 2, "seed": 1}, "output": {"path": str(out)}}))
    return out


def test_a_model_with_compounds_stores_the_setting_and_tags_with_it(compound_model):
    from ner_cli.tagger import Tagger

    tagger = Tagger.load(compound_model)
    assert tagger.meta["features"]["compounds"] == "part" and tagger.spec.n_cases == len(CASES)
    assert tagger.featurizer.compounds == "part" and tagger.params["K"].shape[0] == len(CASES)
    out = tagger.predict([["The", "Ontario-based", "firm", "met", "ex-Milan", "coach", "John", "Smith", "."]])
    assert len(out[0]) == 9


@pytest.mark.parametrize(("features", "message"), [({"case_regime": True, "compounds": "yes"}, "compounds"),
                                                   ({"case_regime": True}, "n_cases")])
def test_a_file_whose_compound_setting_does_not_fit_is_refused(compound_model, tmp_path, features, message):
    import json

    from ner_cli.errors import ModelFileError
    from ner_cli.io.modelfile import model_bytes
    from ner_cli.tagger import Tagger

    t = Tagger.load(compound_model)
    meta = json.loads(json.dumps(t.meta))
    meta["features"] = features
    with pytest.raises(ModelFileError, match=message):
        Tagger.load(model_bytes(dict(t.params), meta))


def test_config_refuses_an_unknown_compounds_value():
    from ner_cli.config import build_config
    from ner_cli.errors import ConfigError

    with pytest.raises(ConfigError, match="model.compounds"):
        build_config({"model": {"compounds": "parts"}})


def test_config_says_why_an_unquoted_off_is_refused():
    from ner_cli.config import build_config
    from ner_cli.errors import ConfigError

    with pytest.raises(ConfigError, match="expected one of none, case, part, got False .YAML reads off"):
        build_config({"model": {"compounds": False}})


def test_compounds_need_the_casing_feature():
    from ner_cli.config import build_config
    from ner_cli.errors import ConfigError

    with pytest.raises(ConfigError, match="model.compounds: part needs the casing feature"):
        build_config({"model": {"compounds": "part", "case_dim": 0}})


@pytest.mark.parametrize("dash", ["-", "\u2010", "\u2011"])
def test_every_hyphen_the_tokenizer_joins_makes_a_compound(dash):
    from ner_cli.io.tokenize import tokenize_lines

    word = f"Ontario{dash}based"
    assert word in tokenize_lines([f"The {word} firm"], offsets=False)[0][0]
    assert compound_parts(word) == ["Ontario", "based"]
    assert compound_parts(f"ex{dash}Milan{dash}x") == ["ex", "Milan", "x"]


def test_a_part_is_read_only_through_a_trained_row():
    """Fallback rows join the vocabulary after training: a compound whose last part has only a fallback row reads
    its own row, as it did in training."""
    from ner_cli.features.vocab import sorted_words

    trained = ["<PAD>", "<UNK>", "spa-francorchamps", "based"]
    in_training = Featurizer(Vocab(trained), 1, True, compounds="part")
    tagging = Featurizer(Vocab(trained, tail=sorted_words(["francorchamps", "milan"])), 1, True, compounds="part")
    doc = [["Spa-Francorchamps", "Ontario-based", "ex-Milan"]]
    assert in_training.encode(doc).words[:, 1].tolist() == [2, 3, 1]
    assert tagging.encode(doc).words[:, 1].tolist() == [2, 3, 1]   # not francorchamps's or milan's fallback row
