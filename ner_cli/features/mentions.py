"""Two-pass document feature: what a first pass predicted for the OTHER mentions of the same word in the document.

Ratinov & Roth (2009) call it "extended prediction history", Krishnan & Manning (2006) a two-stage non-local
feature: "Clinton" after "Mr." is plainly a person, and that helps the mention of "Clinton" in a headline or a
list where its window says nothing. The window network sees 2w+1 words; this feature gives it, for every token,
a summary of the first pass's entity types over the other occurrences of its lowercased form in its document.

**The feature.** For token t of word v (lowercased) in document d, count the first-pass types (O or one of the
model's entity types) of every OTHER token of v in d (t itself excluded). One id per token (`mention_ids`):

    <pad>     outside the sentence (window padding)
    blank     not computed: the first pass itself, and the training documents chosen to teach it
    none      v occurs nowhere else in d
    O         every other mention was predicted O
    T-most    the most frequent entity type among the others is T, and >= half of them are in an entity
    T-some    ... and fewer than half of them are in an entity

so 4 + 2 x (entity types) rows of a learned table M (`model.mention_dim` wide), one slot per window position,
concatenated into x like the casing and document tables (its gradient is `model.scatter_rows`, as for them).

**Tagging** (`ner tag`, `ner eval`, dev scoring in training: `Tagger.predict_ids`) runs the network twice over
each chunk: pass 1 with every id `blank`, then the ids above from pass 1's tags, then pass 2, whose tags are the
output. Both passes are the same vectorised code over the whole chunk; the groups (document, lowercased word)
are found once per chunk by the featurizer (`mention_groups`).

**Training without over-confidence.** The first pass's tags on the training documents would be ~99% right (the
network has seen them), so features made from them would teach pass 2 to trust pass 1 far more than it deserves
on new text. Training therefore uses the gold tags of the other mentions, corrupted at the rate a first pass
actually errs on unseen text (`training_ids`), and no extra pass over the training data is needed:

- an entity mention's type is replaced with probability `noise` (half of the time by O, half by another
  entity type: the default model's dev errors on entity tokens split 282 / 295 this way), an O mention's with
  probability `noise` / 30 by a random entity type (on dev the default model, seed 0, gets 6.7% of entity tokens
  and 0.18% of O tokens wrong: `model.mention_noise` 0.07);
- first-pass errors on one word repeat through a document (same word, same embedding), so half of that noise
  is drawn once per (document, word) group and applied to all its mentions, half per mention;
- a share `blank` of the training documents gets the id `blank` everywhere (`model.mention_blank`), so the
  same network learns to tag without the feature: that is pass 1.

The draws come from the training seed, once before the first epoch.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from .windows import make_windows

PAD_MENTION, BLANK, NONE, ALL_O = 0, 1, 2, 3
FIXED = ("<pad>", "blank", "none", "O")
O_NOISE_SHARE = 1 / 30        # O mentions are corrupted at noise / 30 (dev: 0.18% of O tokens vs 6.7% of entities)


def n_mention_ids(n_types: int) -> int:
    """Rows of M for a model with `n_types` entity types."""
    return len(FIXED) + 2 * n_types


def mention_names(types: list[str]) -> list[str]:
    """The name of each id, in id order (for tests and reports)."""
    return [*FIXED, *(f"{t}-{share}" for t in types for share in ("most", "some"))]


def mention_groups(keys: np.ndarray, tok_doc: np.ndarray) -> np.ndarray:
    """(N,) int64 group of each token: equal for tokens of the same lowercased form (`keys`) in the same document
    (`tok_doc`), numbered 0..G-1."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    pair = tok_doc.astype(np.int64) * (int(keys.max()) + 1) + keys
    return np.unique(pair, return_inverse=True)[1].reshape(-1).astype(np.int64)


