"""Tag schemes: converters, scheme detection, validity, repair, conlleval's chunks and decoder masks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ner_cli.tags import (
    SCHEMES,
    convert_tags,
    detect_scheme,
    end_of_chunk,
    entities_to_tags,
    entity_types,
    get_entities,
    invalid_transitions,
    iob1_to_iob2,
    iob2_to_iob1,
    iob2_to_iobes,
    iobes_to_iob2,
    normalize_scheme,
    repair_tags,
    split_tag,
    start_of_chunk,
    transition_mask,
)

TYPES = ("PER", "LOC", "A-B")  # "A-B": conlleval splits at the first hyphen only
ANY_TAG = st.sampled_from(["O"] + [f"{p}-{t}" for p in "BIES" for t in TYPES])


@st.composite
def iob2_sequences(draw: st.DrawFn, max_segments: int = 8) -> list[str]:
    """A valid IOB2 sequence built from segments: runs of O and entities of 1-3 tokens (touching ones too)."""
    tags: list[str] = []
    for type_, length in draw(
        st.lists(st.tuples(st.sampled_from((None, *TYPES)), st.integers(1, 3)), max_size=max_segments)
    ):
        if type_ is None:
            tags += ["O"] * length
        else:
            tags += [f"B-{type_}"] + [f"I-{type_}"] * (length - 1)
    return tags


# --- converters on hand examples ------------------------------------------------------------------------


def test_iob1_to_iob2_marks_every_entity_start() -> None:
    iob1 = ["I-PER", "I-PER", "B-PER", "O", "I-LOC", "I-A-B", "I-A-B"]
    assert iob1_to_iob2(iob1) == ["B-PER", "I-PER", "B-PER", "O", "B-LOC", "B-A-B", "I-A-B"]


def test_iob2_to_iob1_keeps_b_only_between_touching_entities() -> None:
    iob2 = ["B-PER", "I-PER", "B-PER", "O", "B-LOC", "B-ORG", "I-ORG"]
    assert iob2_to_iob1(iob2) == ["I-PER", "I-PER", "B-PER", "O", "I-LOC", "I-ORG", "I-ORG"]


def test_iob2_to_iobes_and_back() -> None:
    iob2 = ["B-PER", "I-PER", "B-PER", "O", "B-LOC", "I-LOC", "I-LOC", "B-ORG"]
    iobes = ["B-PER", "E-PER", "S-PER", "O", "B-LOC", "I-LOC", "E-LOC", "S-ORG"]
    assert iob2_to_iobes(iob2) == iobes
    assert iobes_to_iob2(iobes) == iob2


def test_bilou_is_read_as_iobes() -> None:
    assert iobes_to_iob2(["U-PER", "B-LOC", "L-LOC"]) == ["B-PER", "B-LOC", "I-LOC"]
    assert split_tag("L-LOC") == ("E", "LOC")
    assert get_entities(["U-PER", "B-LOC", "L-LOC"]) == [("PER", 0, 1), ("LOC", 1, 3)]


def test_convert_tags_composes_and_accepts_the_bioes_alias() -> None:
    assert convert_tags(["I-PER", "B-PER", "O"], "IOB1", "BIOES") == ["S-PER", "S-PER", "O"]
    assert convert_tags(["S-PER", "O"], "iobes", "IOB1") == ["I-PER", "O"]
    assert normalize_scheme("bioes") == "IOBES"
    with pytest.raises(ValueError, match="unknown tag scheme 'IOE2'"):
        convert_tags(["O"], "IOB2", "IOE2")


def test_split_tag_refuses_non_tags() -> None:
    for bad in ("PER", "X-PER", "B-", "B PER", "", "o"):
        with pytest.raises(ValueError, match="not a tag"):
            split_tag(bad)


# --- round trips and agreement between schemes (hypothesis) ----------------------------------------------


@settings(max_examples=150, deadline=None)
@given(iob2_sequences())
def test_every_scheme_round_trips_losslessly(tags: list[str]) -> None:
    for scheme in SCHEMES:
        converted = convert_tags(tags, "IOB2", scheme)
        assert convert_tags(converted, scheme, "IOB2") == tags
        assert invalid_transitions(converted, scheme) == []
        assert get_entities(converted) == get_entities(tags)  # conlleval reads all schemes alike
        assert repair_tags(converted, scheme) == converted
        for other in SCHEMES:
            expected = convert_tags(tags, "IOB2", other)
            assert convert_tags(converted, scheme, other) == expected
            assert entities_to_tags(get_entities(converted), len(tags), other) == expected


@settings(max_examples=100, deadline=None)
@given(iob2_sequences())
def test_detect_scheme_on_converted_sequences(tags: list[str]) -> None:
    has_entity = any(tag != "O" for tag in tags)
    assert detect_scheme([tags]) == "IOB2"
    assert detect_scheme([iob2_to_iob1(tags)]) == ("IOB1" if has_entity else "IOB2")
    assert detect_scheme([iob2_to_iobes(tags)]) == ("IOBES" if has_entity else "IOB2")


# --- detect_scheme ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sequences", "scheme"),
    [
        ([["I-PER", "O"]], "IOB1"),
        ([["I-PER", "B-PER"], ["O"]], "IOB1"),  # B- between same-type neighbours is IOB1's only B
        ([["B-PER", "I-PER"]], "IOB2"),
        ([["I-PER"], ["O", "B-PER"]], "IOB2"),  # a B- after O rules IOB1 out
        ([["O", "I-PER"], ["I-LOC", "B-PER"]], "IOB2"),  # B-PER after I-LOC: not IOB1 either
        ([["B-PER", "S-LOC"]], "IOBES"),
        ([["U-PER"]], "IOBES"),
        ([["O"], []], "IOB2"),
        ([], "IOB2"),
    ],
)
def test_detect_scheme(sequences: list[list[str]], scheme: str) -> None:
    assert detect_scheme(sequences) == scheme


# --- invalid_transitions and repair ---------------------------------------------------------------------


def test_invalid_transitions_iob2() -> None:
    problems = invalid_transitions(["I-PER", "O", "I-PER", "B-LOC", "I-PER", "S-PER"], "IOB2")
    assert [i for i, _ in problems] == [0, 2, 4, 5]
    assert "sentence start" in problems[0][1]
    assert "after O" in problems[1][1]
    assert "after B-LOC" in problems[2][1]
    assert "not an IOB2 tag" in problems[3][1]
    assert invalid_transitions(["B-PER", "I-PER", "B-PER", "O"], "IOB2") == []


def test_invalid_transitions_iob1() -> None:
    problems = invalid_transitions(["B-PER", "I-PER", "B-PER", "O", "B-LOC", "I-ORG", "B-LOC"], "IOB1")
    assert [i for i, _ in problems] == [0, 4, 6]
    assert invalid_transitions(["I-PER", "B-PER", "O", "I-LOC"], "IOB1") == []


def test_invalid_transitions_iobes() -> None:
    problems = invalid_transitions(["E-PER", "B-LOC", "O", "S-PER", "I-PER", "B-ORG"], "IOBES")
    messages = dict(problems)
    assert [i for i, _ in problems] == [0, 1, 4, 4, 5]
    assert "E-PER without a preceding B-PER or I-PER" in messages[0]
    assert "B-LOC not followed by I-LOC or E-LOC" in messages[1]
    assert "sentence end" in problems[-1][1]
    assert invalid_transitions(["B-PER", "I-PER", "E-PER", "S-PER", "O", "S-LOC"], "BIOES") == []


def test_repair_follows_conlleval() -> None:
    tags = ["O", "I-X", "I-X", "B-Y", "I-X", "I-Y"]
    assert repair_tags(tags, "IOB2") == ["O", "B-X", "I-X", "B-Y", "B-X", "B-Y"]
    assert repair_tags(tags, "IOB1") == ["O", "I-X", "I-X", "I-Y", "I-X", "I-Y"]
    assert repair_tags(tags, "IOBES") == ["O", "B-X", "E-X", "S-Y", "S-X", "S-Y"]
    assert repair_tags(["B-X", "E-X", "I-X", "E-X", "O", "E-Y"], "IOBES") == [
        "B-X",
        "E-X",
        "B-X",
        "E-X",
        "O",
        "S-Y",
    ]


@settings(max_examples=200, deadline=None)
@given(st.lists(ANY_TAG, max_size=12), st.sampled_from(SCHEMES))
def test_repair_gives_valid_tags_with_the_same_chunks(tags: list[str], scheme: str) -> None:
    repaired = repair_tags(tags, scheme)
    assert invalid_transitions(repaired, scheme) == []
    assert get_entities(repaired) == get_entities(tags)
    assert repair_tags(repaired, scheme) == repaired


# --- get_entities and conlleval's predicates -------------------------------------------------------------


@pytest.mark.parametrize(
    ("tags", "entities"),
    [
        ([], []),
        (["O", "O"], []),
        (["B-PER", "I-PER", "O", "I-LOC"], [("PER", 0, 2), ("LOC", 3, 4)]),
        (["I-PER", "I-PER"], [("PER", 0, 2)]),  # IOB1: I- after the start begins an entity
        (["B-PER", "B-PER"], [("PER", 0, 1), ("PER", 1, 2)]),
        (["I-PER", "B-PER", "I-PER"], [("PER", 0, 1), ("PER", 1, 3)]),
        (["B-PER", "I-ORG", "I-ORG"], [("PER", 0, 1), ("ORG", 1, 3)]),  # type change ends and starts
        (["S-X", "S-X", "I-X"], [("X", 0, 1), ("X", 1, 2), ("X", 2, 3)]),
        (["B-X", "E-X", "B-X", "E-X"], [("X", 0, 2), ("X", 2, 4)]),
        (["E-X", "E-X", "I-X", "E-X"], [("X", 0, 1), ("X", 1, 2), ("X", 2, 4)]),
        (["B-X", "I-X", "E-X", "I-X"], [("X", 0, 3), ("X", 3, 4)]),
        (["O", "B-A-B", "I-A-B"], [("A-B", 1, 3)]),
        (["B-X", "I-X"], [("X", 0, 2)]),  # an entity at the sentence end is closed
    ],
)
def test_get_entities_end_exclusive(tags: list[str], entities: list[tuple[str, int, int]]) -> None:
    assert get_entities(tags) == entities


def test_predicates() -> None:
    assert start_of_chunk("O", "I", "", "X") and not end_of_chunk("O", "I", "", "X")
    assert end_of_chunk("I", "B", "X", "X") and start_of_chunk("I", "B", "X", "X")
    assert not end_of_chunk("B", "I", "X", "X") and not start_of_chunk("B", "I", "X", "X")
    assert end_of_chunk("B", "I", "X", "Y") and start_of_chunk("B", "I", "X", "Y")
    assert end_of_chunk("S", "E", "X", "X") and start_of_chunk("S", "E", "X", "X")
    assert end_of_chunk("I", "O", "X", "") and not start_of_chunk("I", "O", "X", "")


@settings(max_examples=200, deadline=None)
@given(st.lists(ANY_TAG, max_size=15))
def test_get_entities_partitions_the_non_o_tokens(tags: list[str]) -> None:
    entities = get_entities(tags)
    covered = [i for _, start, end in entities for i in range(start, end)]
    assert covered == [i for i, tag in enumerate(tags) if tag != "O"]
    for type_, start, end in entities:
        assert all(split_tag(tags[i])[1] == type_ for i in range(start, end))


# --- transition_mask -----------------------------------------------------------------------------------

LABELS = ["O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC"]
IOB_LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def test_transition_mask_iob2() -> None:
    start_ok, trans_ok, end_ok = transition_mask(IOB_LABELS, "IOB2")
    index = {label: i for i, label in enumerate(IOB_LABELS)}
    assert start_ok.dtype == bool and trans_ok.shape == (5, 5) and end_ok.all()
    assert start_ok.tolist() == [True, True, False, True, False]
    assert trans_ok[index["B-PER"], index["I-PER"]] and trans_ok[index["I-PER"], index["I-PER"]]
    assert not trans_ok[index["O"], index["I-PER"]] and not trans_ok[index["B-LOC"], index["I-PER"]]
    assert trans_ok[:, index["B-PER"]].all() and trans_ok[:, index["O"]].all()


def test_transition_mask_iob1() -> None:
    start_ok, trans_ok, end_ok = transition_mask(IOB_LABELS, "IOB1")
    index = {label: i for i, label in enumerate(IOB_LABELS)}
    assert start_ok.tolist() == [True, False, True, False, True] and end_ok.all()
    assert trans_ok[index["I-PER"], index["B-PER"]] and trans_ok[index["B-PER"], index["B-PER"]]
    assert not trans_ok[index["O"], index["B-PER"]] and not trans_ok[index["I-LOC"], index["B-PER"]]
    assert trans_ok[:, index["I-LOC"]].all()


def test_transition_mask_iobes() -> None:
    start_ok, trans_ok, end_ok = transition_mask(LABELS, "IOBES")
    index = {label: i for i, label in enumerate(LABELS)}
    assert start_ok.tolist() == [True, True, False, False, True, True, False, False, True]
    assert end_ok.tolist() == [True, False, False, True, True, False, False, True, True]
    assert np.flatnonzero(trans_ok[index["B-PER"]]).tolist() == [index["I-PER"], index["E-PER"]]
    assert np.flatnonzero(trans_ok[:, index["E-LOC"]]).tolist() == [index["B-LOC"], index["I-LOC"]]
    assert transition_mask([], "IOBES")[1].shape == (0, 0)


def _mask_allows(path: list[int], masks: tuple[np.ndarray, np.ndarray, np.ndarray]) -> bool:
    start_ok, trans_ok, end_ok = masks
    if not path:
        return True
    steps = all(trans_ok[a, b] for a, b in zip(path, path[1:], strict=False))
    return bool(start_ok[path[0]] and end_ok[path[-1]] and steps)


@settings(max_examples=250, deadline=None)
@given(st.sampled_from(SCHEMES), st.lists(st.integers(0, len(LABELS) - 1), max_size=8), st.data())
def test_mask_agrees_with_invalid_transitions(scheme: str, path: list[int], data: st.DataObject) -> None:
    labels = LABELS if scheme == "IOBES" else IOB_LABELS
    masks = transition_mask(labels, scheme)
    path = [i % len(labels) for i in path]
    assert _mask_allows(path, masks) == (invalid_transitions([labels[i] for i in path], scheme) == [])
    # a walk that follows the mask (as a constrained decoder would) is always valid
    start_ok, trans_ok, end_ok = masks
    walk = [data.draw(st.sampled_from(np.flatnonzero(start_ok).tolist()))]
    for _ in range(data.draw(st.integers(0, 6))):
        walk.append(data.draw(st.sampled_from(np.flatnonzero(trans_ok[walk[-1]]).tolist())))
    if end_ok[walk[-1]]:
        assert invalid_transitions([labels[i] for i in walk], scheme) == []


def test_entity_types() -> None:
    assert entity_types(["O", "B-PER", "I-LOC", "E-PER", "S-A-B"]) == ["A-B", "LOC", "PER"]
