"""Case augmentation (Mayhew et al. 2019): lowercased and UPPERCASED copies of training documents.

A network trained on news learns that capitals mark names; on lowercase chat or all-caps headlines it then
finds almost nothing. Training on extra copies of some documents with every token lowercased (or uppercased),
tags unchanged, teaches it to recognise names from the words themselves as well.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..io.dataset import Corpus


def case_copies(corpus: Corpus, lower: float, upper: float, seed: int) -> Corpus:
    """The corpus followed by a lowercased copy of a random `lower` share of its documents and an uppercased
    copy of a random `upper` share (each drawn independently; shares are in [0, 1]). Copies are whole
    documents, so document features see a whole caseless document."""
    if lower <= 0 and upper <= 0:
        return corpus
    docs = np.asarray(corpus.docs if corpus.docs is not None else range(len(corpus.words)))
    n_docs = int(docs.max()) + 1 if len(docs) else 0
    rng = np.random.default_rng(seed)
    words, tags, lines, doc_ids = list(corpus.words), list(corpus.tags), list(corpus.lines), list(docs.tolist())
    copied: list[int] = []                                  # the sentence each copy is made from
    for share, change in ((lower, str.lower), (upper, str.upper)):
        chosen = rng.random(n_docs) < share
        for k in np.flatnonzero(chosen[docs]):
            words.append([change(w) for w in corpus.words[k]])
            tags.append(corpus.tags[k])
            copied.append(int(k))
            lines.append(corpus.lines[k])
            doc_ids.append(n_docs + int(docs[k]))           # a copy is a document of its own
        n_docs *= 2
    written = None if corpus.written is None else corpus.written + [corpus.written[k] for k in copied]
    return replace(corpus, words=words, tags=tags, lines=lines, docs=doc_ids, written=written)
