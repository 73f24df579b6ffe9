"""The casing feature: one small category per word, so a lowercase embedding still sees capitalisation.

GloVe's vocabulary is lowercase; "Paris" and "paris" share a vector. Each token therefore also gets one of
these categories, embedded by its own small matrix K and concatenated into the window vector.
`word_case` never returns CASELESS: that category is given by `features.document.apply_regime` to the letter
tokens of a document written without case contrast (all lowercase or all uppercase).
"""

from __future__ import annotations

CASES = ("<pad>", "lower", "allcaps", "initcap", "numeric", "hasdigit", "noletters", "mixed", "caseless")
PAD_CASE, LOWER, ALLCAPS, INITCAP, NUMERIC, HASDIGIT, NOLETTERS, MIXED, CASELESS = range(len(CASES))


def word_case(word: str) -> int:
    """Category id of one word (index into CASES)."""
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
