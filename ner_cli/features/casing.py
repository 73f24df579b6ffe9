"""The casing feature: one small category per word, so a lowercase embedding still sees capitalisation.

GloVe's vocabulary is lowercase; "Paris" and "paris" share a vector. Each token therefore also gets one of
these categories, embedded by its own small matrix K and concatenated into the window vector.
`word_case` never returns CASELESS: that category is given by `features.document.apply_regime` to the letter
tokens of a document written without case contrast (all lowercase or all uppercase).

Hyphenated compounds (`compound_parts`: "Ontario-based", "ex-Milan", "Jean-Michel") have categories of their
own when a model asks for them (`model.compounds`): CoNLL-2003 tags most capitalised compounds MISC, which
the whole-word categories (initcap, mixed) cannot tell from a name. `compound_case` gives them from the
capitals of the parts; `head_part` picks the part a model in "part" mode reads the word through.
"""

from __future__ import annotations

import re

import numpy as np

CASES = ("<pad>", "lower", "allcaps", "initcap", "numeric", "hasdigit", "noletters", "mixed", "caseless",
         "compound-lower", "compound-allcaps", "compound-capitalised", "compound-later-capital", "compound-caseless")
(PAD_CASE, LOWER, ALLCAPS, INITCAP, NUMERIC, HASDIGIT, NOLETTERS, MIXED, CASELESS,
 COMPOUND_LOWER, COMPOUND_ALLCAPS, COMPOUND_CAPITALISED, COMPOUND_LATER, COMPOUND_CASELESS) = range(len(CASES))
N_PLAIN_CASES = COMPOUND_LOWER        # a model without compound categories has ids 0..8 only
# the plain category each one reads as where only the case counts (document.py): compounds by their capitals
BASE_CASE = np.array([*range(N_PLAIN_CASES), LOWER, ALLCAPS, INITCAP, MIXED, CASELESS], dtype=np.int8)
_HYPHENS = re.compile("[-\u2010\u2011]")
COMPOUNDS = ("none", "case", "part")  # model.compounds: nothing; their own casing ids; ids + read through a part


def n_cases(case_regime: bool, compounds: str) -> int:
    """Rows of K a model needs: every category its featurizer can give."""
    return len(CASES) if compounds != "none" else N_PLAIN_CASES if case_regime else CASELESS


def word_case(word: str) -> int:
    """Category id of one word (index into CASES), compounds not told apart."""
    if word.isdigit() or word.replace(".", "", 1).replace(",", "").isdigit():
        return NUMERIC
    if any(c.isdigit() for c in word):
        return HASDIGIT
    letters = [c for c in word if c.isalpha()]
    if not letters:
        return NOLETTERS
    if all(c.islower() for c in letters):
        return LOWER
    if all(c.isupper() for c in letters):
        return ALLCAPS
    if letters[0].isupper() and all(c.islower() for c in letters[1:]):
        return INITCAP
    return MIXED


def compound_parts(word: str) -> list[str] | None:
    """The parts of a hyphenated compound: 2+ pieces between hyphens (-, U+2010 or U+2011, as the tokenizer
    joins them), each with a letter and no digit ("Ontario-based", "ex-Milan"); None for any other word ("1-0",
    "F-14", "long--", "-DOCSTART-")."""
    if "-" not in word and "\u2010" not in word and "\u2011" not in word:
        return None
    parts = _HYPHENS.split(word)
    if len(parts) < 2 or not all(any(c.isalpha() for c in p) and not any(c.isdigit() for c in p) for p in parts):
        return None
    return parts


def compound_case(parts: list[str]) -> int:
    """Category of a compound from its parts' capitals: all lower, all caps, the first part capitalised
    ("Ontario-based", "Jean-Michel"), or only a later one ("ex-Milan", "al-Aqsa")."""
    letters = [c for p in parts for c in p if c.isalpha()]
    if all(c.islower() for c in letters):
        return COMPOUND_LOWER
    if all(c.isupper() for c in letters):
        return COMPOUND_ALLCAPS
    if _first_letter(parts[0]).isupper():
        return COMPOUND_CAPITALISED
    return COMPOUND_LATER


def head_part(parts: list[str]) -> str:
    """The part a compound is read through: the last, its head in English ("based" of "Ontario-based", "Milan"
    of "ex-Milan"); CoNLL-2003's tag of a compound follows it (X-based, X-led, X-born are MISC)."""
    return parts[-1]


def _first_letter(part: str) -> str:
    return next(c for c in part if c.isalpha())
