"""The word-window network of CS224N lecture 3 / Collobert et al. (2011), forward and backward by hand.

For the token at position t with window size w (the lecture's w = 2):

    x = [e(w_{t-w}); ...; e(w_t); ...; e(w_{t+w})]      (B, (2w+1)·(d + d_case + d_suffix))
                                                         E rows, plus casing rows K, suffix rows X,
                                                         document rows D, gazetteer rows G and the
                                                         character n-gram mean c(w) of Q (charbag.py)
    z = W x + b                                          (B, H)
    h = f(z)                                             (B, H)
    binary:      s = uᵀh                                 (B,)     "is the centre word of class C?"
    multi-class: S = U h + c ; ŷ = softmax(S)            (B, C)
    crf:         S = U h + c, scored as a sentence with transitions A (Collobert's sentence-level likelihood)

Backward, exactly as derived in the lecture (downstream gradient = upstream gradient × local gradient):

    δ = (∂J/∂h) ∘ f'(z)          for the binary score with ∂J/∂s = 1 this is δ = uᵀ ∘ f'(z)
    ∂J/∂W = δᵀ x     (the lecture's δᵀxᵀ per example, summed over the batch)
    ∂J/∂b = Σ δ
    ∂J/∂x = Wᵀ δ     scattered back into the rows of E (and K, X, D, G, Q) that formed each window

J is a MEAN over the batch's tokens (for the CRF: summed sentence losses divided by the token count), plus
(l2 / 2)·(‖W‖² + ‖U‖²). `ds`, `dS`, `dW`, `db`, `du`, `dU`, `dc`, `dx`, `dE` always mean ∂J/∂(that name).

`forward` mutates nothing; any dropout mask or corrupted window is drawn from `rng` and kept in the cache, so
`backward(params, cache)` is a pure function and finite differences with the same rng seed agree with it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .activations import ACTIVATIONS, RELU_FAMILY
from .charbag import CharBag, bag_backward, bag_forward
from .compiled import jit
from .decode import lengths_to_mask
from .helper import INLINE, Helper

Params = dict[str, np.ndarray]
LOSSES = {"multiclass": ("softmax", "crf"), "binary": ("logistic", "margin")}   # task -> its losses
# The lookup tables whose rows form x, in the order of their columns in each window slot, with the Batch field
# of their ids. Q is special: a slot's c(w) is the mean of its word's n-gram rows of Q (charbag.py), and its
# ids are word types of the batch's CharBag.
TABLES = (("E", "words"), ("K", "cases"), ("X", "suffixes"), ("D", "elsewhere"), ("G", "gazetteer"), ("Q", "chars"),
          ("M", "mentions"))


@dataclass(frozen=True)
class ModelSpec:
    """Everything that fixes the shapes and the maths of a model; stored in the model file."""

    vocab_size: int
    n_classes: int                 # C: number of tags (multi-class) or 1 (binary)
    window: int = 2                # w: tokens on each side of the centre word
    dim: int = 50                  # d: word-vector size
    case_dim: int = 0              # size of the casing embedding (0 = no casing feature)
    n_cases: int = 8
    suffix_dim: int = 0            # size of the word-suffix embedding (0 = no suffix feature)
    n_suffixes: int = 0            # rows of the suffix table X
    doc_dim: int = 0               # size of the "cased elsewhere in the document" embedding D (0 = off)
    n_doc: int = 0                 # rows of D
    gaz_dim: int = 0               # size of the gazetteer-match embedding G (0 = off)
    n_gaz: int = 0                 # rows of G
    char_dim: int = 0              # size of the character n-gram vector of each word (table Q; 0 = off)
    n_char_buckets: int = 0        # rows of Q (hashed n-grams)
    char_min_n: int = 2            # shortest n-gram
    char_max_n: int = 4            # longest n-gram (the whole word is one more)
    mention_dim: int = 0           # size of the first pass's "other mentions" embedding M (0 = off; mentions.py)
    n_mention: int = 0             # rows of M
    hidden: int = 300              # H
    activation: str = "relu"
    task: str = "multiclass"       # "multiclass" or "binary"
    loss: str = "softmax"          # multiclass: "softmax" | "crf"; binary: "logistic" | "margin"
    dropout_input: float = 0.0     # dropout on x
    dropout_hidden: float = 0.0    # dropout on h
    l2: float = 0.0

    @property
    def width(self) -> int:
        """Tokens per window, 2w + 1."""
        return 2 * self.window + 1

    @property
    def input_size(self) -> int:
        """Length of x: (2w+1)(d + d_case + d_suffix) — 5d for the lecture's w = 2 and no extra features."""
        return self.width * (self.dim + self.case_dim + self.suffix_dim + self.doc_dim + self.gaz_dim
                             + self.char_dim + self.mention_dim)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Batch:
    """A minibatch of tokens in sentence order. `lengths` (sentences) is needed only by the CRF loss."""

    words: np.ndarray                      # (B, 2w+1) int32 ids into E
    cases: np.ndarray | None = None        # (B, 2w+1) int ids into K
    targets: np.ndarray | None = None      # (B,) tag ids (multi-class) or 0/1 (binary)
    lengths: np.ndarray | None = None      # (n_sentences,) sums to B
    suffixes: np.ndarray | None = None     # (B, 2w+1) int ids into X
    elsewhere: np.ndarray | None = None    # (B, 2w+1) int ids into D
    gazetteer: np.ndarray | None = None    # (B, 2w+1) int ids into G
    chars: np.ndarray | None = None        # (B, 2w+1) word-type ids into char_bag
    char_bag: CharBag | None = None        # the n-gram rows of Q of each word type
    mentions: np.ndarray | None = None     # (B, 2w+1) int ids into M (features/mentions.py)


