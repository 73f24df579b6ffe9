"""conlleval scores: checked against a literal transliteration of conlleval.pl's loop, and by hand."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ner_cli.metrics import Scores, confusion_matrix, conlleval_scores, token_scores
from ner_cli.render import conlleval_report

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "conll2003"

# --- the oracle -----------------------------------------------------------------------------------------
# A deliberately literal reading of conlleval.pl (version 2004-01-26): the same variables, the same
# per-line order of checks, the same printf formats. Its endOfChunk/startOfChunk know B, I, E, O, [ and ];
# the lines marked "IOBES" add the usual S- handling (and E- then B-), as ner_cli.tags documents.


def _oracle_end_of_chunk(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    chunk_end = False
    if prev_tag == "B" and tag == "B":
        chunk_end = True
    if prev_tag == "B" and tag == "O":
        chunk_end = True
    if prev_tag == "I" and tag == "B":
        chunk_end = True
    if prev_tag == "I" and tag == "O":
        chunk_end = True
    if prev_tag == "E" and tag == "E":
        chunk_end = True
    if prev_tag == "E" and tag == "I":
        chunk_end = True
    if prev_tag == "E" and tag == "O":
        chunk_end = True
    if prev_tag != "O" and prev_tag != "." and prev_type != type_:
        chunk_end = True
    if prev_tag in ("]", "["):
        chunk_end = True
    if prev_tag == "S" or (prev_tag, tag) in {("B", "S"), ("I", "S"), ("E", "B"), ("E", "S")}:  # IOBES
        chunk_end = True
    return chunk_end


def _oracle_start_of_chunk(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    chunk_start = False
    if prev_tag == "B" and tag == "B":
        chunk_start = True
    if prev_tag == "I" and tag == "B":
        chunk_start = True
    if prev_tag == "O" and tag == "B":
        chunk_start = True
    if prev_tag == "O" and tag == "I":
        chunk_start = True
    if prev_tag == "E" and tag == "E":
        chunk_start = True
    if prev_tag == "E" and tag == "I":
        chunk_start = True
    if prev_tag == "O" and tag == "E":
        chunk_start = True
    if tag != "O" and tag != "." and prev_type != type_:
        chunk_start = True
    if tag in ("[", "]"):
        chunk_start = True
    if tag == "S" or (prev_tag, tag) in {("E", "B"), ("S", "B"), ("S", "I"), ("S", "E")}:  # IOBES
        chunk_start = True
    return chunk_start


def _perl_split(tag: str) -> tuple[str, str]:
    match = re.match(r"^([^-]*)-(.*)$", tag, re.DOTALL)
    return (match.group(1), match.group(2)) if match else (tag, "")


def oracle_conlleval(gold: list[list[str]], pred: list[list[str]]) -> tuple[dict, str]:
    """conlleval.pl's counts and printed report for sentences given as lines "x gold guessed"."""
    lines = []
    for g_sent, p_sent in zip(gold, pred, strict=True):
        lines += [("x", g, p) for g, p in zip(g_sent, p_sent, strict=True)]
        lines.append(("-X-", "O", "O"))  # the blank line after a sentence
    correct_chunk = correct_tags = found_correct = found_guessed = token_counter = 0
    correct_chunk_t: dict[str, int] = {}
    found_correct_t: dict[str, int] = {}
    found_guessed_t: dict[str, int] = {}
    in_correct = False
    last_correct, last_correct_type, last_guessed, last_guessed_type = "O", "", "O", ""
    for first_item, gold_tag, guessed_tag in lines:
        guessed, guessed_type = _perl_split(guessed_tag)
        correct, correct_type = _perl_split(gold_tag)
        if first_item == "-X-":
            guessed = "O"
        end_c = _oracle_end_of_chunk(last_correct, correct, last_correct_type, correct_type)
        end_g = _oracle_end_of_chunk(last_guessed, guessed, last_guessed_type, guessed_type)
        start_c = _oracle_start_of_chunk(last_correct, correct, last_correct_type, correct_type)
        start_g = _oracle_start_of_chunk(last_guessed, guessed, last_guessed_type, guessed_type)
        if in_correct:
            if end_c and end_g and last_guessed_type == last_correct_type:
                in_correct = False
                correct_chunk += 1
                correct_chunk_t[last_correct_type] = correct_chunk_t.get(last_correct_type, 0) + 1
            elif end_c != end_g or guessed_type != correct_type:
                in_correct = False
        if start_c and start_g and guessed_type == correct_type:
            in_correct = True
        if start_c:
            found_correct += 1
            found_correct_t[correct_type] = found_correct_t.get(correct_type, 0) + 1
        if start_g:
            found_guessed += 1
            found_guessed_t[guessed_type] = found_guessed_t.get(guessed_type, 0) + 1
        if first_item != "-X-":
            if correct == guessed and guessed_type == correct_type:
                correct_tags += 1
            token_counter += 1
        last_guessed, last_correct = guessed, correct
        last_guessed_type, last_correct_type = guessed_type, correct_type
    if in_correct:
        correct_chunk += 1
        correct_chunk_t[last_correct_type] = correct_chunk_t.get(last_correct_type, 0) + 1

    precision = recall = fb1 = 0.0
    if found_guessed > 0:
        precision = 100 * correct_chunk / found_guessed
    if found_correct > 0:
        recall = 100 * correct_chunk / found_correct
    if precision + recall > 0:
        fb1 = 2 * precision * recall / (precision + recall)
    out = f"processed {token_counter} tokens with {found_correct} phrases; "
    out += f"found: {found_guessed} phrases; correct: {correct_chunk}.\n"
    if token_counter > 0:
        out += f"accuracy: {100 * correct_tags / token_counter:6.2f}%; "  # printf "%6.2f%%; "
        out += f"precision: {precision:6.2f}%; "
        out += f"recall: {recall:6.2f}%; "
        out += f"FB1: {fb1:6.2f}\n"
    for i in sorted(set(found_correct_t) | set(found_guessed_t)):
        c = correct_chunk_t.get(i, 0)
        precision = 100 * c / found_guessed_t[i] if found_guessed_t.get(i) else 0.0
        recall = 100 * c / found_correct_t[i] if found_correct_t.get(i) else 0.0
        fb1 = 0.0 if precision + recall == 0.0 else 2 * precision * recall / (precision + recall)
        out += f"{i:>17}: "  # printf "%17s: "
        out += f"precision: {precision:6.2f}%; "
        out += f"recall: {recall:6.2f}%; "
        out += f"FB1: {fb1:6.2f}  {found_guessed_t.get(i, 0)}\n"
    counts = {
        "tokens": token_counter,
        "phrases_gold": found_correct,
        "phrases_found": found_guessed,
        "phrases_correct": correct_chunk,
        "correct_tags": correct_tags,
        "per_type": {
            t: (found_correct_t.get(t, 0), found_guessed_t.get(t, 0), correct_chunk_t.get(t, 0))
            for t in set(found_correct_t) | set(found_guessed_t)
        },
    }
    return counts, out


