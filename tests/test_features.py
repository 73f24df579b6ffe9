"""Vocabulary, casing and integer windows: the read -> features -> windows part of the pipeline."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from ner_cli.features.casing import ALLCAPS, HASDIGIT, INITCAP, LOWER, MIXED, NOLETTERS, NUMERIC, word_case
from ner_cli.features.featurizer import Featurizer
from ner_cli.features.vocab import PAD_ID, UNK_ID, build_vocab, count_words, rare_ids
from ner_cli.features.windows import make_windows, replace_tokens


def test_windows_pad_at_sentence_edges():
    w = make_windows([np.array([5, 6, 7]), np.array([8])], window=2)
    assert w.dtype == np.int32
    assert w.tolist() == [[0, 0, 5, 6, 7], [0, 5, 6, 7, 0], [5, 6, 7, 0, 0], [0, 0, 8, 0, 0]]


@given(st.lists(st.lists(st.integers(2, 50), min_size=0, max_size=8), max_size=6), st.integers(0, 3))
def test_windows_match_a_direct_construction(sentences, window):
    ids = [np.array(s, dtype=np.int32) for s in sentences]
    got = make_windows(ids, window)
    expected = []
    for s in sentences:
        padded = [PAD_ID] * window + s + [PAD_ID] * window
        expected += [padded[i:i + 2 * window + 1] for i in range(len(s))]
    assert got.shape == (sum(map(len, sentences)), 2 * window + 1)
    assert got.tolist() == expected


@given(st.lists(st.lists(st.tuples(st.integers(2, 50), st.booleans()), max_size=8), max_size=6), st.integers(0, 3))
def test_replaced_tokens_read_as_unk_in_every_window_they_occupy(sentences, window):
    """Word dropout: a token replaced in the windows is the same as that token replaced in the text."""
    ids = [np.array([i for i, _ in s], dtype=np.int32) for s in sentences]
    flags = np.array([f for s in sentences for _, f in s], dtype=bool)
    lengths = np.array([len(s) for s in sentences], dtype=np.int64)
    got = replace_tokens(make_windows(ids, window), lengths, window, flags, UNK_ID)
    expected = make_windows([np.array([UNK_ID if f else i for i, f in s], dtype=np.int32) for s in sentences],
                            window)
    assert got.dtype == np.int32
    assert got.tolist() == expected.tolist()


def test_rare_ids_are_the_words_seen_at_most_n_times():
    v = build_vocab(count_words([["a", "b", "b", "c", "c", "c"]], lowercase=True), pretrained=["z"])
    sentences = [["A", "b", "B"], ["c", "c", "c", "q"]]          # q is unknown: UNK is never rare, nor PAD
    assert [v.keys[i] for i in np.flatnonzero(rare_ids(v, sentences, 1))] == ["a"]
    assert sorted(v.keys[i] for i in np.flatnonzero(rare_ids(v, sentences, 2))) == ["a", "b"]
    assert not rare_ids(v, [], 5).any()


def test_vocab_lowercase_min_count_and_unknown():
    counts = count_words([["The", "cat", "the", "Dog"], ["the"]], lowercase=True)
    v = build_vocab(counts, min_count=2)
    assert v.keys[:3] == ["<PAD>", "<UNK>", "the"]
    assert v.encode(["THE", "cat", "zebra"]).tolist() == [2, UNK_ID, UNK_ID]


def test_vocab_digit_fallback_and_pretrained_first():
    counts = count_words([["In", "1996", "1997"]], lowercase=True)
    v = build_vocab(counts, pretrained=["in", "paris"])
    assert v.keys[2:4] == ["in", "paris"]
    # both years share the digit-normalised row 0000
    assert v.encode(["1996"])[0] == v.encode(["2024"])[0] == v.index["0000"]


def test_casing_categories():
    cases = {"paris": LOWER, "EU": ALLCAPS, "Paris": INITCAP, "1996": NUMERIC, "1,000.5": NUMERIC,
             "1996-08-22": HASDIGIT, "A4": HASDIGIT, ".": NOLETTERS, "McDonald": MIXED, "iPhone": MIXED}
    assert {w: word_case(w) for w in cases} == cases


def test_featurizer_windows_of_words_and_cases():
    v = build_vocab(count_words([["Peter", "lives", "in", "Lyon"]], lowercase=True))
    enc = Featurizer(v, 1, use_case=True).encode([["Peter", "lives"], ["Lyon"]])
    assert enc.words.shape == enc.cases.shape == (3, 3)
    assert enc.lengths.tolist() == [2, 1]
    assert enc.cases[0].tolist() == [0, INITCAP, LOWER]
    assert enc.rows_of(np.array([1, 0])).tolist() == [2, 0, 1]