@dataclass
class RowGrad:
    """Gradient of an embedding matrix that touches only some rows: E[rows] gets `values`."""

    rows: np.ndarray                       # (k,) unique row ids
    values: np.ndarray                     # (k, d)
    shape: tuple[int, int] = field(default=(0, 0))

    def dense(self) -> np.ndarray:
        out = np.zeros(self.shape, dtype=self.values.dtype)
        out[self.rows] = self.values
        return out


def lookup_tables(spec: ModelSpec) -> list[tuple[str, str, int]]:
    """The embedding tables whose rows form x, in the order they are concatenated per window position:
    (parameter, the Batch field holding its ids, width). E always; the casing table K, the suffix table X,
    the document table D, the gazetteer table G and the character n-gram table Q when the spec has them."""
    widths = {"E": spec.dim, "K": spec.case_dim, "X": spec.suffix_dim, "D": spec.doc_dim, "G": spec.gaz_dim,
              "Q": spec.char_dim, "M": spec.mention_dim}
    return [(name, field, widths[name]) for name, field in TABLES if widths[name]]


def param_shapes(spec: ModelSpec) -> dict[str, tuple[int, ...]]:
    """Every parameter of a model with this spec and its shape: the one list of parameters."""
    H, C = spec.hidden, spec.n_classes
    rows = {"E": spec.vocab_size, "K": spec.n_cases, "X": spec.n_suffixes, "D": spec.n_doc, "G": spec.n_gaz,
            "Q": spec.n_char_buckets, "M": spec.n_mention}
    shapes: dict[str, tuple[int, ...]] = {name: (rows[name], width) for name, _, width in lookup_tables(spec)}
    shapes.update(W=(H, spec.input_size), b=(H,))
    if spec.task == "binary":
        shapes["u"] = (H,)
    else:
        shapes.update(U=(C, H), c=(C,))
        if spec.loss == "crf":
            shapes.update(A=(C, C), A_start=(C,), A_end=(C,))   # A[i, j]: score of tag j right after tag i
    return shapes