def _counts(scores: Scores) -> dict:
    return {
        "tokens": scores.tokens,
        "phrases_gold": scores.phrases_gold,
        "phrases_found": scores.phrases_found,
        "phrases_correct": scores.phrases_correct,
        "correct_tags": scores.correct_tags,
        "per_type": {t: (s.support, s.predicted, s.correct) for t, s in scores.per_type.items()},
    }


def assert_matches_oracle(gold: list[list[str]], pred: list[list[str]]) -> Scores:
    scores = conlleval_scores(gold, pred)
    counts, report = oracle_conlleval(gold, pred)
    assert _counts(scores) == counts
    assert conlleval_report(scores) == report
    return scores


# --- random comparison with the oracle ------------------------------------------------------------------

TAGS = ["O"] + [f"{p}-{t}" for p in "BIES" for t in ("PER", "LOC", "A-B")]


Corpus = tuple[list[list[str]], list[list[str]]]


@st.composite
def gold_and_pred(draw: st.DrawFn, prefixes: str = "BIES") -> Corpus:
    """Random sentences of mixed-scheme tags; a prediction copies the gold tag about half of the time."""
    tags = [t for t in TAGS if t[0] in prefixes + "O"]
    k = len(tags)
    pairs = draw(st.lists(st.tuples(st.integers(0, k - 1), st.integers(0, 2 * k - 1)), max_size=24))
    cuts = sorted(draw(st.lists(st.integers(0, len(pairs)), max_size=4)))  # sentence boundaries
    gold_flat = [tags[g] for g, _ in pairs]
    pred_flat = [tags[p] if p < k else tags[g] for g, p in pairs]
    spans = list(zip([0, *cuts], [*cuts, len(pairs)], strict=True))
    return [gold_flat[a:b] for a, b in spans], [pred_flat[a:b] for a, b in spans]


@settings(max_examples=600, deadline=None)
@given(gold_and_pred())
def test_scores_match_conlleval_on_random_iobes_mixtures(data: Corpus) -> None:
    assert_matches_oracle(*data)


