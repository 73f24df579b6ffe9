"""The fast paths of tagging give exactly what the plain ones give: batched tokenizer, packed word/case codes,
constraint-only Viterbi shortcut, blocked scoring, in-place window vectors, half-precision E, parallel tagging."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ner_cli import tagger as tagger_mod
from ner_cli.features.casing import word_case
from ner_cli.features.featurizer import Featurizer
from ner_cli.features.vocab import PAD_ID, build_vocab, count_words
from ner_cli.features.windows import make_windows
from ner_cli.io.modelfile import FORMAT_VERSION, load_model_arrays, model_bytes
from ner_cli.io.tokenize import tokenize, tokenize_lines
from ner_cli.nn.decode import _viterbi_packed, lengths_to_mask, viterbi_batch
from ner_cli.nn.model import scores, window_vectors
from ner_cli.pipeline import tag_lines
from ner_cli.tagger import Tagger

PIECES = ["a", "B", "No.", "J.", "Mr.", " ", "  ", "\t", ".", "'s", "n't", "-", "1", ",", ":", "/", "@x.com",
          "http://a.b/c.", "\u200d", "\u0301", "\U0001f1e6\U0001f1e8", "😀", "\x00", "\r", "\x0b", "\u2028", "Smith"]
line_text = st.lists(st.sampled_from(PIECES), max_size=8).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(line_text, max_size=6))
def test_batched_tokenizer_equals_line_by_line(lines):
    assert tokenize_lines(lines) == [tokenize(line) for line in lines]
    assert tokenize_lines(lines, offsets=False) == [(tokenize(line)[0], [], []) for line in lines]


def test_packed_codes_equal_separate_vocab_and_case_encoders():
    sents = [["Peter", "lives", "in", "LYON", "1996", "x2", "--"], ["iPhone"], [], ["the", "The", "unknownword"]]
    vocab = build_vocab(count_words(sents, lowercase=True), lowercase=True)
    enc = Featurizer(vocab, 2, use_case=True).encode(sents)
    lengths = np.array([len(s) for s in sents])
    flat = [w for s in sents for w in s]
    np.testing.assert_array_equal(enc.words, make_windows(vocab.encode(flat), 2, PAD_ID, lengths=lengths))
    cases = np.array([word_case(w) for w in flat], dtype=np.int8)
    np.testing.assert_array_equal(enc.cases, make_windows(cases, 2, 0, lengths=lengths))
    assert enc.words.dtype == np.int32 and enc.cases.dtype == np.int8


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 12), st.integers(1, 9))
def test_constraint_only_shortcut_equals_the_full_recursion(seed, B, T):
    rng = np.random.default_rng(seed)
    C = 5
    S = rng.normal(size=(B, T, C)) * rng.choice([0.1, 3.0])
    lengths = rng.integers(0, T + 1, size=B)
    masks = rng.random((C, C)) > 0.3, rng.random(C) > 0.2, rng.random(C) > 0.2
    fast = viterbi_batch(S, lengths, None, None, None, *masks, pad=-1)
    valid = lengths_to_mask(lengths, T)
    full = np.full((B, T), -1, dtype=np.int64)
    full[valid] = _viterbi_packed(S[valid], lengths, None, None, None, *masks)
    np.testing.assert_array_equal(fast, full)


def test_window_vectors_equal_a_concatenation():
    rng = np.random.default_rng(0)
    params = {"E": rng.normal(size=(20, 4)).astype(np.float32), "K": rng.normal(size=(8, 3)).astype(np.float32)}
    words, cases = rng.integers(0, 20, (7, 5)), rng.integers(0, 8, (7, 5))
    expected = np.concatenate([params["E"][words], params["K"][cases]], axis=2).reshape(7, -1)
    np.testing.assert_array_equal(window_vectors(params, words, cases), expected)
    np.testing.assert_array_equal(window_vectors(params, words, None), params["E"][words].reshape(7, -1))


def test_blocked_scores_equal_one_product(sample_model, monkeypatch):
    t = Tagger.load(sample_model)
    enc = t.featurizer.encode([["Ana", "Costa", "flew", "to", "Lisbon", "."]] * 50)
    whole = scores(t.params, t.spec, enc.words, enc.cases)
    monkeypatch.setattr(tagger_mod, "SCORE_ROWS", 7)
    np.testing.assert_allclose(t.scores(enc, 0, len(enc.words)), whole, rtol=1e-5, atol=1e-5)
    monkeypatch.setattr(tagger_mod, "CHUNK_TOKENS", 11)
    assert t.predict_encoded(enc) == t.predict([["Ana", "Costa", "flew", "to", "Lisbon", "."]]) * 50


def test_arrays_in_the_file_as_int8_rows_and_byte_planes(sample_model):
    """E as int8 rows with a float32 scale each (stored, not deflated), W as float16 byte planes, the rest as it
    is; the file is still a plain .npz, and old files (E as byte planes) still load."""
    import zipfile

    from ner_cli.io.modelfile import from_int8_rows, from_planes

    t = Tagger.load(sample_model)
    data = model_bytes(t.params, t.meta)
    with np.load(io.BytesIO(data)) as z:                           # still a plain .npz
        assert z["E"].dtype == np.int8 and z["E.scale"].dtype == np.float32 and z["W.lo"].dtype == np.uint8
        assert z["b"].dtype == np.float32
        np.testing.assert_array_equal(from_planes(z["W"], z["W.lo"]), t.params["W"].astype(np.float16))
        E = from_int8_rows(z["E"], z["E.scale"])
    scale = np.abs(t.params["E"]).max(axis=1) / 127
    assert (np.abs(E - t.params["E"]) <= scale[:, None] * 0.5001).all()
    members = {i.filename: i.compress_type for i in zipfile.ZipFile(io.BytesIO(data)).infolist()}
    assert members["W.npy"] == members["__meta__.npy"] == zipfile.ZIP_DEFLATED
    assert members["E.npy"] == members["E.scale.npy"] == members["W.lo.npy"] == zipfile.ZIP_STORED
    params, meta = load_model_arrays(data)
    assert meta["storage"] == {"E": "int8-rows", "W": "float16-byte-planes"}
    assert meta["format_version"] == FORMAT_VERSION
    assert all(a.dtype == np.float32 for a in params.values())
    np.testing.assert_array_equal(params["E"], E)
    np.testing.assert_array_equal(params["W"], t.params["W"].astype(np.float16).astype(np.float32))
    np.testing.assert_array_equal(params["b"], t.params["b"])
    assert model_bytes(params, meta) == data                       # saving what was loaded changes nothing
    old = model_bytes(t.params, t.meta, {"E": np.float16, "W": np.float16})     # format 2: E as byte planes
    params, meta = load_model_arrays(old)
    assert meta["storage"] == {"E": "float16-byte-planes", "W": "float16-byte-planes"}
    np.testing.assert_array_equal(params["E"], t.params["E"].astype(np.float16).astype(np.float32))


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 6), st.integers(1, 9), st.floats(1e-30, 1e30), st.integers(0, 2**32 - 1))
def test_int8_rows_are_within_half_a_step_and_saving_them_again_changes_nothing(rows, d, magnitude, seed):
    from ner_cli.io.modelfile import from_int8_rows, to_int8_rows

    a = (np.random.default_rng(seed).standard_normal((rows, d)) * magnitude).astype(np.float32)
    a[0] = 0                                                       # an all-zero row (the padding row of E)
    q, scale = to_int8_rows(a)
    back = from_int8_rows(q, scale)
    assert q.dtype == np.int8 and scale.dtype == np.float32 and back.dtype == np.float32
    assert (np.abs(back - a) <= scale[:, None] * 0.5001 + 1e-45).all()
    assert (back[0] == 0).all()
    q2, scale2 = to_int8_rows(back)
    np.testing.assert_array_equal(q2, q)
    np.testing.assert_array_equal(scale2, scale)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 5), st.integers(0, 5), st.integers(1, 7), st.integers(0, 2**32 - 1))
def test_quantized_rows_give_the_rows_of_the_whole_dequantised_array(head, tail, d, seed):
    from ner_cli.io.modelfile import QuantizedRows, from_int4_rows, from_int8_rows, to_int4_rows, to_int8_rows

    rng = np.random.default_rng(seed)
    a = rng.standard_normal((head + tail, d)).astype(np.float32)
    q8, s8 = to_int8_rows(a[:head])
    q4, s4 = to_int4_rows(a[head:])
    rows = QuantizedRows(q8, np.concatenate([s8, s4]), q4 if tail else None, a.shape)
    whole = np.concatenate([from_int8_rows(q8, s8), from_int4_rows(q4, s4, d)])
    ids = np.flatnonzero(rng.random(len(a)) < 0.5)
    out = np.full(a.shape, np.nan, dtype=np.float32)
    rows.into(out, ids)
    np.testing.assert_array_equal(out[ids], whole[ids])
    assert np.isnan(np.delete(out, ids, axis=0)).all()            # no other row written
    assert rows.values_ok()


BUILTIN = Path(__file__).resolve().parents[1] / "ner_cli" / "models" / "en.npz"


@pytest.mark.skipif(not BUILTIN.is_file(), reason="the built-in model ner_cli/models/en.npz is not built")
def test_a_loaded_tagger_dequantises_only_the_rows_it_reads_and_tags_as_the_eager_one():
    lazy, eager = Tagger.load(BUILTIN), Tagger(*load_model_arrays(BUILTIN))
    rows, ready = lazy._lazy
    assert rows.tail is not None and not ready.any()
    fallback = [w.decode() for w in lazy.meta["vocab"]["fallback_words"][::9000].tolist()]   # int4 rows
    sentences = [["Peter", "Blackburn", "lives", "in", "Lyon", "."], fallback, ["EU", "rejects", "German", "call"]]
    assert lazy.predict(sentences) == eager.predict(sentences)
    enc = lazy.featurizer.encode(sentences)
    np.testing.assert_array_equal(np.flatnonzero(ready), np.unique(enc.words))
    assert (np.flatnonzero(ready) >= len(rows.head)).sum() >= len(fallback)
    np.testing.assert_array_equal(lazy._params["E"][ready], eager.params["E"][ready])
    np.testing.assert_array_equal(lazy.params["E"], eager.params["E"])  # `params` dequantises the rest
    assert lazy._lazy is None and lazy.to_bytes() == eager.to_bytes()


@pytest.mark.skipif(not BUILTIN.is_file(), reason="the built-in model ner_cli/models/en.npz is not built")
def test_a_large_text_dequantises_all_of_e_at_once_and_tags_as_the_eager_tagger():
    lazy, eager = Tagger.load(BUILTIN), Tagger(*load_model_arrays(BUILTIN))
    lazy.predict([["Peter", "lives", "in", "Lyon", "."]])          # a few rows first, row by row
    assert lazy._lazy is not None
    words = [w.decode() for w in lazy.meta["vocab"]["fallback_words"][::50].tolist()] + lazy.vocab.keys[2:3000]
    sentences = [words[i:i + 20] for i in range(0, len(words), 20)]
    assert sum(map(len, sentences)) * 5 >= tagger_mod.LAZY_MAX_IDS
    assert lazy.predict(sentences) == eager.predict(sentences)
    assert lazy._lazy is None                                       # all of E, in one pass
    np.testing.assert_array_equal(lazy._params["E"], eager.params["E"])


LARGEST = float(np.finfo(np.float32).max)


@pytest.mark.parametrize("member, row, values, scale", [
    ("E", 3, None, np.inf), ("E", 3, None, np.nan), ("E", 3, None, 1e37),
    ("E", 10, -128, LARGEST / 127),          # -128 (never written, but an int8) times the scale overflows
    ("E", 0, 0, 1e38),                       # a zero row: finite values, but no file of ner's has such a scale
    ("E.int4", 5, 0x00, LARGEST / 7.5),      # int4 -8 (never written) times the scale overflows
])
def test_a_scale_that_can_make_e_non_finite_is_refused_by_every_load(member, row, values, scale):
    """The lazy load (`Tagger.load`) and the whole one (`load_model_arrays`, `ner info`) refuse the same files:
    both check the row scales against the largest integer a row can hold."""
    import zipfile

    from ner_cli.errors import ModelFileError

    if not BUILTIN.is_file():
        pytest.skip("the built-in model ner_cli/models/en.npz is not built")
    arrays = dict(np.load(BUILTIN))
    head = len(arrays["E"])
    if values is not None:
        arrays[member][row] = values
    arrays["E.scale"][row + (head if member == "E.int4" else 0)] = scale
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf, zipfile.ZipFile(BUILTIN) as src:
        for info in src.infolist():
            key = info.filename[:-4]
            if key in (member, "E.scale"):
                out = io.BytesIO()
                np.lib.format.write_array(out, arrays[key])
                zf.writestr(info.filename, out.getvalue())
            else:
                zf.writestr(info, src.read(info.filename))
    for load in (Tagger.load, load_model_arrays, lambda b: Tagger(*load_model_arrays(b))):
        with pytest.raises(ModelFileError, match="NaN or infinite"):
            load(buf.getvalue())


@pytest.mark.parametrize("fmt", ["conll", "jsonl", "inline"])
def test_parallel_tagging_keeps_input_order(sample_model, fmt):
    lines = [f"Ana Costa flew to Lisbon {i} times ." if i % 3 else "" for i in range(4500)]
    lines += ["EU rejects German call .\n", "Peter lives in Lyon . He works in Paris ."]
    t = Tagger.load(sample_model)
    single = "".join(tag_lines(t, lines, fmt))
    assert "".join(tag_lines(t, lines, fmt, workers=2)) == single
    assert "".join(tag_lines(sample_model.read_bytes(), lines, fmt, paragraphs=True, workers=2)) == "".join(
        tag_lines(t, lines, fmt, paragraphs=True))


LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


@settings(max_examples=200, deadline=None)
@given(st.lists(line_text | st.sampled_from(["Ana Costa met Mr. Smith. Then Lyon won!", "", "A. B. C."]), max_size=6),
       st.booleans(), st.randoms(use_true_random=False))
def test_chunk_renderers_equal_the_line_formatters(lines, paragraphs, rnd):
    """The whole-chunk renderers (the `ner tag` path) give byte for byte what the per-line formatters give."""
    from ner_cli.io.tokenize import tokenize_chunk
    from ner_cli.io.writers import FORMATS, RENDERERS, TaggedChunk, format_conll, sentence_entities
    from ner_cli.pipeline import tokenize_paragraphs

    lines = [line.replace("\n", " ").replace("\r", " ") for line in lines]
    if paragraphs:
        chunk, lengths, _ = tokenize_paragraphs(lines)
    else:
        chunk = tokenize_chunk(lines)
        lengths = chunk.counts[chunk.counts > 0]
    tags = np.array([rnd.randrange(len(LABELS)) for _ in chunk.tokens], dtype=np.int64)
    tagged = TaggedChunk(lines, chunk.tokens, chunk.starts, chunk.ends, chunk.counts, lengths, tags, LABELS)
    names = [LABELS[t] for t in tags]
    bounds = np.cumsum(lengths).tolist()
    sentences = iter([names[a:b] for a, b in zip([0, *bounds][:-1], bounds, strict=True)])
    offsets = tagged.offsets.tolist()
    per_line = []                                                  # the sentences of each line
    for a, b in zip(offsets[:-1], offsets[1:], strict=True):
        sents = []
        while sum(map(len, sents)) < b - a:
            sents.append(next(sentences))
        per_line.append(sents)
    for fmt in ("jsonl", "inline"):
        expected = [FORMATS[fmt](line, chunk.tokens[a:b], chunk.starts[a:b].tolist(), chunk.ends[a:b].tolist(),
                                 names[a:b], entities=sentence_entities(sents))
                    for line, a, b, sents in zip(lines, offsets[:-1], offsets[1:], per_line, strict=True)]
        if fmt == "conll":                                         # a block per sentence (issue 11, W10)
            expected = ["".join(format_conll(chunk.tokens[a + i - len(s):a + i], s)
                                for s, i in zip(sents, np.cumsum([len(s) for s in sents]).tolist(), strict=True))
                        or "\n" for a, sents in zip(offsets[:-1], per_line, strict=True)]
        assert RENDERERS[fmt](tagged) == expected, fmt
    expected, k = [], 0                                            # conll: one block per sentence (W10)
    for sents in per_line:
        blocks = []
        for sent in sents:
            blocks.append(format_conll(chunk.tokens[k:k + len(sent)], sent))
            k += len(sent)
        expected.append("".join(blocks) or "\n")
    assert RENDERERS["conll"](tagged) == expected


def test_per_type_products_give_the_token_by_token_scores(sample_model, monkeypatch):
    """Collobert's lookup-table trick (model.type_products) scores a chunk like the gather + matmul path."""
    tagger = Tagger.load(sample_model)
    raw = (Path(__file__).parent.parent / "data" / "sample" / "raw.txt").read_text().split()
    sentences = [raw[i:i + 1 + i % 23] for i in range(0, len(raw), 3)] * 4
    enc = tagger.featurizer.encode(sentences)
    assert len(enc.words) >= tagger_mod.TYPE_MIN_TOKENS
    types = tagger._types(enc)
    assert types is not None
    np.testing.assert_allclose(tagger.scores(enc, 0, len(enc.words), types), tagger.scores(enc, 0, len(enc.words)),
                               rtol=1e-4, atol=1e-4)
    with_types = tagger.predict_ids(enc)
    monkeypatch.setattr(tagger_mod, "TYPE_MIN_TOKENS", 10**9)
    assert tagger._types(enc) is None
    assert (tagger.predict_ids(enc) == with_types).all()



