"""Tests for ner_cli.io.tokenize: offset invariants (hypothesis), PTB/CoNLL conventions, sentence splitting."""

from __future__ import annotations

import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ner_cli.io.tokenize import split_sentences, tokenize

CRAFTED = [
    "",
    " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000",
    "👨\u200d👩\u200d👧 🇺🇸🇫🇷 👍🏽 ❤️ 1️⃣ 🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
    "مرحبا بالعالم עברית שלום \u200f\u200e\u202b\u202c",
    "北京是中国的首都。東京タワー、한국어！",
    "\x00\x01\x07\x08\x1b[31m\x7f\u200b\ufeff\u2060",
    "cafe\u0301 nai\u0308ve \u0301\u0301 a\u20dd x\U000e0100",
    "\udc80\udcff abc\udcfe \ud800",
    "don't.'s n't ''''' ```` ... -- ---- ..... U.S.A. No. 5 ",
    "http://x www. https://a.b/c?d=(e). mail@ a@b a@b.c @@ ..@..",
    "a.b.c.d.e@" + "x" * 500,
    "word" * 30000,
    ". " * 50000,
    "ab.cd." * 20000,
    "a." * 50000,
    ".!?" * 30000,
    "don't " * 10000,
    "\u0301" * 50000,
]


def check_invariants(text: str) -> None:
    """Every token slices back, is non-empty and space-free, in order; all non-space is covered."""
    tokens, starts, ends = tokenize(text)
    assert len(tokens) == len(starts) == len(ends)
    covered = bytearray(len(text))
    prev_end = 0
    for tok, s, e in zip(tokens, starts, ends, strict=True):
        assert text[s:e] == tok
        assert tok and s < e and s >= prev_end
        assert not any(c.isspace() for c in tok)
        covered[s:e] = b"\x01" * (e - s)
        prev_end = e
    missing = [i for i, c in enumerate(text) if not covered[i] and not c.isspace()]
    assert not missing, f"uncovered characters at {missing[:10]}"


any_text = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=sys.maxunicode), max_size=200)
PIECES = [
    *"aAzZ09 .,:;-'’\"!?()[]@/+_`$%\t\n\u00a0\u0301\u200d😀🇺🇸\U0001f3fbéÉ",
    "Mr",
    "Mrs",
    "U",
    "S",
    "n't",
    "'s",
    "http://",
    "www.",
    "No",
    "Inc",
    "e.g",
    "...",
]
tricky_text = st.lists(st.sampled_from(PIECES), max_size=60).map("".join)


@given(any_text)
@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
def test_invariants_arbitrary_unicode(text: str) -> None:
    check_invariants(text)


@given(tricky_text)
@settings(max_examples=500)
def test_invariants_tricky_alphabet(text: str) -> None:
    check_invariants(text)


@pytest.mark.parametrize("text", CRAFTED, ids=range(len(CRAFTED)))
def test_invariants_crafted(text: str) -> None:
    check_invariants(text)


def test_surrogateescape_input() -> None:
    text = b"caf\xe9 na\xefve \xff\xfe ok".decode("utf-8", "surrogateescape")
    check_invariants(text)
    assert tokenize(text)[0][-1] == "ok"


@pytest.mark.parametrize("text", ["ab.cd." * 20000, ".!?" * 30000, "a@" * 50000, "A. " * 30000, "x'" * 50000])
def test_long_lines_are_linear(text: str) -> None:
    t0 = time.process_time()
    tokenize(text)
    split_sentences(text)
    assert time.process_time() - t0 < 2.0


def toks(text: str) -> list[str]:
    return tokenize(text)[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The U.S. economy", ["The", "U.S.", "economy"]),
        ("It cost 1,000.50 dollars.", ["It", "cost", "1,000.50", "dollars", "."]),
        ("LONDON 1996-08-22 at 3:30", ["LONDON", "1996-08-22", "at", "3:30"]),
        ("an Anglo-French deal", ["an", "Anglo-French", "deal"]),
        ("Blackburn's win", ["Blackburn", "'s", "win"]),
        ("I don't know", ["I", "do", "n't", "know"]),
        ("they're we've you'll he'd I'm", ["they", "'re", "we", "'ve", "you", "'ll", "he", "'d", "I", "'m"]),
        ("CAN'T can’t", ["CA", "N'T", "ca", "n’t"]),
        ("O'Neill scored", ["O'Neill", "scored"]),
        ("the players' union", ["the", "players", "'", "union"]),
        ("Wait... what -- no", ["Wait", "...", "what", "--", "no"]),
        ('He said "yes."', ["He", "said", '"', "yes", ".", '"']),
        ("(see [1] {x})", ["(", "see", "[", "1", "]", "{", "x", "}", ")"]),
        ("Mr. Smith of Acme Inc. and Dr. Jones", ["Mr.", "Smith", "of", "Acme", "Inc.", "and", "Dr.", "Jones"]),
        ("e.g. this vs. that", ["e.g.", "this", "vs.", "that"]),
        ("J. Smith arrived", ["J.", "Smith", "arrived"]),
        ("It ended.", ["It", "ended", "."]),
        ("in 1996.", ["in", "1996", "."]),
        ("No. 5 said no.", ["No.", "5", "said", "no", "."]),
        ("a,b;c:d!?", ["a", ",", "b", ";", "c", ":", "d", "!", "?"]),
        ("up 3.5% to $12", ["up", "3.5", "%", "to", "$", "12"]),
        ("See https://example.com/a?b=1.", ["See", "https://example.com/a?b=1", "."]),
        ("Mail jane.doe+x@example.co.uk, now", ["Mail", "jane.doe+x@example.co.uk", ",", "now"]),
        ("the 1990s", ["the", "1990s"]),
        ("café naïve", ["café", "naïve"]),
        ("cafe\u0301!", ["cafe\u0301", "!"]),
        ("hi 👨\u200d👩\u200d👧 🇺🇸!", ["hi", "👨\u200d👩\u200d👧", "🇺🇸", "!"]),
        ("``Hi''", ["``", "Hi", "''"]),
        ("a\u00a0b\u3000c", ["a", "b", "c"]),
    ],
)
def test_conventions(text: str, expected: list[str]) -> None:
    assert toks(text) == expected


