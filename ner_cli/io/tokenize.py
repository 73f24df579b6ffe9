"""Fast raw-text tokenizer and sentence splitter (CoNLL-2003 / Penn Treebank conventions).

`tokenize(text)` returns parallel lists ``(tokens, starts, ends)`` with ``text[s:e] == tok``
for every token, whatever the input (emoji, CJK, control characters, lone surrogates from
``surrogateescape``, very long lines). Whitespace means ``str.isspace()`` (the same set as
``\\s`` in ``re`` and ``str.split()``); it separates tokens and is never inside one, and every
other character ends up in exactly one token.

Conventions:

* URLs (``http://``, ``https://``, ``ftp://``, ``www.``) stay whole, minus trailing punctuation.
* Abbreviations from `ABBREVIATIONS` keep their period (``Mr.``, ``Inc.``, ``vs.``, ``Ph.D.``),
  ``No.`` only before a number; dotted letter sequences stay whole (``U.S.``, ``e.g.``,
  ``a.m.``); a single capital initial keeps its period before a capitalised word (``J. Smith``).
* PTB clitics are split off: ``Blackburn's`` -> ``Blackburn 's``, ``don't`` -> ``do n't``
  (also ``'re 've 'll 'd 'm``, either apostrophe, any case). Other apostrophes between
  letters stay inside the word (``O'Neill``).
* Words are runs of word characters (``\\w`` plus BMP combining marks and ZWJ/ZWNJ;
  astral-plane marks start a new token); they stay together across inner hyphens (``Anglo-French``, ``1996-08-22``) and,
  between digits, across ``. , : /`` (``1,000.50``, ``3:30``, ``1/2``). A word may continue
  into an e-mail address (``jane.doe@example.com``).
* Runs ``...``, ``--``, two single quotes and two backticks are one token; any other character is its own token
  (combining marks, skin tones and emoji ZWJ sequences stay attached; a flag is one token).

`split_sentences(text)` returns ``(start, end)`` spans of the sentences of a paragraph; it
only splits at whitespace, so every span is a whole number of tokens.

The tokenizer is one compiled regex run with ``findall``; offsets are rebuilt from the token lengths and
the positions of the non-whitespace characters (`token_offsets`).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain, compress

import numpy as np

__all__ = ["ABBREVIATIONS", "TokenizedChunk", "split_sentences", "tokenize", "tokenize_chunk", "tokenize_lines"]

_ABBREVIATION_LIST = """Mr Mrs Ms Messrs Dr Prof St Mt Ft Jr Sr Sen Rep Gov Gen Col Lt Capt Sgt Cmdr Adm Rev
    Hon Inc Ltd Corp Co Bros Dept Univ Ave Blvd Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec
    vs etc approx cf al Ph.D e.g i.e a.m p.m"""
ABBREVIATIONS: frozenset[str] = frozenset(_ABBREVIATION_LIST.split())
"""Words that keep a following period (stored without it), case-sensitive."""

_UPPER = "A-ZÀ-ÖØ-Þ"
_CLOSERS = "\"'”’»)\\]}"
_OPENERS = "\"'“‘«([{"


def _mark_classes() -> tuple[str, str]:
    """Class bodies (BMP, astral) of characters that attach to the preceding character.

    They are kept apart because a class with astral ranges is matched range by range, while a
    BMP-only class compiles to a fast bitmap: only the BMP part is used inside words.
    """
    ranges = mark_ranges() + [(0x200C, 0x200D), (0x1F3FB, 0x1F3FF), (0xE0020, 0xE007F)]
    bodies = ["", ""]
    for a, b in ranges:
        bodies[a > 0xFFFF] += chr(a) if a == b else f"{chr(a)}-{chr(b)}"
    return bodies[0], bodies[1]


def mark_ranges() -> list[tuple[int, int]]:
    """(first, last) code point ranges of the combining marks (categories Mn, Mc, Me) in planes 0, 1 and 14 of
    this Python's Unicode database: the stored table `_marks.MARK_RANGES` when it has this Unicode version
    (scanning 135,000 code points costs ~30 ms of start-up), else `scan_mark_ranges`."""
    from ._marks import MARK_RANGES

    stored = MARK_RANGES.get(unicodedata.unidata_version)
    if stored is None:
        return scan_mark_ranges()
    return [(int(a, 16), int(b or a, 16)) for a, _, b in (r.partition("-") for r in stored.split())]


def scan_mark_ranges() -> list[tuple[int, int]]:
    """`mark_ranges` from unicodedata, code point by code point (and what `_marks.py` stores)."""
    ranges: list[list[int]] = []
    limits = (range(0x20000), range(0xE0000, 0xE1000)) if sys.maxunicode > 0xFFFF else (range(0x10000),)
    for cp in chain.from_iterable(limits):
        if unicodedata.category(chr(cp)) in ("Mn", "Mc", "Me"):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    return [(a, b) for a, b in ranges]


def _trie_regex(words: list[str]) -> str:
    """A regex alternation matching exactly `words`, factored as a trie (faster to try)."""
    branches: dict[str, list[str]] = {}
    for word in words:
        if word:
            branches.setdefault(word[0], []).append(word[1:])
    alts = [re.escape(c) + _trie_regex(rest) for c, rest in sorted(branches.items())]
    if not alts:
        return ""
    optional = "" in words
    body = alts[0] if len(alts) == 1 and not optional else "(?:" + "|".join(alts) + ")"
    return body + ("?" if optional else "")


def _build_pattern(shortcuts: bool = True) -> re.Pattern[str]:
    """Compile the token regex; its one group is the token (the whitespace before it is matched, not kept).

    With `shortcuts`, two first alternatives take the commonest tokens at once: a run of ASCII letters and
    digits, or one ASCII punctuation mark, standing alone before whitespace (or the end). Every rule below gives
    such a run the same single token, so only the speed changes (a test compares both patterns).
    """
    bmp, astral = _mark_classes()
    w = rf"[\w{bmp}]"
    nw = rf"(?!{w})"
    letter = r"[^\W\d_]"
    clitic = "(?:[sdmSDM]|re|ve|ll|RE|VE|LL|Re|Ve|Ll)"
    join = rf"(?:[-\u2010\u2011]|(?<=\d)[.,:/](?=\d)|['’](?!(?:{clitic}|[tT]){nw}))"
    email = r"(?=[\w.+-]{0,64}@)(?:[.+-]\w+)*@[\w-]+(?:\.[\w-]+)+"
    fast = [r"[A-Za-z0-9]++(?=\s|\Z)", r"[,.;:!?()\[\]{}\"$%&*+=<>|~^#@/](?=\s|\Z)"] if shortcuts else []
    token = "|".join(
        fast + [
            r"(?:(?:https?|ftp)://|www\.)[^\s<>\"]*[^\s<>\".,;:!?'”’)\]}]",
            rf"{_trie_regex(sorted(ABBREVIATIONS))}\.",
            r"No(?:s)?\.(?=\s*\d)",
            rf"{letter}\.(?:(?:{letter}\.)+|(?<=[{_UPPER}]\.)(?=\s+[{_UPPER}]))",
            rf"{w}+(?:{join}{w}+)*(?:{email})?(?!['’][tT]{nw})",
            rf"(?<={w})(?:['’]{clitic}|[nN]['’][tT]){nw}",
            r"\.{2,}|-{2,}|''|``",
            r"[\U0001f1e6-\U0001f1ff]{2}",
            rf"\S(?:\u200d\S|[{bmp}]|(?=[\U00010000-\U0010ffff])[{astral}])*",
        ]
    )
    return re.compile(rf"(?<!\s)\s*+({token})")


_TOKEN_RE = _build_pattern()


_SPACE = np.zeros(0x3002, dtype=bool)
_SPACE[[*range(0x09, 0x0E), *range(0x1C, 0x21), 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F,
        0x205F, 0x3000]] = True
"""str.isspace() of every code point up to U+3000, the last whitespace character, then False (a test checks
both; listed rather than computed, which cost ~3 ms of start-up)."""


def tokenize(text: str) -> tuple[list[str], list[int], list[int]]:
    """Split `text` into (tokens, starts, ends); ends are exclusive and text[s:e] == token."""
    tokens = _TOKEN_RE.findall(text)
    starts, pos = [], 0
    for token in tokens:                       # only whitespace lies between pos and the token, none inside it
        pos = text.find(token, pos)
        starts.append(pos)
        pos += len(token)
    return tokens, starts, list(map(int.__add__, starts, map(len, tokens)))


def token_offsets(text: str, tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends exclusive) of `tokens`, the tokens of `text` in order, without a Python loop: every
    non-whitespace character is in exactly one token and no whitespace is, so token k covers the non-whitespace
    characters cum_{k-1} .. cum_k - 1 of the text (cum: running sum of the token lengths)."""
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    solid = np.flatnonzero(~_SPACE[np.minimum(codes, len(_SPACE) - 1)])   # where the non-whitespace characters are
    cum = np.cumsum(np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens)))
    if len(tokens) == 0:
        return cum, cum
    return solid[cum - np.diff(cum, prepend=0)], solid[cum - 1] + 1