def test_type_table_reuses_and_evicts_products_correctly(sample_model):
    """The products kept across chunks (tagger.TypeTable) are always those of the codes asked for, through
    reuse and least-recently-used eviction in a table far too small for all the codes."""
    from ner_cli.nn.model import type_products
    from ner_cli.tagger import TypeTable

    t = Tagger.load(sample_model)
    n_cases, capacity = t.spec.n_cases, 40
    table = TypeTable(t.params, t.spec, capacity, cased=True)
    rng = np.random.default_rng(0)
    for _ in range(60):
        codes = np.unique(rng.zipf(1.5, size=rng.integers(1, 50)) % 300)[:capacity]
        table.add(codes)
        ids = table.slot[codes]
        assert (ids >= 0).all() and len(set(ids.tolist())) == len(codes)
        live = np.flatnonzero(table.slot >= 0)
        assert len(live) <= capacity and (table.codes[table.slot[live]] == live).all()
        want = type_products(t.params, t.spec, codes // n_cases, codes % n_cases).reshape(len(codes), -1)
        np.testing.assert_allclose(table.P.reshape(capacity, -1)[ids], want, rtol=1e-6, atol=1e-6)


TOKEN_PIECES = PIECES + ["Mr", "No", "Nos", "www", "http", "://", "e.g", "U.S.", "don", "'", "t", "’", "@", "#", "$",
                         "%", "(", ")", "[", "]", "\"", "!", "?", ";", "...", "--", "``", "''", "x2", "42", "é",
                         "e\u0301", "\n", "A", "z", "-", "www.", "@a.bc"]


@pytest.fixture(scope="module")
def slow_pattern():
    from ner_cli.io.tokenize import _build_pattern

    return _build_pattern(shortcuts=False)


@settings(max_examples=1500, deadline=None)
@given(text=st.lists(st.sampled_from(TOKEN_PIECES), max_size=14).map("".join))
def test_tokenizer_shortcuts_change_nothing(slow_pattern, text):
    """The shortcut alternatives (plain ASCII words and lone punctuation) only make the regex faster."""
    from ner_cli.io.tokenize import _TOKEN_RE

    assert _TOKEN_RE.findall(text) == slow_pattern.findall(text)


def test_tagging_keeps_freed_memory_on_glibc():
    """`ner tag` raises glibc's mmap and trim thresholds (heap.py); elsewhere the call says it did nothing."""
    import platform

    from ner_cli.heap import keep_freed_memory

    assert keep_freed_memory() is (platform.libc_ver()[0] == "glibc")