@settings(max_examples=400, deadline=None)
@given(gold_and_pred(prefixes="BI"))
def test_scores_match_conlleval_on_random_iob_mixtures(data: Corpus) -> None:
    assert_matches_oracle(*data)


def test_scores_match_conlleval_on_thousands_of_seeded_corpora() -> None:
    """Like seqeval's statistical test: many cheap random corpora (hypothesis above shrinks failures)."""
    rng = np.random.default_rng(2003)
    for trial in range(3000):
        n_tokens = int(rng.integers(0, 30))
        gold_flat = [TAGS[i] for i in rng.integers(len(TAGS), size=n_tokens)]
        pred_flat = [
            TAGS[i] if rng.random() < 0.5 else g
            for g, i in zip(gold_flat, rng.integers(len(TAGS), size=n_tokens), strict=True)
        ]
        cuts = sorted(rng.integers(0, n_tokens + 1, size=int(rng.integers(0, 5))).tolist())
        spans = list(zip([0, *cuts], [*cuts, n_tokens], strict=True))
        gold, pred = [gold_flat[a:b] for a, b in spans], [pred_flat[a:b] for a, b in spans]
        counts, report = oracle_conlleval(gold, pred)
        scores = conlleval_scores(gold, pred)
        assert (_counts(scores), conlleval_report(scores)) == (counts, report), f"trial {trial}"


# --- hand-checked cases -----------------------------------------------------------------------------------


def _summary(gold: list[list[str]], pred: list[list[str]]) -> tuple[int, int, int, int]:
    """(gold phrases, found phrases, correct phrases, correct tags), checked against the oracle too."""
    s = assert_matches_oracle(gold, pred)
    return s.phrases_gold, s.phrases_found, s.phrases_correct, s.correct_tags


def test_iob1_prediction_against_iob2_gold() -> None:
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    pred = [["I-PER", "I-PER", "O", "I-LOC"]]  # IOB1: the same two entities
    assert _summary(gold, pred) == (2, 2, 2, 2)


def test_adjacent_entities_of_one_type() -> None:
    assert _summary([["B-PER", "B-PER"]], [["B-PER", "I-PER"]]) == (2, 1, 0, 1)
    assert _summary([["I-PER", "B-PER"]], [["B-PER", "B-PER"]]) == (2, 2, 2, 1)  # IOB1 vs IOB2
    assert _summary([["B-PER", "I-PER", "B-PER"]], [["B-PER", "B-PER", "B-PER"]]) == (2, 3, 1, 2)


def test_i_after_o_starts_an_entity() -> None:
    assert _summary([["O", "I-ORG", "I-ORG"]], [["O", "B-ORG", "I-ORG"]]) == (1, 1, 1, 2)
    assert _summary([["O", "B-ORG", "I-ORG"]], [["O", "O", "I-ORG"]]) == (1, 1, 0, 2)


def test_type_change_mid_entity() -> None:
    scores = assert_matches_oracle([["B-PER", "I-PER"]], [["B-PER", "I-ORG"]])
    assert (scores.phrases_gold, scores.phrases_found, scores.phrases_correct) == (1, 2, 0)
    assert (scores.per_type["PER"].support, scores.per_type["PER"].predicted) == (1, 1)
    assert (scores.per_type["ORG"].support, scores.per_type["ORG"].predicted) == (0, 1)


def test_entities_never_cross_sentences() -> None:
    gold = [["O", "B-PER"], ["I-PER", "O"]]  # two entities: the sentence boundary ends the first
    assert _summary(gold, [["O", "B-PER"], ["B-PER", "O"]]) == (2, 2, 2, 3)
    assert _summary(gold, [["O", "O"], ["I-PER", "O"]]) == (2, 1, 1, 3)
    assert _summary([["B-LOC"], [], ["B-LOC", "I-LOC"]], [["B-LOC"], [], ["I-LOC", "I-LOC"]]) == (2, 2, 2, 2)


def test_iobes_chunks() -> None:
    assert _summary([["B-X", "E-X", "S-X"]], [["B-X", "I-X", "I-X"]]) == (2, 1, 0, 1)
    assert _summary([["B-X", "E-X", "B-X", "E-X"]], [["S-X", "S-X", "B-X", "E-X"]]) == (2, 3, 1, 2)
    bilou = conlleval_scores([["U-X", "B-X", "L-X"]], [["S-X", "B-X", "E-X"]])  # L-/U- read as E-/S-
    assert (bilou.phrases_gold, bilou.phrases_found, bilou.phrases_correct) == (2, 2, 2)


