"""Reading and writing CoNLL: the parsing rules, every error with file and line, round trips, real data."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ner_cli.errors import DataError
from ner_cli.io.conll import Sentence, parse_conll_lines, read_conll, write_conll

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "conll2003"


def write(tmp_path: Path, content: bytes | str, name: str = "data.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def read(path: Path, **kwargs: object) -> list[Sentence]:
    return list(read_conll(path, **kwargs))


def data_error(path: Path, line: int | None, **kwargs: object) -> DataError:
    """Read `path`, expecting a DataError at `line`; check the message names file and line; return it."""
    with pytest.raises(DataError) as info:
        read(path, **kwargs)
    err = info.value
    assert err.exit_code == 2
    assert err.line == line
    assert str(path) in err.message
    assert (f"{path}:{line}:" in err.message) == (line is not None)
    return err


# --- the rules ----------------------------------------------------------------------------------------------


def test_reads_sentences_tags_and_first_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\n\nPeter NNP B-NP B-PER\n")
    first, second = read(path)
    assert (first.words, first.tags, first.line, first.doc_start) == (
        ["EU", "rejects"],
        ["B-ORG", "O"],
        1,
        False,
    )
    assert (second.words, second.tags, second.line) == (["Peter"], ["B-PER"], 5)
    assert first.columns is None


def test_tabs_and_runs_of_spaces_mix(tmp_path: Path) -> None:
    path = write(tmp_path, "EU\tNNP  \t B-ORG\n  rejects   VBZ\tO  \n")
    (sentence,) = read(path, keep_columns=True)
    assert sentence.words == ["EU", "rejects"]
    assert sentence.columns == [["EU", "NNP", "B-ORG"], ["rejects", "VBZ", "O"]]


def test_bom_and_crlf(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xef\xbb\xbfEU NNP B-ORG\r\nrejects VBZ O\r\n\r\n \t\r\nx y O\r\n")
    first, second = read(path)
    assert (first.words, first.tags) == (["EU", "rejects"], ["B-ORG", "O"])
    assert (second.words, second.line) == (["x"], 5)


def test_hash_lines_are_tokens(tmp_path: Path) -> None:
    """CoNLL has no comment syntax: '#' starts hashtags and is a token itself (issue 11, W1)."""
    path = write(tmp_path, "#EU B-ORG\nrejects O\n\n# O\nx O\n")
    first, second = read(path)
    assert first.words == ["#EU", "rejects"] and second.words == ["#", "x"]


def test_docstart_ends_a_sentence_and_marks_the_next(tmp_path: Path) -> None:
    text = (
        "-DOCSTART- -X- O\n\nEU B-ORG\n\nx O\n"  # lines 1-5
        "-DOCSTART- -X- O\ny O\n\n\n"  # 6-9: no blank line needed after -DOCSTART-
        "-DOCSTART- -X- O\n\n-DOCSTART- O\nz O\n"  # 10-13: two in a row still mark one document start
    )
    sentences = read(write(tmp_path, text))
    assert [(s.words, s.doc_start) for s in sentences] == [
        (["EU"], True),
        (["x"], False),
        (["y"], True),
        (["z"], True),
    ]
    assert [s.line for s in sentences] == [3, 5, 7, 13]


def test_column_choice_and_untagged_files(tmp_path: Path) -> None:
    path = write(tmp_path, "B-PER Peter NNP\nO runs VBZ\n")
    (sentence,) = read(path, token_col=1, tag_col=0)
    assert (sentence.words, sentence.tags) == (["Peter", "runs"], ["B-PER", "O"])
    (sentence,) = read(path, token_col=-2, tag_col=-3)
    assert sentence.words == ["Peter", "runs"]
    untagged = write(tmp_path, "Peter\nruns\n\nhome\n", "plain.txt")
    assert [(s.words, s.tags) for s in read(untagged, require_tags=False)] == [
        (["Peter", "runs"], []),
        (["home"], []),
    ]
    (sentence,) = read(path, token_col=1, require_tags=False)  # the tag column is not even looked at
    assert sentence.tags == []


def test_parse_conll_lines_takes_text_or_bytes() -> None:
    text = "\ufeffEU B-ORG\nrejects O\n"
    assert [s.words for s in parse_conll_lines(io.StringIO(text))] == [["EU", "rejects"]]
    assert [s.tags for s in parse_conll_lines(io.BytesIO(text.encode()))] == [["B-ORG", "O"]]
    with pytest.raises(DataError, match=r"^<stdin>:2: expected a tag"):
        list(parse_conll_lines(["EU B-ORG", "rejects PER"]))
    with pytest.raises(DataError, match=r"^notes:1: expected UTF-8 text"):
        list(parse_conll_lines([b"\xff O\n"], "notes"))


def test_streams_lazily() -> None:
    def lines():
        yield "a O\n"
        yield "\n"
        raise AssertionError("read past the first sentence")

    assert next(parse_conll_lines(lines())).words == ["a"]


# --- errors: file, 1-based line, exit code 2 --------------------------------------------------------------


def test_error_undecodable_bytes(tmp_path: Path) -> None:
    err = data_error(write(tmp_path, b"EU B-ORG\n\nbad \xff\xfe O\n"), 3)
    assert err.expected == "UTF-8 text" and "0xff" in (err.got or "")


def test_error_ragged_columns(tmp_path: Path) -> None:
    err = data_error(write(tmp_path, "\nEU NNP B-ORG\nrejects VBZ O\n\nx O\n"), 5)
    assert err.expected == "3 columns like line 2" and err.got == "2 columns"


def test_error_missing_tag(tmp_path: Path) -> None:
    err = data_error(write(tmp_path, "\nEU\nrejects\n"), 2)
    assert "a tag in column -1" in err.message
    data_error(write(tmp_path, "EU B-ORG\n", "two.txt"), 1, tag_col=2)
    data_error(write(tmp_path, "EU B-ORG\n", "tok.txt"), 1, token_col=5, require_tags=False)


def test_error_empty_file_or_no_tokens(tmp_path: Path) -> None:
    assert "at least one sentence" in data_error(write(tmp_path, b""), None).message
    err = data_error(write(tmp_path, "-DOCSTART- -X- O\n\n\t\n \n", "blank.txt"), None)
    assert err.got == "no tokens"


def test_error_bad_tag(tmp_path: Path) -> None:
    for n, bad in enumerate(["PER", "X-PER", "B-", "o"]):
        err = data_error(write(tmp_path, f"EU NNP O\nrejects VBZ {bad}\n", f"t{n}.txt"), 2)
        assert err.got == repr(bad)


def test_error_missing_file(tmp_path: Path) -> None:
    data_error(tmp_path / "nope.txt", None)


# --- writing and round trips --------------------------------------------------------------------------------


def test_write_conll_format() -> None:
    out = io.StringIO()
    write_conll([(["EU", "rejects"], ["B-ORG", "O"]), ([], []), (("x",), ("O",))], out)
    assert out.getvalue() == "EU B-ORG\nrejects O\n\nx O\n\n"


def test_write_conll_refuses_what_cannot_be_read_back() -> None:
    with pytest.raises(ValueError, match="2 tokens but 1 tags"):
        write_conll([(["a", "b"], ["O"])], io.StringIO())
    for words in (["a b"], ["a\tb"], [""], ["a\n"]):
        with pytest.raises(ValueError, match="whitespace"):
            write_conll([(words, ["O"])], io.StringIO())


TOKEN = st.text(
    st.characters(blacklist_characters=" \t\r\n", blacklist_categories=("Cs",)), min_size=1, max_size=6
)
TOKEN = TOKEN.filter(lambda t: t[0] not in "#\ufeff" and t != "-DOCSTART-" and t.strip() != "")
TAG = st.sampled_from(["O", "B-PER", "I-PER", "E-LOC", "S-A-B", "U-X", "L-Y"])


@st.composite
def documents(draw: st.DrawFn) -> list[tuple[list[str], list[str]]]:
    sentences = []
    for n in draw(st.lists(st.integers(1, 5), min_size=1, max_size=5)):
        sentences.append(
            (draw(st.lists(TOKEN, min_size=n, max_size=n)), draw(st.lists(TAG, min_size=n, max_size=n)))
        )
    return sentences


@settings(max_examples=200, deadline=None)
@given(documents(), st.booleans())
def test_write_then_read_gives_the_sentences_back(
    document: list[tuple[list[str], list[str]]], crlf: bool
) -> None:
    out = io.StringIO()
    write_conll(document, out)
    data = out.getvalue().encode()
    if crlf:
        data = data.replace(b"\n", b"\r\n")
    sentences = list(parse_conll_lines(io.BytesIO(data), "doc"))
    assert [(s.words, s.tags) for s in sentences] == document


FRAGMENTS = st.sampled_from(
    [
        b"a",
        b"O",
        b"B-X",
        b"I-",
        b"PER",
        b" ",
        b"\t",
        b"\n",
        b"\r\n",
        b"-DOCSTART-",
        b"#",
        b"\xff",
        b"\xef\xbb\xbf",
        b"\xc3",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(st.binary(max_size=60), st.lists(FRAGMENTS, max_size=25).map(b"".join)),
    st.booleans(),
    st.sampled_from([(0, -1), (1, 0), (0, 2), (-1, -2)]),
)
def test_any_bytes_give_sentences_or_a_data_error(
    data: bytes, require_tags: bool, cols: tuple[int, int]
) -> None:
    try:
        sentences = list(
            parse_conll_lines(
                io.BytesIO(data),
                "random",
                token_col=cols[0],
                tag_col=cols[1],
                require_tags=require_tags,
                keep_columns=True,
            )
        )
    except DataError as err:
        assert err.exit_code == 2 and err.message.startswith("random")
        return
    *body, last = sentences                 # with keep_columns, trailing -DOCSTART- lines come as a last, empty one
    assert all(s.words and len(s.words) == len(s.columns or []) for s in body)
    assert (last.words and len(last.words) == len(last.columns or [])) or (not last.words and last.docstarts)
    assert all(len(s.tags) == (len(s.words) if require_tags else 0) for s in sentences)


# --- real data ---------------------------------------------------------------------------------------------


@pytest.mark.skipif(not DATA.is_dir(), reason="CoNLL-2003 not found in ../shared/data/conll2003")
@pytest.mark.parametrize(
    ("split", "n_sentences", "n_tokens"),
    [("train", 14041, 203621), ("dev", 3250, 51362), ("test", 3453, 46435)],
)
def test_real_conll2003_counts(split: str, n_sentences: int, n_tokens: int) -> None:
    sentences = list(read_conll(DATA / f"{split}.txt"))
    assert len(sentences) == n_sentences
    assert sum(len(s.words) for s in sentences) == n_tokens
    assert all(len(s.words) == len(s.tags) for s in sentences)