def init_params(spec: ModelSpec, rng: np.random.Generator, dtype: Any = np.float32,
                embeddings: np.ndarray | None = None) -> Params:
    """Fresh parameters. `embeddings` (V, d), when given, fills E (pretrained rows); else E ~ N(0, 0.1²)."""
    H, D = spec.hidden, spec.input_size
    gain = np.sqrt(2.0) if spec.activation in RELU_FAMILY else 1.0         # He scaling for ReLU-family units
    p: Params = {}
    tables = {name for name, _ in TABLES}
    # drawn in param_shapes' order: the same seed, the same weights (a table that is off draws nothing, so
    # E, K, X, W... of a model without D, G, Q are those of a model from before they existed)
    for name, shape in param_shapes(spec).items():
        if name == "E" and embeddings is not None:
            p[name] = embeddings.copy()
        elif name in tables:
            p[name] = rng.normal(0, 0.1, shape)
        elif name == "W":                                  # Glorot-uniform
            limit = gain * np.sqrt(6.0 / (D + H))
            p[name] = rng.uniform(-limit, limit, shape)
        elif name in ("u", "U"):
            fan_out = 1 if name == "u" else shape[0]
            p[name] = rng.uniform(-1, 1, shape) * np.sqrt(6.0 / (H + fan_out))
        else:                                              # b, c and the CRF transitions start at zero
            p[name] = np.zeros(shape)
    return {k: np.asarray(v, dtype=dtype) for k, v in p.items()}


def window_vectors(params: Params, words: np.ndarray, cases: np.ndarray | None,
                   suffixes: np.ndarray | None = None, elsewhere: np.ndarray | None = None,
                   gazetteer: np.ndarray | None = None, char_vecs: np.ndarray | None = None,
                   mentions: np.ndarray | None = None) -> np.ndarray:
    """x for every window: per slot, the rows of the lookup tables (`TABLES`: E, then K, X, D, G when the
    model has them) side by side, then the character vector c(w) of the slot's word when given
    (`char_vecs` (B, 2w+1, d_char), from `charbag.bag_forward`): (B, 2w+1, d + d_case + ...) flattened."""
    ids = {"words": words, "cases": cases, "suffixes": suffixes, "elsewhere": elsewhere, "gazetteer": gazetteer,
           "chars": char_vecs, "mentions": mentions}
    tables = [(name, ids[field]) for name, field in TABLES if name in params and ids[field] is not None]
    if len(tables) == 1:
        return params["E"][words].reshape(len(words), -1)          # (B, 2w+1, d) flattened
    width = sum(params[name].shape[1] for name, _ in tables)
    x = np.empty((*words.shape, width), dtype=np.result_type(*(params[name] for name, _ in tables)))
    col = 0
    for name, rows in tables:                                      # gathered straight into place: no concatenate
        end = col + params[name].shape[1]
        if name == "Q":                                            # c(w) per slot, already computed
            x[:, :, col:end] = rows
        else:
            np.take(params[name], rows, axis=0, out=x[:, :, col:end])
        col = end
    return x.reshape(len(words), -1)


def hidden(params: Params, spec: ModelSpec, x: np.ndarray, keep_z: bool = True
           ) -> tuple[np.ndarray | None, np.ndarray]:
    """z = Wx + b and h = f(z), for a batch: (B, H) each. Without `keep_z` (inference), a ReLU is applied in
    place and z is not kept: one (B, H) array instead of two."""
    f, _ = ACTIVATIONS[spec.activation]
    z = x @ params["W"].T                                          # (B, H)  z = Wx + b
    z += params["b"]
    if not keep_z and spec.activation == "relu":
        return None, np.maximum(z, 0, out=z)                       # h = relu(z), in place
    return z, f(z)


def log_softmax(S: np.ndarray) -> np.ndarray:
    """log softmax(S) along the last axis, stable: S - max - log Σ exp(S - max)."""
    S = S - S.max(axis=-1, keepdims=True)
    return S - np.log(np.exp(S).sum(axis=-1, keepdims=True))