def test_scores_and_report_on_a_hand_example() -> None:
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["O"]]
    scores = conlleval_scores(gold, pred)
    assert (scores.tokens, scores.correct_tags) == (5, 3)
    assert (scores.accuracy, scores.precision, scores.recall) == (60.0, 50.0, 100 / 3)
    assert scores.f1 == pytest.approx(40.0)
    assert conlleval_report(scores) == (
        "processed 5 tokens with 3 phrases; found: 2 phrases; correct: 1.\n"
        "accuracy:  60.00%; precision:  50.00%; recall:  33.33%; FB1:  40.00\n"
        "              LOC: precision:   0.00%; recall:   0.00%; FB1:   0.00  0\n"
        "              ORG: precision:   0.00%; recall:   0.00%; FB1:   0.00  1\n"
        "              PER: precision: 100.00%; recall: 100.00%; FB1: 100.00  1\n"
    )
    assert json.loads(json.dumps(scores.to_dict()))["per_type"]["PER"]["f1"] == 100.0


def test_report_rounds_like_printf() -> None:
    gold = [["B-X"]] * 800  # recall 100 * 1 / 800 = 0.125 exactly: printf rounds half to even
    pred = [["B-X"]] + [["O"]] * 799
    report = conlleval_report(assert_matches_oracle(gold, pred))
    assert "recall:   0.12%" in report


def test_no_tokens() -> None:
    scores = conlleval_scores([], [])
    assert (scores.tokens, scores.phrases_gold, scores.accuracy, scores.f1) == (0, 0, 0.0, 0.0)
    assert scores.per_type == {}
    assert conlleval_report(scores) == "processed 0 tokens with 0 phrases; found: 0 phrases; correct: 0.\n"


def test_length_mismatches_and_bad_tags_raise() -> None:
    with pytest.raises(ValueError, match="sentence 2: 1 gold tags but 2 predicted"):
        conlleval_scores([["O"], ["O"]], [["O"], ["O", "O"]])
    with pytest.raises(ValueError, match="number of sentences"):
        conlleval_scores([["O"]], [["O"], ["O"]])
    with pytest.raises(ValueError, match="not a tag"):
        conlleval_scores([["PER"]], [["O"]])


# --- token-level helpers ----------------------------------------------------------------------------------


def test_confusion_matrix() -> None:
    labels = ["O", "B-PER", "I-PER"]
    matrix = confusion_matrix([["O", "B-PER", "I-PER"], ["B-PER"]], [["O", "B-PER", "O"], ["I-PER"]], labels)
    assert matrix.dtype == np.int64
    assert matrix.tolist() == [[1, 0, 0], [0, 1, 1], [1, 0, 0]]
    with pytest.raises(ValueError, match="B-LOC"):
        confusion_matrix([["B-LOC"]], [["O"]], labels)


def test_token_scores() -> None:
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    pred = [["I-PER", "O", "B-PER", "B-LOC"]]
    precision, recall, f1 = token_scores(gold, pred, "PER")  # 1 of 2 predicted, 1 of 2 gold
    assert (precision, recall, f1) == (50.0, 50.0, 50.0)
    assert token_scores(gold, pred, "MISC") == (0.0, 0.0, 0.0)


# --- real data --------------------------------------------------------------------------------------------


@pytest.mark.skipif(not (DATA / "dev.txt").exists(), reason="CoNLL-2003 not found in ../shared/data")
def test_dev_set_against_the_oracle() -> None:
    from ner_cli.io.conll import read_conll
    from ner_cli.tags import convert_tags

    gold = [s.tags for s in read_conll(DATA / "dev.txt")]
    perfect = conlleval_scores(gold, gold)
    assert (perfect.phrases_gold, perfect.phrases_correct, perfect.tokens) == (5942, 5942, 51362)
    assert perfect.f1 == 100.0
    assert {t: s.support for t, s in perfect.per_type.items()} == {
        "PER": 1842,
        "LOC": 1837,
        "ORG": 1341,
        "MISC": 922,
    }
    rng = np.random.default_rng(0)
    labels = sorted({t for seq in gold for t in seq})
    iob1 = [convert_tags(seq, "IOB2", "IOB1") for seq in gold]  # same entities, other scheme
    pred = [[labels[rng.integers(len(labels))] if rng.random() < 0.05 else t for t in seq] for seq in iob1]
    assert_matches_oracle(gold, pred)
