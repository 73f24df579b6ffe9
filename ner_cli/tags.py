"""Tag schemes (IOB1, IOB2, IOBES) and entity spans read the way conlleval.pl reads them: the single source
of truth for scheme names, label order, the type of a tag and every conversion between schemes.

A tag is ``O`` or ``P-TYPE``; the prefix P is B, I, E or S (BILOU's L and U are read as E and S).
Each converter names its direction and assumes valid input: run `repair_tags` first on anything else.

>>> iob2_to_iobes(["B-PER", "I-PER", "O", "B-LOC"])
['B-PER', 'E-PER', 'O', 'S-LOC']
>>> get_entities(["B-PER", "I-PER", "O", "I-LOC"])
[('PER', 0, 2), ('LOC', 3, 4)]
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:                      # numpy is imported where it is used, so `ner --help` can read the names
    import numpy as np

SCHEMES = ("IOB1", "IOB2", "IOBES")    # schemes a CoNLL file may use
MODEL_SCHEMES = ("IOB2", "IOBES")      # schemes the network may predict (its output is always IOB2)
AUTO = "auto"                          # "detect the file's scheme"
SCHEME_ALIASES = {"BIOES": "IOBES"}
PREFIXES = ("B", "I", "E", "S", "O")  # conlleval's chunk tags; their order indexes the tables below
BILOU_PREFIXES = {"L": "E", "U": "S"}  # read on input only; never written

_TAG = re.compile(r"O|[BIESLU]-[^\s\x00]+")


def scheme_names(*, auto: bool = False, aliases: bool = False) -> list[str]:
    """The scheme names a user may write: [auto,] IOB1, IOB2, IOBES[, BIOES]."""
    return [*([AUTO] if auto else []), *SCHEMES, *(SCHEME_ALIASES if aliases else [])]


def normalize_scheme(scheme: str, *, auto: bool = False) -> str:
    """Canonical scheme name: case-insensitive, "BIOES" is an alias of "IOBES" (and "auto" stays "auto" when
    allowed); ValueError otherwise."""
    if auto and scheme.lower() == AUTO:
        return AUTO
    name = SCHEME_ALIASES.get(scheme.upper(), scheme.upper())
    if name not in SCHEMES:
        raise ValueError(f"unknown tag scheme {scheme!r} (valid: {', '.join(scheme_names(auto=auto, aliases=True))})")
    return name


def is_tag(tag: str) -> bool:
    """True for ``O`` and ``P-TYPE`` with P in B/I/E/S/L/U and a non-empty TYPE without whitespace."""
    return _TAG.fullmatch(tag) is not None


@functools.lru_cache(maxsize=4096)                 # called per token when reading files: few distinct tags
def split_tag(tag: str) -> tuple[str, str]:
    """(prefix, type) as conlleval splits at the first hyphen; ``O`` gives ("O", ""); L/U read as E/S."""
    if not is_tag(tag):
        raise ValueError(f"not a tag: {tag!r} (expected O or P-TYPE with P in B/I/E/S/L/U)")
    if tag == "O":
        return "O", ""
    prefix, type_ = tag.split("-", 1)
    return BILOU_PREFIXES.get(prefix, prefix), type_


def tag_type(tag: str | None) -> str:
    """Entity type of a tag ("B-PER" -> "PER"); "" for O and for the sentence boundary (None)."""
    return "" if tag is None or tag == "O" else tag.split("-", 1)[1]


_type = tag_type


def label_order(tag: str) -> tuple[bool, str, str]:
    """Sort key of a label set: O first, then by entity type, then by prefix (B-LOC, I-LOC, B-MISC, ...)."""
    return tag != "O", tag_type(tag), tag


def only_type(tags: Sequence[str], target: str) -> list[str]:
    """Tags of other entity types become O (a binary model is scored on its own class only)."""
    return [tag if tag_type(tag) == target else "O" for tag in tags]


def _prefix(tag: str | None) -> str:
    """Normalised prefix of a tag; "O" for the sentence boundary (None)."""
    return "O" if tag is None else split_tag(tag)[0]


# ---------------------------------------------------------------------------------------------------------
# conlleval's chunk boundaries. conlleval.pl lists (previous, current) prefix pairs for IOB1/IOB2 and IOE;
# the pairs marked IOBES are the usual extension (as in seqeval) so that S- and E-then-B- also split chunks.
# For B/I/E/O input without S these rules give exactly conlleval.pl's answers.
_END_PAIRS = frozenset(
    {("B", "B"), ("B", "O"), ("I", "B"), ("I", "O"), ("E", "E"), ("E", "I"), ("E", "O")}  # conlleval.pl
    | {("B", "S"), ("I", "S"), ("E", "B"), ("E", "S")}  # IOBES
)
_START_PAIRS = frozenset(
    {("B", "B"), ("I", "B"), ("O", "B"), ("O", "I"), ("E", "E"), ("E", "I"), ("O", "E")}  # conlleval.pl
    | {("E", "B"), ("S", "B"), ("S", "I"), ("S", "E")}  # IOBES
)


def end_of_chunk(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    """True if a chunk ended between the previous and the current word (prefixes and types given apart)."""
    if prev_tag == "S" or (prev_tag, tag) in _END_PAIRS:
        return True
    return prev_tag != "O" and prev_type != type_


def start_of_chunk(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    """True if a chunk started between the previous and the current word (prefixes and types given apart)."""
    if tag == "S" or (prev_tag, tag) in _START_PAIRS:
        return True
    return tag != "O" and prev_type != type_


def _boundary_tables(rule: Callable[[str, str, str, str], bool]) -> np.ndarray:
    """(2, P, P) table of `rule` over prefix pairs: [0] for equal types, [1] for different types."""
    import numpy as np

    table = np.zeros((2, len(PREFIXES), len(PREFIXES)), dtype=bool)
    for i, prev in enumerate(PREFIXES):
        for j, cur in enumerate(PREFIXES):
            table[0, i, j] = rule(prev, cur, "X", "X")
            table[1, i, j] = rule(prev, cur, "X", "Y")
    return table


@functools.cache
def _tables() -> tuple[np.ndarray, np.ndarray]:
    """The (end, start) boundary tables, built on first use."""
    return _boundary_tables(end_of_chunk), _boundary_tables(start_of_chunk)


def tag_ids(tags: Iterable[str]) -> tuple[np.ndarray, list[str]]:
    """Ids of tags (int64, in order of first appearance) and the distinct tags; no Python loop per token."""
    import numpy as np

    tags = tags if isinstance(tags, list) else list(tags)
    names = list(dict.fromkeys(tags))
    index = {name: i for i, name in enumerate(names)}
    return np.fromiter(map(index.__getitem__, tags), dtype=np.int64, count=len(tags)), names


def encode_tags(tags: Iterable[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Prefix ids (into PREFIXES) and type ids (into the returned sorted type names, "" first) of every tag.

    Raises ValueError on anything that is not a tag.
    """
    import numpy as np

    ids, names = tag_ids(tags)
    split = [split_tag(name) for name in names]  # one call per distinct tag, not per token
    types = sorted({type_ for _, type_ in split} | {""})
    prefix_of = np.array([PREFIXES.index(prefix) for prefix, _ in split], dtype=np.int64)
    type_of = np.array([types.index(type_) for _, type_ in split], dtype=np.int64)
    return prefix_of[ids], type_of[ids], types