def test_offsets_example() -> None:
    tokens, starts, ends = tokenize("  Blackburn's  win.")
    assert tokens == ["Blackburn", "'s", "win", "."]
    assert starts == [2, 11, 15, 18]
    assert ends == [11, 13, 18, 19]


def sents(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mr. Smith went to Washington. He left.", ["Mr. Smith went to Washington.", "He left."]),
        ("J. R. R. Tolkien wrote it.", ["J. R. R. Tolkien wrote it."]),
        ("The U.S. Army won. Then it rained!", ["The U.S. Army won.", "Then it rained!"]),
        ('He said "Stop." Then he left? Yes.', ['He said "Stop."', "Then he left?", "Yes."]),
        ("Prices rose 3.5 percent. 2 firms fell.", ["Prices rose 3.5 percent.", "2 firms fell."]),
        ("It was cold. and wet.", ["It was cold. and wet."]),
        ("He joined Acme Inc. Later he left.", ["He joined Acme Inc. Later he left."]),
        ("See No. 5 now. (Done.) Ok", ["See No. 5 now.", "(Done.)", "Ok"]),
        ("Wait... What?", ["Wait...", "What?"]),
        ("  padded.   Text  ", ["padded.", "Text"]),
        ("No boundary here", ["No boundary here"]),
        ("Plan .A. Next", ["Plan .A. Next"]),
        ("Is it No. 7? Yes", ["Is it No. 7?", "Yes"]),
        ("", []),
        ("   \t ", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert sents(text) == expected


@given(tricky_text | any_text)
@settings(max_examples=300)
def test_split_sentences_cover_all_non_space(text: str) -> None:
    spans = split_sentences(text)
    prev = 0
    for a, b in spans:
        assert prev <= a < b <= len(text)
        assert text[a:b] == text[a:b].strip()
        assert text[prev:a].strip() == ""
        prev = b
    assert text[prev:].strip() == ""
    joined = "".join(text[a:b] for a, b in spans)
    assert "".join(joined.split()) == "".join(text.split())


@given(tricky_text)
@settings(max_examples=300)
def test_sentences_are_whole_tokens(text: str) -> None:
    """Tokenizing each sentence alone gives the same tokens as tokenizing the paragraph."""
    whole = set(zip(*tokenize(text)[1:], strict=True))
    for a, b in split_sentences(text):
        _, starts, ends = tokenize(text[a:b])
        for s, e in zip(starts, ends, strict=True):
            assert (s + a, e + a) in whole


def test_stored_mark_ranges_are_a_scan_of_this_unicode_version():
    """The combining-mark table stored for start-up speed (io/_marks.py) is what unicodedata says."""
    import unicodedata

    from ner_cli.io._marks import MARK_RANGES
    from ner_cli.io.tokenize import mark_ranges, scan_mark_ranges

    if unicodedata.unidata_version not in MARK_RANGES:
        pytest.skip(f"no stored table for Unicode {unicodedata.unidata_version}: it is scanned")
    assert mark_ranges() == scan_mark_ranges()


def test_no_whitespace_beyond_the_table_token_offsets_uses():
    """token_offsets finds whitespace with a table up to U+3000: no character past it is whitespace."""
    import sys

    from ner_cli.io.tokenize import _SPACE

    assert _SPACE[-1] == False and _SPACE[0x3000]                  # noqa: E712 (numpy bools)
    assert _SPACE[:-1].tolist() == [chr(c).isspace() for c in range(len(_SPACE) - 1)]
    assert not any(chr(c).isspace() for c in range(len(_SPACE) - 1, sys.maxunicode + 1))


@given(st.lists(any_text | tricky_text | st.just("caf\udce9 na\udcef\udcffve \U0001f600\u3000x"), max_size=5))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_chunk_tokenizer_equals_line_by_line_on_any_text(lines: list[str]) -> None:
    """tokenize_chunk (one regex pass, offsets from token_offsets) gives every line's `tokenize`, whatever the
    characters (astral, lone surrogates, every kind of whitespace)."""
    from ner_cli.io.tokenize import tokenize_chunk

    lines = [line.replace("\x00", "") for line in lines]           # (a NUL makes it tokenize line by line)
    chunk = tokenize_chunk(lines)
    bounds = chunk.offsets.tolist()
    for i, line in enumerate(lines):
        a, b = bounds[i], bounds[i + 1]
        assert (chunk.tokens[a:b], chunk.starts[a:b].tolist(), chunk.ends[a:b].tolist()) == tokenize(line)