def scores(params: Params, spec: ModelSpec, words: np.ndarray, cases: np.ndarray | None = None,
           suffixes: np.ndarray | None = None, elsewhere: np.ndarray | None = None,
           gazetteer: np.ndarray | None = None, chars: np.ndarray | None = None,
           char_bag: CharBag | None = None, mentions: np.ndarray | None = None) -> np.ndarray:
    """Inference-time scores, no dropout: s (B,) for binary, S (B, C) otherwise."""
    char_vecs = bag_forward(params["Q"], char_bag, chars)[0] if "Q" in params and chars is not None else None
    x = window_vectors(params, words, cases, suffixes, elsewhere, gazetteer, char_vecs, mentions)
    _, h = hidden(params, spec, x, keep_z=False)
    return output_scores(params, spec, h)


def output_scores(params: Params, spec: ModelSpec, h: np.ndarray) -> np.ndarray:
    """The output layer at inference: s = uᵀh (B,) for binary, S = U h + c (B, C) otherwise."""
    if spec.task == "binary":
        return h @ params["u"]                                     # s = uᵀh
    S = h @ params["U"].T                                          # S = U h + c
    S += params["c"]
    return S


def table_products(params: Params, spec: ModelSpec, name: str) -> np.ndarray:
    """W_k^T T(r) for every row r of a lookup table T (`lookup_tables`: E, K, M, ...) and window slot k, where
    W_k^T are the columns of W that slot k gives table T: (rows of T, (2w+1)·H), slot k's block at k·H."""
    H, width = spec.hidden, spec.width
    offset = 0
    for table, _, cols in lookup_tables(spec):                    # x's slot: the tables side by side, in order
        if table == name:
            break
        offset += cols
    W = params["W"].reshape(H, width, -1)                          # (H, 2w+1, d + d_case + ...)
    W_T = W[:, :, offset:offset + cols].transpose(1, 0, 2).reshape(width * H, cols)
    return params[name] @ W_T.T


def type_products(params: Params, spec: ModelSpec, words: np.ndarray, cases: np.ndarray | None,
                  buffer: np.ndarray | None = None) -> np.ndarray:
    """The first layer's products for word types instead of tokens (Collobert et al.'s lookup-table trick).

    Wx = Σ_k W_k x_k, where x_k = [e(w); K(c)] is slot k of the window and W_k the matching columns of W. For
    each (word, case) type u given by `words`/`cases` (U,), row (2w+1)·u + k of the result is W_k x(u):
    ((2w+1)·U, H). A chunk's tokens share few types, so this costs far fewer FLOPs than W x per token, and
    `scores_from_types` then only adds rows. `buffer`, a flat float array of at least U·(2w+1)·H entries, is used
    for the result if given (a tagger reuses one: no fresh pages for every chunk).
    """
    d, H, width = spec.dim, spec.hidden, spec.width
    W = params["W"].reshape(H, width, -1)                          # (H, 2w+1, d + d_case)
    W_E = W[:, :, :d].transpose(1, 0, 2).reshape(width * H, d)     # (2w+1·H, d)  the W_k^E stacked
    x = params["E"][words]                                         # (U, d)
    size = len(words) * width * H
    P = np.empty((len(words), width * H), dtype=np.result_type(x, W)) if buffer is None else \
        buffer[:size].reshape(len(words), width * H)
    np.matmul(x, W_E.T, out=P)                                     # (U, (2w+1)·H)  [W_k^E e(w)]_k
    if cases is not None and "K" in params:
        KW = table_products(params, spec, "K")                     # (n_cases, (2w+1)·H)  [W_k^K K(c)]_k
        for i in range(0, len(words), 512):                        # + KW[c], a block at a time (small temporaries)
            P[i:i + 512] += KW[cases[i:i + 512]]
    return P.reshape(len(words) * width, H)