# Lines joined by this separator tokenize exactly as they do one by one: it is whitespace around a
# character that becomes its own token, so no rule (look-ahead, clitic, URL, ZWJ run) can see across it.
_SEP_CHAR = "\x00"
_LINE_SEP = f"\n{_SEP_CHAR}\n"


@dataclass
class TokenizedChunk:
    """The tokens of a batch of lines, flat: line i holds tokens[offsets[i]:offsets[i + 1]].

    ``starts``/``ends`` (int64 arrays, one entry per token) are character offsets into the token's own line,
    end exclusive, so ``lines[i][starts[k]:ends[k]] == tokens[k]``.
    """

    tokens: list[str]
    starts: np.ndarray
    ends: np.ndarray
    counts: np.ndarray                     # (n_lines,) tokens per line

    @property
    def offsets(self) -> np.ndarray:
        return np.concatenate(([0], np.cumsum(self.counts))).astype(np.int64)


def tokenize_chunk(lines: Sequence[str]) -> TokenizedChunk:
    """Tokenize a batch of lines with one regex pass and no Python work per line or per token.

    The lines are joined by a separator that tokenizes as one token of its own and that no rule can see across;
    token offsets come from `token_offsets`, and the separator tokens are found from their known positions.
    """
    text = _LINE_SEP.join(lines)
    if text.count(_SEP_CHAR) != len(lines) - 1:                   # the separator occurs in the input itself
        per_line = [tokenize(line) for line in lines]
        return TokenizedChunk([t for toks, _, _ in per_line for t in toks],
                              np.fromiter((s for _, st, _ in per_line for s in st), dtype=np.int64),
                              np.fromiter((e for _, _, en in per_line for e in en), dtype=np.int64),
                              np.fromiter((len(toks) for toks, _, _ in per_line), dtype=np.int64, count=len(lines)))
    tokens = _TOKEN_RE.findall(text)
    starts, ends = token_offsets(text, tokens)                    # global offsets of every token
    line_lens = np.fromiter(map(len, lines), dtype=np.int64, count=len(lines))
    line_starts = np.concatenate(([0], np.cumsum(line_lens + len(_LINE_SEP))[:-1]))
    seps = np.searchsorted(starts, line_starts[1:] - 2)           # token index of each separator ("\n\0\n")
    keep = np.ones(len(starts), dtype=bool)
    keep[seps] = False
    counts = np.diff(np.concatenate(([-1], seps, [len(starts)]))) - 1
    line_of = np.repeat(np.arange(len(lines)), counts)
    tokens = list(compress(tokens, keep.tolist()))
    first = line_starts[line_of]
    return TokenizedChunk(tokens, starts[keep] - first, ends[keep] - first, counts)