def chunk_arrays(tags: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Vectorised `get_entities`: (starts, ends, type ids, type names), END EXCLUSIVE, in order of start.

    The sequence is read between two sentence boundaries (as conlleval's ``O`` at a blank line), so pass
    the tags of one sentence, or several sentences joined by ``O``.
    """
    prefix, type_id, types = encode_tags(tags)
    starts, ends = chunk_spans(prefix, type_id)
    return starts, ends, type_id[starts], types


def chunk_spans(prefix: np.ndarray, type_id: np.ndarray, cuts: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Chunk (starts, ends), END EXCLUSIVE, of a flat sequence given as prefix ids (into PREFIXES) and type ids
    (0 for no type), with conlleval's rules; no chunk crosses a cut. One pass over arrays, no Python loop.

    `cuts` are the indices where a new sentence starts (as conlleval's blank line: an ``O`` on both sides).
    """
    import numpy as np

    end_table, start_table = _tables()
    n = len(prefix)
    o, empty = PREFIXES.index("O"), 0
    cut = np.zeros(n + 1, dtype=bool)                               # boundary k lies between tokens k-1 and k
    cut[[0, n]] = True
    if cuts is not None:
        cut[cuts] = True
    left_prefix = np.concatenate([[o], prefix])                     # (n+1,) the tag before each boundary
    left_type = np.concatenate([[empty], type_id])
    right_prefix = np.concatenate([prefix, [o]])                    # (n+1,) the tag after it
    right_type = np.concatenate([type_id, [empty]])
    # a chunk ends at k if it would before an O (at a cut) or before the next tag; it starts at k if it would
    # after an O (at a cut) or after the previous tag
    end_p, end_t = np.where(cut, o, right_prefix), np.where(cut, empty, right_type)
    start_p, start_t = np.where(cut, o, left_prefix), np.where(cut, empty, left_type)
    ends = np.flatnonzero(end_table[(left_type != end_t).astype(np.int64), left_prefix, end_p])
    starts = np.flatnonzero(start_table[(start_t != right_type).astype(np.int64), start_p, right_prefix][:-1])
    return starts, ends[np.searchsorted(ends, starts, side="right")]  # first boundary after each start


def get_entities(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Chunks as (type, start, end) with END EXCLUSIVE, found with conlleval's start/end rules.

    Works alike for IOB1, IOB2 and IOBES (and mixtures): ``I-X`` after ``O`` starts a chunk, a type change
    ends one, ``B-X B-X`` is two chunks. The sequence is one sentence: no chunk crosses its ends.
    """
    starts, ends, type_ids, types = chunk_arrays(tags)
    return [(types[t], int(s), int(e)) for t, s, e in zip(type_ids, starts, ends, strict=True)]


def entities_to_tags(entities: Iterable[tuple[str, int, int]], length: int, scheme: str) -> list[str]:
    """Tags of `length` tokens that encode non-overlapping (type, start, end-exclusive) spans in `scheme`."""
    scheme = normalize_scheme(scheme)
    tags = ["O"] * length
    last_end, last_type = -1, ""
    for type_, start, end in sorted(entities, key=lambda span: span[1]):
        tags[start:end] = [f"I-{type_}"] * (end - start)
        if scheme == "IOB2" or (scheme == "IOB1" and start == last_end and type_ == last_type):
            tags[start] = f"B-{type_}"
        elif scheme == "IOBES":
            tags[start] = f"B-{type_}" if end - start > 1 else f"S-{type_}"
            if end - start > 1:
                tags[end - 1] = f"E-{type_}"
        last_end, last_type = end, type_
    return tags


# ---------------------------------------------------------------------------------------------------------
# Converters, one rule per token from its neighbours; valid input in, valid output out.


def iob1_to_iob2(tags: Sequence[str]) -> list[str]:
    """IOB1 -> IOB2: an ``I-X`` that begins an entity (after O, at the start, after another type) -> B-X."""
    return [
        f"B-{_type(tag)}" if _prefix(tag) == "I" and _type(prev) != _type(tag) else tag
        for prev, tag in zip([None, *tags], tags, strict=False)  # (previous or None, tag)
    ]


def iob2_to_iob1(tags: Sequence[str]) -> list[str]:
    """IOB2 -> IOB1: ``B-X`` stays only right after a tag of type X (two touching entities); else I-X."""
    return [
        f"I-{_type(tag)}" if _prefix(tag) == "B" and _type(prev) != _type(tag) else tag
        for prev, tag in zip([None, *tags], tags, strict=False)  # (previous or None, tag)
    ]


def iob2_to_iobes(tags: Sequence[str]) -> list[str]:
    """IOB2 -> IOBES: a one-token entity's B-X becomes S-X, an entity's last I-X becomes E-X."""
    out = []
    for tag, nxt in zip(tags, [*tags[1:], None], strict=False):  # (tag, next or None)
        prefix, type_ = split_tag(tag)
        continued = nxt is not None and _prefix(nxt) == "I" and _type(nxt) == type_
        if prefix in "BI" and not continued:
            tag = f"{'S' if prefix == 'B' else 'E'}-{type_}"
        out.append(tag)
    return out


_IOBES_TO_IOB2 = {"B": "B", "I": "I", "E": "I", "S": "B"}


def iobes_to_iob2(tags: Sequence[str]) -> list[str]:
    """IOBES (or BILOU) -> IOB2: S-X (U-X) becomes B-X, E-X (L-X) becomes I-X."""
    return [tag if tag == "O" else f"{_IOBES_TO_IOB2[split_tag(tag)[0]]}-{_type(tag)}" for tag in tags]


def iob2_label_map(labels: Sequence[str]) -> tuple[list[str], list[int]]:
    """A model's labels (IOB2 or IOBES) -> (the IOB2 labels, in first-seen order; for each label its IOB2 id).

    Tag by tag, as `iobes_to_iob2`: exact for valid sequences (S-X -> B-X, E-X -> I-X; IOB2 labels map to
    themselves).
    """
    iob2 = iobes_to_iob2(labels)
    out = list(dict.fromkeys(iob2))
    return out, [out.index(tag) for tag in iob2]


_TO_IOB2 = {"IOB1": iob1_to_iob2, "IOB2": list, "IOBES": iobes_to_iob2}
_FROM_IOB2 = {"IOB1": iob2_to_iob1, "IOB2": list, "IOBES": iob2_to_iobes}


def convert_tags(tags: Sequence[str], src: str, dst: str) -> list[str]:
    """Convert valid `src` tags to `dst` by way of IOB2 (e.g. IOB1 -> IOB2 -> IOBES)."""
    return _FROM_IOB2[normalize_scheme(dst)](_TO_IOB2[normalize_scheme(src)](tags))


def detect_scheme(sequences: Iterable[Sequence[str]]) -> str:
    """Guess the scheme of tag sequences (one per sentence).

    Rule: "IOBES" if any tag has an E-, S-, L- or U- prefix. Otherwise "IOB1" if some entity starts with
    ``I-`` (I-X at a sentence start, after O or after another type) and every ``B-X`` directly follows a
    tag of type X (the only place IOB1 uses B). Otherwise "IOB2" (also for all-O input).
    """
    i_starts = b_alone = False
    for tags in sequences:
        prev_type = ""
        for tag in tags:
            prefix, type_ = split_tag(tag)
            if prefix in "ES":
                return "IOBES"
            i_starts |= prefix == "I" and prev_type != type_
            b_alone |= prefix == "B" and prev_type != type_
            prev_type = type_
    return "IOB1" if i_starts and not b_alone else "IOB2"


# ---------------------------------------------------------------------------------------------------------
# Validity: one function judges a (previous, current) pair; both `invalid_transitions` and
# `transition_mask` use it, so a path the mask allows is a path with no problems. None = sentence boundary.


def _name(tag: str | None, where: str) -> str:
    """A tag for a message; the boundary (None) reads "sentence start" or "sentence end"."""
    return tag if tag is not None else f"sentence {where}"


@functools.lru_cache(maxsize=4096)                 # a file has few distinct tag pairs: one judgement per pair
def _pair_problems(prev: str | None, cur: str | None, scheme: str) -> tuple[tuple[int, str], ...]:
    """Problems of `cur` following `prev` as (offset, message): offset 0 blames cur, -1 blames prev."""
    if cur is not None and not is_tag(cur):
        return ((0, f"{cur!r} is not a tag (O or P-TYPE)"),)
    p, t = _prefix(prev), _type(prev)
    c, u = _prefix(cur), _type(cur)
    if scheme != "IOBES":
        if c in "ES":
            return ((0, f"{cur} is not an {scheme} tag"),)
        if scheme == "IOB2" and c == "I" and not (p in "BI" and t == u):
            return ((0, f"{cur} after {_name(prev, 'start')}: an IOB2 entity starts with B-{u}"),)
        if scheme == "IOB1" and c == "B" and t != u:
            return ((0, f"{cur} after {_name(prev, 'start')}: IOB1 uses B-{u} only right after {u}"),)
        return ()
    problems = []
    if p in "BI" and not (c in "IE" and t == u):
        problems.append((-1, f"{prev} not followed by I-{t} or E-{t} (got {_name(cur, 'end')})"))
    if c in "IE" and not (p in "BI" and t == u):
        problems.append((0, f"{cur} without a preceding B-{u} or I-{u} (got {_name(prev, 'start')})"))
    return tuple(problems)


def invalid_transitions(tags: Sequence[str], scheme: str) -> list[tuple[int, str]]:
    """(index, message) for every tag that breaks `scheme`'s grammar, in order; [] for a valid sequence."""
    scheme = normalize_scheme(scheme)
    bounded = [None, *tags, None]
    found = []
    for i in range(len(tags) + 1):
        for offset, message in _pair_problems(bounded[i], bounded[i + 1], scheme):
            found.append((i + offset, message))
    return sorted(found, key=lambda item: item[0])


def repair_tags(tags: Sequence[str], scheme: str) -> list[str]:
    """Valid `scheme` tags for the chunks conlleval reads in `tags` (e.g. IOB2: ``O I-X`` -> ``O B-X``)."""
    return entities_to_tags(get_entities(tags), len(tags), scheme)


def transition_mask(labels: Sequence[str], scheme: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boolean masks for a constrained decoder over `labels` (C of them).

    Returns start_ok (C,): label j may begin a sentence; trans_ok (C, C): trans_ok[i, j] = label j may
    follow label i; end_ok (C,): label i may end a sentence. IOB2: I-X only after B-X/I-X. IOB1: B-X only
    after I-X/B-X. IOBES: B-X/I-X must be continued by I-X/E-X, which need a B-X/I-X before them.
    """
    import numpy as np

    scheme = normalize_scheme(scheme)

    def ok(prev: str | None, cur: str | None) -> bool:
        return not _pair_problems(prev, cur, scheme)

    start_ok = np.array([ok(None, label) for label in labels], dtype=bool)
    c = len(labels)
    trans_ok = np.array([[ok(a, b) for b in labels] for a in labels], dtype=bool).reshape(c, c)
    end_ok = np.array([ok(label, None) for label in labels], dtype=bool)
    return start_ok, trans_ok, end_ok


def entity_types(labels: Iterable[str]) -> list[str]:
    """Sorted distinct entity types of the labels (``O`` has none)."""
    return sorted({split_tag(label)[1] for label in labels} - {""})