def mention_ids(group: np.ndarray, types: np.ndarray, n_types: int) -> np.ndarray:
    """(N,) int8 id of each token from the types of the other tokens of its group.

    group: (N,) from `mention_groups`; types: (N,) 0 for O, 1..n_types for the entity types (first-pass tags or
    corrupted gold)."""
    N = len(group)
    if N == 0:
        return np.zeros(0, dtype=np.int8)
    K = n_types + 1
    counts = np.bincount(group * K + types, minlength=(int(group.max()) + 1) * K).reshape(-1, K)
    other = counts[group]                                                  # (N, K) the group's counts
    other[np.arange(N), types] -= 1                                        # minus the token itself
    total = other.sum(axis=1)
    in_entity = total - other[:, 0]
    top = other[:, 1:].argmax(axis=1) if n_types else np.zeros(N, dtype=np.int64)
    typed = len(FIXED) + 2 * top + (2 * in_entity < total)                 # T-most, or T-some
    out = np.where(total == 0, NONE, np.where(in_entity == 0, ALL_O, typed))
    return out.astype(np.int8)


def corrupt(types: np.ndarray, group: np.ndarray, n_types: int, noise: float,
            rng: np.random.Generator) -> np.ndarray:
    """Gold types (N,) with first-pass-like errors (see the module docstring): each token's rate is `noise` for an
    entity and noise x O_NOISE_SHARE for O; half of it drawn per group (all the group's mentions change together),
    half per token. A changed entity becomes O or another entity type with equal odds; a changed O a random
    entity type."""
    N = len(types)
    if N == 0 or n_types == 0 or noise <= 0:
        return types.copy()
    rate = np.where(types > 0, noise, noise * O_NOISE_SHARE)
    n_groups = int(group.max()) + 1
    per_group = rng.random(n_groups)[group] < rate / 2
    per_token = rng.random(N) < rate / 2
    flip = per_group | per_token
    # what a changed token becomes, from one uniform draw: per group for group flips (so they agree), else per token
    draw = np.where(per_group, rng.random(n_groups)[group], rng.random(N))
    entity = types > 0
    # an O: uniform over the entity types 1..n_types
    from_o = np.minimum((draw * n_types).astype(np.int64), n_types - 1) + 1
    # an entity: O when draw < 1/2 (or when there is no other type), else uniform over the n_types - 1 others
    others = max(n_types - 1, 1)
    k = np.minimum(((draw - 0.5) * 2 * others).astype(np.int64), others - 1) + 1       # 1..n_types-1
    other_type = k + (k >= types)                                                      # skipping the gold type
    from_entity = np.where((draw < 0.5) | (n_types == 1), 0, other_type)
    changed = np.where(entity, from_entity, from_o)
    return np.where(flip, changed, types).astype(types.dtype)


def training_ids(types: np.ndarray, group: np.ndarray, tok_doc: np.ndarray, n_types: int, noise: float,
                 blank: float, rng: np.random.Generator) -> np.ndarray:
    """(N,) int8 ids for the training corpus: `mention_ids` of the corrupted gold types, and `BLANK` in a random
    share `blank` of the documents."""
    ids = mention_ids(group, corrupt(types, group, n_types, noise, rng), n_types)
    if len(ids) and blank > 0:
        blank_doc = rng.random(int(tok_doc.max()) + 1) < blank
        ids[blank_doc[tok_doc]] = BLANK
    return ids


def with_first_pass(enc: Any, first: np.ndarray, type_of: np.ndarray, n_types: int, window: int) -> Any:
    """The encoded chunk `enc` (a `featurizer.Encoded` whose `mention_group` is set) for pass 2: its `mentions`
    windows made from the first pass's output ids `first` (N,), read as types through `type_of` (output id ->
    0 for O, 1..n_types); `mention_group` cleared, so no further pass is run on it."""
    ids = mention_ids(enc.mention_group, type_of[first], n_types)
    return replace(enc, mentions=make_windows(ids, window, PAD_MENTION, lengths=enc.lengths), mention_group=None)