def type_rows(types: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """The rows of `type_products`' P that windows of type ids (B, 2w+1) add up: (2w+1, B) intp, slot k's row
    of type u being (2w+1)·u + k (slot-major and contiguous: each gather reads one plain index array)."""
    return (types.astype(np.intp) * spec.width + np.arange(spec.width)).T.copy()


def scores_from_types(params: Params, spec: ModelSpec, P: np.ndarray, rows: np.ndarray,
                      extra: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """`scores` from `type_products`: z_t = Σ_k P[(2w+1)·u_{t+k} + k] + b, for the rows (2w+1, B) of P that
    `type_rows` gives for B windows of type ids u. `extra` = (P', rows') adds the rows of one more table's
    products in the same layout (`table_products` of a table that is not part of the types, e.g. M)."""
    z = np.take(P, rows[0], axis=0)                                # (B, H)
    for k in range(1, spec.width):
        z += np.take(P, rows[k], axis=0)                           # z = Σ_k W_k x_k
    if extra is not None:
        for k in range(spec.width):
            z += np.take(extra[0], extra[1][k], axis=0)
    z += params["b"]                                               #   + b
    relu = spec.activation == "relu"
    return output_scores(params, spec, np.maximum(z, 0, out=z) if relu else ACTIVATIONS[spec.activation][0](z))


Masks = tuple[np.ndarray | None, np.ndarray | None]          # dropout masks of x and h (None: no dropout)


def _dropout_mask(shape: tuple[int, int], p: float, rng: np.random.Generator | None,
                  dtype: Any = np.float32) -> np.ndarray | None:
    """Inverted dropout's mask: 1/(1 - p) for each unit kept (probability 1 - p), else 0; None if p = 0."""
    if p <= 0 or rng is None:
        return None
    scale = np.asarray(1, dtype=dtype) / np.asarray(1 - p, dtype=dtype)       # 1/(1-p), as the old 1.0/(1-p)
    return np.multiply(rng.random(shape, dtype=np.float32) >= p, scale, dtype=dtype)


def dropout_masks(spec: ModelSpec, n_tokens: int, rng: np.random.Generator | None, dtype: Any = np.float32
                  ) -> Masks:
    """The masks of x (B, D) and h (B, H) for a batch of `n_tokens` windows, drawn from `rng` in that order.

    They depend on nothing but the batch size, so a trainer can draw the next batch's while this one runs (in
    another thread): the generator gives the same numbers as when `forward` draws them itself."""
    return (_dropout_mask((n_tokens, spec.input_size), spec.dropout_input, rng, dtype),
            _dropout_mask((n_tokens, spec.hidden), spec.dropout_hidden, rng, dtype))


def _corrupt(words: np.ndarray, spec: ModelSpec, rng: np.random.Generator) -> np.ndarray:
    """The lecture's corrupted windows: the centre word replaced by a random vocabulary word."""
    bad = words.copy()
    bad[:, spec.window] = rng.integers(2, spec.vocab_size, len(words))
    return bad


def forward(params: Params, spec: ModelSpec, batch: Batch, rng: np.random.Generator | None = None,
            masks: Masks | None = None, compiled: bool = False) -> tuple[float, dict[str, Any]]:
    """Loss J of a batch and the cache for `backward`. Dropout and corruption use `rng` (None: no dropout);
    `masks`, when given, are the batch's dropout masks (`dropout_masks`) already drawn; `compiled`: the CRF's
    loss here and the embedding rows' sums in `backward` through numba's loops (`compiled.py`), else numpy's."""
    ids = {field: getattr(batch, field) for _, field in TABLES}  # (B, 2w+1) ids of each lookup table
    B = len(batch.words)
    if spec.loss == "margin":                                      # score true and corrupted windows together
        if rng is None:
            raise ValueError("the margin loss needs an rng to draw corrupted windows")
        # corrupted windows keep the true word's other features
        ids = {f: None if a is None else np.concatenate([a, a]) for f, a in ids.items()}
        ids["words"][B:] = _corrupt(batch.words, spec, rng)
    char_vecs = char_cache = None
    if "Q" in params and ids["chars"] is not None:                # c(w) per slot, (B', 2w+1, d_char)
        char_vecs, char_cache = bag_forward(params["Q"], batch.char_bag, ids["chars"])
    x = window_vectors(params, ids["words"], ids["cases"], ids["suffixes"], ids["elsewhere"], ids["gazetteer"],
                       char_vecs, ids["mentions"])                 # (B', D)
    mask_x, mask_h = dropout_masks(spec, len(x), rng, x.dtype) if masks is None else masks
    if mask_x is not None:
        x *= mask_x                                                # x is a fresh gather: dropped in place
    z, h = hidden(params, spec, x)                                 # (B', H)
    h_drop = h if mask_h is None else h * mask_h
    cache: dict[str, Any] = dict(**ids, char_cache=char_cache, x=x, mask_x=mask_x, z=z, h=h, h_drop=h_drop,
                                 mask_h=mask_h, B=B, batch=batch, compiled=compiled)

    y = batch.targets
    if spec.task == "binary":
        s = h_drop @ params["u"]                                   # (B',)  s = uᵀh
        loss, ds = _binary_loss(spec, s, y, B)
    else:
        S = h_drop @ params["U"].T + params["c"]                   # (B, C)  S = U h + c
        if spec.loss == "crf":
            loss, dS, cache["crf_grads"] = _crf_loss(params, S, y, batch.lengths, compiled)
        else:
            loss, dS = _softmax_loss(S, y)
        ds = dS
    cache["ds"] = ds                                               # ∂J/∂s (binary) or ∂J/∂S
    if spec.l2:
        out = params["u"] if spec.task == "binary" else params["U"]
        loss += 0.5 * spec.l2 * (float(np.sum(params["W"] ** 2)) + float(np.sum(out**2)))
    return float(loss), cache


def _binary_loss(spec: ModelSpec, s: np.ndarray, y: np.ndarray, B: int) -> tuple[float, np.ndarray]:
    """Binary losses over scores s; returns (J, ∂J/∂s).

    logistic: J = mean log(1 + exp(-y± s)), y± = ±1.
    margin:   J = mean over tokens of max(0, 1 - y± s)   (anchors the decision threshold at s = 0)
              + mean over positive windows of max(0, 1 - s + s_c), the lecture's objective with s_c the
              score of the same window with its centre word corrupted (rows B..2B-1 of s).
    """
    ypm = 2.0 * y.astype(s.dtype) - 1.0
    if spec.loss == "logistic":
        m = -ypm * s
        loss = np.mean(np.logaddexp(0, m))
        ds = -ypm * _sigmoid(m) / B                                # ∂/∂s log(1 + e^{-y s}) = -y σ(-y s)
        return float(loss), ds.astype(s.dtype)
    s_true, s_bad = s[:B], s[B:]
    ds = np.zeros_like(s)
    hinge = 1 - ypm * s_true
    loss = np.sum(np.maximum(hinge, 0))
    ds[:B] = np.where(hinge > 0, -ypm, 0)
    pos = y == 1
    margin = 1 - s_true + s_bad
    active = pos & (margin > 0)
    loss += np.sum(margin[active])
    ds[:B] -= active
    ds[B:] += active
    return float(loss / B), ds / B


def _sigmoid(m: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0, -m))


def _softmax_loss(S: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Cross-entropy J = mean -log softmax(S)[y]; ∂J/∂S = (ŷ - onehot(y)) / B."""
    B = len(S)
    log_p = log_softmax(S)
    loss = -np.mean(log_p[np.arange(B), y])
    P = np.exp(log_p)                                              # ŷ
    P[np.arange(B), y] -= 1
    return float(loss), P / B


MAX_PADDED_TOKENS = 1 << 17    # padded positions in one CRF pass: (sentences x longest) x C x C floats at most


def length_groups(lengths: np.ndarray, budget: int) -> list[tuple[int, int]]:
    """Consecutive sentence ranges [a, b) whose padding (count x longest) stays within `budget` positions; a
    sentence longer than the budget is a group of its own. One group when the whole batch fits (R4)."""
    groups, a, longest = [], 0, 0
    for i, n in enumerate(lengths.tolist()):
        longest = max(longest, n)
        if i > a and (i - a + 1) * longest > budget:
            groups.append((a, i))
            a, longest = i, n
    if len(lengths):
        groups.append((a, len(lengths)))
    return groups


def _crf_loss(params: Params, S: np.ndarray, y: np.ndarray, lengths: np.ndarray, compiled: bool = False
              ) -> tuple[float, np.ndarray, dict[str, np.ndarray]]:
    """Sentence-level log-likelihood (linear-chain CRF over S); J = Σ_sentences NLL / tokens.
    Returns J, ∂J/∂S and the gradients of the transitions A, A_start, A_end.

    `compiled`: one compiled loop over the packed rows (`crf_compiled`), unless a normaliser underflows there.
    Otherwise the NLL, a sum over sentences, is computed in numpy with sentences padded and run in groups
    (`length_groups`): memory is bounded by MAX_PADDED_TOKENS, not by batch size x the longest sentence."""
    from .crf import crf_backward, crf_nll

    B = len(S)
    if compiled:
        from .crf_compiled import crf_loss_packed

        found = crf_loss_packed(S, y, lengths, params["A"], params["A_start"], params["A_end"], 1.0 / B)
        if found is not None:
            nll, dS, dA, dA_start, dA_end = found
            return nll / B, dS, {"A": dA, "A_start": dA_start, "A_end": dA_end}
    nll = 0.0
    dS = np.empty_like(S)
    crf_grads = {k: np.zeros_like(params[k]) for k in ("A", "A_start", "A_end")}
    bounds = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    for a, b in length_groups(lengths, MAX_PADDED_TOKENS):
        rows = slice(bounds[a], bounds[b])
        S_pad, tags_pad, mask = pad_by_lengths(S[rows], y[rows], lengths[a:b])
        part, crf_cache = crf_nll(S_pad, tags_pad, mask, params["A"], params["A_start"], params["A_end"])
        dS_pad, dA, dA_start, dA_end = crf_backward(crf_cache)
        nll += part
        dS[rows] = dS_pad[mask] / B
        for k, g in zip(("A", "A_start", "A_end"), (dA, dA_start, dA_end), strict=True):
            crf_grads[k] += g / B
    return nll / B, dS, crf_grads


def pad_by_lengths(S: np.ndarray, y: np.ndarray | None, lengths: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Flat per-token rows (N, C) -> padded per-sentence (n, T, C), tags (n, T) and mask (n, T)."""
    n, T = len(lengths), int(lengths.max()) if len(lengths) else 0
    mask = lengths_to_mask(lengths, T)                             # (n, T)
    S_pad = np.zeros((n, T, S.shape[1]), dtype=S.dtype)
    S_pad[mask] = S
    tags = None
    if y is not None:
        tags = np.zeros((n, T), dtype=np.int64)
        tags[mask] = y
    return S_pad, tags, mask


def backward(params: Params, spec: ModelSpec, cache: dict[str, Any], helper: Helper = INLINE) -> dict[str, Any]:
    """∂J/∂(every parameter). The lookup tables E, K and X come back as RowGrad (only the rows the batch touched).
    With a `helper` thread, ∂J/∂W = δᵀx is computed there while ∂J/∂x = Wᵀδ is computed here."""
    _, f_prime = ACTIVATIONS[spec.activation]
    x, z, h, h_drop = cache["x"], cache["z"], cache["h"], cache["h_drop"]
    grads: dict[str, Any] = {}
    if spec.task == "binary":
        ds = cache["ds"]                                           # (B',)  ∂J/∂s
        grads["u"] = h_drop.T @ ds                                 # (H,)   ∂s/∂u = h
        dh = ds[:, None] * params["u"][None, :]                    # (B', H) upstream × local: ∂s/∂h = uᵀ
    else:
        dS = cache["ds"]                                           # (B, C)  ∂J/∂S
        grads.update(cache.get("crf_grads", {}))                   # A, A_start, A_end (CRF only)
        grads["U"] = dS.T @ h_drop                                 # (C, H)
        grads["c"] = dS.sum(axis=0)                                # (C,)
        dh = dS @ params["U"]                                      # (B, H)  ∂S/∂h = U
    if cache["mask_h"] is not None:
        dh *= cache["mask_h"]                                      # (dh is a fresh array: in place from here)
    delta = np.multiply(dh, z > 0, out=dh) if spec.activation == "relu" else \
        np.multiply(dh, f_prime(z, h), out=dh)                     # (B, H)  δ = uᵀ ∘ f'(z), times ∂J/∂s
    dW = helper.submit(np.matmul, delta.T, x)                      # (H, D)  ∂s/∂W = δᵀxᵀ, summed over batch
    grads["b"] = delta.sum(axis=0)                                 # (H,)    ∂s/∂b = δ
    dx = delta @ params["W"]                                       # (B, D)  ∂s/∂x = Wᵀδ
    if cache["mask_x"] is not None:
        dx *= cache["mask_x"]
    dx = dx.reshape(len(x), spec.width, -1)                        # (B, 2w+1, d + d_case + d_suffix + ...)
    col = 0
    for name, ids, width in lookup_tables(spec):                   # ∂J/∂x split back into E, K, X, D, G rows
        if name == "Q":                                            # c(w) is a mean of n-gram rows (charbag.py)
            grads[name] = bag_backward(dx[:, :, col:col + width], cache["char_cache"], params[name].shape)
        else:
            grads[name] = scatter_rows(cache[ids], dx[:, :, col:col + width], params[name].shape,
                                       cache["compiled"])
        col += width
    grads["W"] = dW.result()
    if spec.l2:
        grads["W"] = grads["W"] + spec.l2 * params["W"]
        out = "u" if spec.task == "binary" else "U"
        grads[out] = grads[out] + spec.l2 * params[out]
    return grads


def scatter_rows(ids: np.ndarray, d_rows: np.ndarray, shape: tuple[int, int], compiled: bool = False) -> RowGrad:
    """Sum per-position gradients (B, 2w+1, d) into the unique embedding rows they came from.

    Vectorised scatter-add: sort positions by row id, then one `np.add.reduceat` over each row's run (`compiled`:
    numba's loop over the runs, which sums in reading order: rounded differently, ~3x faster).
    """
    flat_ids = ids.ravel()
    order = np.argsort(flat_ids, kind="stable")
    sorted_ids = flat_ids[order]
    first = np.flatnonzero(np.concatenate(([True], sorted_ids[1:] != sorted_ids[:-1]))) if len(flat_ids) else \
        np.zeros(0, dtype=np.int64)
    flat_rows = d_rows.reshape(-1, shape[1])
    if not len(first):
        values = np.zeros((0, shape[1]), dtype=d_rows.dtype)
    elif compiled:
        values = _run_sums(flat_rows, order, first)
    else:
        values = np.add.reduceat(flat_rows[order], first, axis=0)
    return RowGrad(sorted_ids[first].astype(np.int64), values, shape)


@jit
def _run_sums(rows, order, first):  # noqa: ANN001 (compiled: numba infers the types)
    """Row k of the result: the sum of rows[order[first[k]:first[k + 1]]], added in that order (`scatter_rows`)."""
    n, d = first.shape[0], rows.shape[1]
    out = np.empty((n, d), dtype=rows.dtype)
    for k in range(n):
        end = first[k + 1] if k + 1 < n else order.shape[0]
        src = order[first[k]]
        for j in range(d):
            out[k, j] = rows[src, j]
        for i in range(first[k] + 1, end):
            src = order[i]
            for j in range(d):
                out[k, j] += rows[src, j]
    return out
