"""Features from the whole document, which a window of 2w+1 words cannot see.

A document is a run of sentences: in CoNLL files, what lies between ``-DOCSTART-`` lines; for `ner tag`, see
`ner_cli.pipeline`. Two features, both computed for all documents of a corpus at once (vectorised):

- **Casing regime** (`caseless_documents`). A document with (almost) no word in Initcap or miXed case, such as
  an all-lowercase chat or an all-UPPERCASE headline block, says nothing with its casing. Its letter tokens get
  the casing category CASELESS instead of lower / allcaps / initcap / mixed (`apply_regime`), so the network
  learns when the casing feature can be trusted. Digits and punctuation keep their category.
- **Casing elsewhere** (`elsewhere_ids`). How the same word, lowercased, is cased at the document's *other*
  informative positions: not sentence-initial, in a sentence with at least one lowercase word (so not an
  all-caps headline). "Bank" opening a sentence is a name if the article writes "Bank" mid-sentence and a
  common noun if it writes "bank". One of ELSEWHERE per token; every token of a caseless document gets
  CASELESS_DOC.
"""

from __future__ import annotations

import numpy as np

from .casing import ALLCAPS, BASE_CASE, CASELESS, COMPOUND_CASELESS, COMPOUND_LOWER, INITCAP, LOWER, MIXED

ELSEWHERE = ("<pad>", "unseen", "lower", "capitalised", "allcaps", "mixed", "caseless-doc")
PAD_ELSEWHERE, UNSEEN, EL_LOWER, EL_CAP, EL_ALLCAPS, EL_MIXED, CASELESS_DOC = range(len(ELSEWHERE))
CASELESS_SHARE = 0.02        # a document is caseless when at most this share of its letter tokens is Xxx/xX
_LETTER_CASES = np.array([LOWER, ALLCAPS, INITCAP, MIXED])


def token_docs(lengths: np.ndarray, docs: np.ndarray | None) -> np.ndarray:
    """(N,) document index of every token, from sentence lengths (S,) and the sentences' documents (S,): any
    integer ids, renumbered 0..D-1 (memory follows the number of documents, not the ids). Without `docs`, each
    sentence is its own document."""
    if docs is None:
        return np.repeat(np.arange(len(lengths)), lengths)
    docs = np.asarray(docs)
    if docs.shape != np.shape(lengths) or (docs.size and docs.dtype.kind not in "iu"):
        raise ValueError(f"docs must hold one integer document id per sentence ({len(lengths)}), got "
                         f"{docs.dtype} {docs.shape}")
    return np.repeat(np.unique(docs, return_inverse=True)[1].reshape(-1), lengths)


def caseless_documents(cases: np.ndarray, tok_doc: np.ndarray) -> np.ndarray:
    """(n_docs,) bool: at most CASELESS_SHARE of the document's letter tokens are Initcap or miXed."""
    n_docs = int(tok_doc.max()) + 1 if len(tok_doc) else 0
    cases = BASE_CASE[cases]                                     # a compound counts by its capitals
    letters = np.bincount(tok_doc, weights=np.isin(cases, _LETTER_CASES), minlength=n_docs)
    titled = np.bincount(tok_doc, weights=(cases == INITCAP) | (cases == MIXED), minlength=n_docs)
    return titled <= CASELESS_SHARE * letters


def apply_regime(cases: np.ndarray, tok_doc: np.ndarray) -> np.ndarray:
    """Casing ids (N,) with the letter tokens of caseless documents set to CASELESS (COMPOUND_CASELESS for a
    compound's category)."""
    base = BASE_CASE[cases]
    flat = np.isin(base, _LETTER_CASES) & caseless_documents(base, tok_doc)[tok_doc]
    return np.where(flat, np.where(cases >= COMPOUND_LOWER, COMPOUND_CASELESS, CASELESS), cases).astype(cases.dtype)


def elsewhere_ids(keys: np.ndarray, cases: np.ndarray, lengths: np.ndarray, tok_doc: np.ndarray) -> np.ndarray:
    """(N,) int8 ELSEWHERE id of each token.

    keys: (N,) int id of each token's lowercased form (equal forms, equal ids); cases: (N,) casing ids as
    `word_case` gives them (before `apply_regime`); lengths: (S,) tokens per sentence; tok_doc: (N,) documents.
    """
    N = len(keys)
    if N == 0:
        return np.zeros(0, dtype=np.int8)
    cases = BASE_CASE[cases]                                     # a compound counts by its capitals
    sent = np.repeat(np.arange(len(lengths)), lengths)                         # (N,) sentence of each token
    first = np.zeros(N, dtype=bool)
    first[np.cumsum(lengths)[:-1][lengths[1:] > 0]] = True
    first[0] = True
    has_lower = np.bincount(sent, weights=cases == LOWER, minlength=len(lengths)) > 0
    kind = np.select([cases == LOWER, (cases == INITCAP) | (cases == MIXED), cases == ALLCAPS], [0, 1, 2], -1)
    informative = (kind >= 0) & ~first & has_lower[sent]
    # one group per (document, word): counts of lower / capitalised / allcaps at informative positions
    pair = tok_doc.astype(np.int64) * (int(keys.max()) + 1) + keys
    _, group = np.unique(pair, return_inverse=True)
    slots = group * 3 + np.where(informative, kind, 0)
    counts = np.bincount(slots, weights=informative, minlength=(int(group.max()) + 1) * 3).reshape(-1, 3)
    other = counts[group]                                                      # (N, 3)
    other[np.arange(N)[informative], kind[informative]] -= 1                   # elsewhere: not this token
    seen = other > 0
    n_kinds = seen.sum(axis=1)
    out = np.where(n_kinds == 0, UNSEEN, np.where(n_kinds > 1, EL_MIXED, EL_LOWER + seen.argmax(axis=1)))
    out[caseless_documents(cases, tok_doc)[tok_doc]] = CASELESS_DOC
    return out.astype(np.int8)