def tokenize_lines(lines: Sequence[str], offsets: bool = True) -> list[tuple[list[str], list[int], list[int]]]:
    """``[tokenize(line) for line in lines]``, through `tokenize_chunk` (one regex pass over the whole batch).

    With ``offsets=False`` the starts and ends lists are left empty (for callers that need only the tokens).
    """
    chunk = tokenize_chunk(lines)
    bounds = chunk.offsets.tolist()
    starts, ends = (chunk.starts.tolist(), chunk.ends.tolist()) if offsets else ([], [])
    return [(chunk.tokens[a:b], starts[a:b], ends[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


_BOUNDARY_RE = re.compile(rf"(?<![.!?])[.!?]++[{_CLOSERS}]*+(\s+)")
_DOTTED_RE = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")
_NOT_WORD_OR_DOT_RE = re.compile(r"[^\w.]")


def _word_before(text: str, end: int) -> str:
    """The run of word characters and dots ending at `end` (empty after whitespace)."""
    chunk = text[max(0, end - 40) : end]
    if not chunk or chunk[-1].isspace():
        return ""
    return _NOT_WORD_OR_DOT_RE.split(chunk.split()[-1])[-1]


def _keeps_period(word: str, next_char: str) -> bool:
    """True if a period after `word` belongs to an abbreviation or initial, not a sentence end.

    Errs towards keeping: the tokenizer must never see a sentence cut right after a period it
    would have attached to an initial (``J.``) or to ``No.`` before a number.
    """
    if word in ABBREVIATIONS or _DOTTED_RE.fullmatch(word):
        return True
    if word[-1:].isupper() and (len(word) == 1 or not word[-2].isalnum()):
        return True
    return word.endswith(("No", "Nos")) and next_char.isdigit()


def _is_boundary(text: str, m: re.Match[str]) -> bool:
    """Decide whether the punctuation + whitespace match `m` ends a sentence."""
    nxt = m.end()
    if nxt >= len(text):
        return False
    c = text[nxt]
    if not (c.isupper() or c.isdigit() or c in _OPENERS):
        return False
    punct_end = m.start(1)
    if text[m.start() : punct_end].rstrip(_CLOSERS) != ".":
        return True
    return not _keeps_period(_word_before(text, m.start()), c)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences in `text`, stripped of surrounding whitespace."""
    body_end = len(text.rstrip())
    start = len(text) - len(text.lstrip())
    if start >= body_end:
        return []
    spans: list[tuple[int, int]] = []
    for m in _BOUNDARY_RE.finditer(text, start, body_end):
        if _is_boundary(text, m):
            spans.append((start, m.start(1)))
            start = m.end()
    spans.append((start, body_end))
    return spans
