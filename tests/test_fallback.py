"""Fallback rows (features/fallback.py): pretrained vectors for words training never saw, kept as int4 rows."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SAMPLE
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ner_cli.config import build_config
from ner_cli.errors import ModelFileError
from ner_cli.features.fallback import MAX_BYTES, select_fallback, with_fallback, without_fallback
from ner_cli.features.vocab import UNK_ID, Vocab, sorted_words
from ner_cli.io.dataset import read_corpus
from ner_cli.io.modelfile import (
    INT8_INT4_ROWS,
    from_int4_rows,
    load_model_arrays,
    model_bytes,
    to_int4_rows,
)
from ner_cli.tagger import Tagger

# no tiny values: a subnormal scale (|x| / 7 < 1.2e-38) loses bits, and real vectors are nowhere near it
finite = st.floats(-1e3, 1e3, allow_nan=False, width=32).filter(lambda x: x == 0 or abs(x) > 1e-30)


@settings(max_examples=200, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(0, 20), st.integers(1, 9)), elements=finite))
def test_int4_rows_round_trip_within_half_a_step_and_idempotent(a):
    packed, scale = to_int4_rows(a)
    assert packed.dtype == np.uint8 and packed.shape == (len(a), (a.shape[1] + 1) // 2)
    back = from_int4_rows(packed, scale, a.shape[1])
    assert back.shape == a.shape and back.dtype == np.float32
    assert (np.abs(back - a) <= scale[:, None] / 2 * (1 + 1e-5) + 1e-30).all()
    again, scale2 = to_int4_rows(back)                    # quantising the quantised rows changes nothing
    assert np.array_equal(from_int4_rows(again, scale2, a.shape[1]), back)


def test_select_fallback_keeps_the_missing_words_within_the_limit_sorted():
    vocab = Vocab(["<PAD>", "<UNK>", "the", "paris"])
    words = ["the", "madrid", "paris", "berlin", "oslo"]
    vecs = np.arange(25, dtype=np.float32).reshape(5, 5)
    fb = select_fallback(words, vecs, vocab, 4)
    assert fb.words.tolist() == [b"berlin", b"madrid"]                        # sorted, rows with them
    assert np.allclose(fb.vectors(), vecs[[3, 1]], atol=np.abs(vecs[[3, 1]]).max() / 14)
    assert select_fallback(words, vecs, vocab, 0) is None
    assert select_fallback(words[:1], vecs[:1], vocab, 5) is None           # nothing missing
    long_ = "x" * (MAX_BYTES + 1)
    fb = select_fallback(["oslo", long_, "ñu", "oslo", "a\x00b"], vecs, vocab, 5)
    assert fb.words.tolist() == [b"oslo", "ñu".encode()] and np.allclose(fb.vectors(), vecs[[0, 2]], atol=2)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=8).filter(lambda w: "\x00" not in w), max_size=30, unique=True),
       st.lists(st.text(max_size=10), max_size=30))
def test_sorted_tail_finds_exactly_its_words(tail_words, queries):
    """A vocabulary's sorted tail (binary search over fixed-width bytes) finds what a dict would."""
    keys = ["<PAD>", "<UNK>", "the"]
    tail_words = [w for w in tail_words if w not in keys]
    vocab = Vocab(keys, lowercase=False, digit_fallback=False, tail=sorted_words(tail_words))
    ref = {w: i for i, w in enumerate(keys + sorted(tail_words, key=lambda w: w.encode()))}
    assert len(vocab) == len(ref)
    for q in [*queries, *tail_words, *keys]:
        assert vocab.lookup(q) == ref.get(q, UNK_ID)


def tiny_model(fallback_words: list[str] | None) -> tuple[dict, dict]:
    """A trained-looking model's arrays and metadata (random), optionally with fallback rows."""
    from ner_cli.features.casing import CASELESS
    from ner_cli.nn.model import ModelSpec, init_params

    keys = ["<PAD>", "<UNK>", "the", "city", "of"]
    spec = ModelSpec(vocab_size=len(keys), n_classes=3, window=1, dim=5, case_dim=2, n_cases=CASELESS, hidden=6,
                     task="multiclass", loss="softmax")
    params = init_params(spec, np.random.default_rng(0))
    meta = {"spec": spec.to_dict(), "vocab": {"keys": keys, "lowercase": True, "digit_fallback": True},
            "labels": ["O", "B-LOC", "I-LOC"], "tag_scheme": "IOB2", "decode": "argmax", "target": None}
    if fallback_words:
        words = fallback_words
        vecs = np.random.default_rng(1).normal(size=(len(words), 5)).astype(np.float32)
        params, meta = with_fallback(params, meta, select_fallback(words, vecs, Vocab(keys), len(words)))
    return params, meta


def test_saved_fallback_rows_load_as_they_were_and_words_find_them():
    params, meta = tiny_model(["lisbon", "the", "quito"])
    assert meta["vocab"]["fallback_rows"] == 2 and meta["spec"]["vocab_size"] == 7
    data = model_bytes(params, meta)
    loaded, meta2 = load_model_arrays(data)
    assert meta2["storage"]["E"] == INT8_INT4_ROWS
    assert np.array_equal(loaded["E"][-2:], params["E"][-2:])               # the int4 rows, exactly
    assert np.allclose(loaded["E"][:-2], params["E"][:-2], atol=np.abs(params["E"]).max() / 254 + 1e-7)
    tagger = Tagger(loaded, meta2)
    ids = tagger.vocab.encode(["Lisbon", "Quito", "Madrid", "the"])
    assert ids.tolist() == [5, 6, UNK_ID, 2]
    plain, plain_meta = tiny_model(None)
    stripped, stripped_meta = without_fallback(params, meta)
    assert stripped_meta == plain_meta and all(np.array_equal(stripped[k], plain[k]) for k in plain)
    assert len(load_model_arrays(model_bytes(plain, plain_meta))[0]["E"]) == 5


def test_damaged_fallback_storage_is_refused():
    import io
    import json
    import zipfile

    params, meta = tiny_model(["lisbon", "quito"])
    data = model_bytes(params, meta)

    def rewrite(change):
        src = zipfile.ZipFile(io.BytesIO(data))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as dst:
            for info in src.infolist():
                dst.writestr(info, change(info.filename, src.read(info.filename)))
        return out.getvalue()

    def short_int4(name, raw):
        if name != "E.int4.npy":
            return raw
        member = io.BytesIO()
        np.save(member, np.zeros((1, 3), dtype=np.uint8))
        return member.getvalue()

    with pytest.raises(ModelFileError, match="not stored as"):
        load_model_arrays(rewrite(short_int4))

    def bad_count(name, raw):
        if name != "__meta__.npy":
            return raw
        m = json.loads(np.load(io.BytesIO(raw)).tobytes())
        m["vocab"]["fallback_rows"] = -1
        member = io.BytesIO()
        np.save(member, np.frombuffer(json.dumps(m).encode(), dtype=np.uint8))
        return member.getvalue()

    with pytest.raises(ModelFileError, match="fallback_rows"):
        load_model_arrays(rewrite(bad_count))

    def words_member(words):
        def change(name, raw):
            if name != "__fallback_words__.npy":
                return raw
            member = io.BytesIO()
            np.save(member, words)
            return member.getvalue()
        return change

    must_hold = "must hold vocab.fallback_rows = 2 words"
    for words, match in [(np.array([b"quito", b"lisbon"]), "sorted"), (np.array([b"", b"lisbon"]), "non-empty"),
                         (np.array([b"lisbon", b"lisbon"]), "distinct"), (np.array(["lisbon", "quito"]), must_hold),
                         (np.array([b"lisbon"]), must_hold), (np.array([b"x" * 65, b"y" * 65]), must_hold)]:
        with pytest.raises(ModelFileError, match=match):
            load_model_arrays(rewrite(words_member(words)))

    def meta_change(change):                            # the metadata edited as JSON
        def edit(name, raw):
            if name != "__meta__.npy":
                return raw
            m = json.loads(np.load(io.BytesIO(raw)).tobytes())
            change(m)
            member = io.BytesIO()
            np.save(member, np.frombuffer(json.dumps(m).encode(), dtype=np.uint8))
            return member.getvalue()
        return edit

    def s0_bomb(name, raw):                             # a header declaring 10**9 words of width 0: no data needed
        if name == "__meta__.npy":
            return meta_change(lambda m: m["vocab"].update(fallback_rows=10**9))(name, raw)
        if name != "__fallback_words__.npy":
            return raw
        member = io.BytesIO()
        np.lib.format.write_array_header_1_0(member, {"descr": "|S0", "fortran_order": False, "shape": (10**9,)})
        return member.getvalue()

    # refused from the metadata and the headers, before anything the size of the declared words is allocated
    with pytest.raises(ModelFileError, match="vocabulary has 1000000005 words, spec says 7"):
        load_model_arrays(rewrite(s0_bomb))
    with pytest.raises(ModelFileError, match="newer than this ner"):       # the version is checked first
        load_model_arrays(rewrite(lambda n, r: meta_change(lambda m: m.update(format_version=99))(n, r)
                                  if n == "__meta__.npy" else words_member(np.array(["a", "b"]))(n, r)))
    with pytest.raises(ModelFileError, match="vocab.fallback_words is 7"):
        load_model_arrays(rewrite(meta_change(lambda m: m["vocab"].update(fallback_words=7))))
    with pytest.raises(ModelFileError, match="vocab.fallback_rows is True"):
        load_model_arrays(rewrite(meta_change(lambda m: m["vocab"].update(fallback_rows=True))))
    no_member = rewrite(lambda n, r: r)
    no_member = zipfile.ZipFile(io.BytesIO(no_member))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in no_member.infolist():
            if info.filename != "__fallback_words__.npy":
                dst.writestr(info, no_member.read(info.filename))
    with pytest.raises(ModelFileError, match="the file has none"):
        load_model_arrays(out.getvalue())

    def undeclared(name, raw):                          # the member without the metadata naming it
        if name != "__meta__.npy":
            return raw
        m = json.loads(np.load(io.BytesIO(raw)).tobytes())
        del m["vocab"]["fallback_words"]
        member = io.BytesIO()
        np.save(member, np.frombuffer(json.dumps(m).encode(), dtype=np.uint8))
        return member.getvalue()

    with pytest.raises(ModelFileError, match="vocabulary has 5 words, spec says 7"):
        load_model_arrays(rewrite(undeclared))


def test_saving_refuses_fallback_words_that_binary_search_could_not_use():
    params, meta = tiny_model(["lisbon", "quito"])
    for words in (np.array([b"quito", b"lisbon"]), np.array([b"x" * 65, b"y" * 65]), np.array(["lisbon", "quito"])):
        with pytest.raises(ValueError, match="fallback words"):
            model_bytes(params, {**meta, "vocab": {**meta["vocab"], "fallback_words": words}})


def test_a_format_4_file_with_the_fallback_words_in_its_keys_still_loads():
    """Format 4 listed the fallback words at the end of the JSON keys, in any order; they are found as before."""
    params, meta = tiny_model(None)
    words = ["quito", "lisbon"]
    E = np.concatenate([params["E"], from_int4_rows(*to_int4_rows(np.ones((2, 5), np.float32)), 5)])
    v4 = {**meta, "vocab": {**meta["vocab"], "keys": [*meta["vocab"]["keys"], *words], "fallback_rows": 2},
          "spec": {**meta["spec"], "vocab_size": 7}}
    loaded, meta2 = load_model_arrays(model_bytes({**params, "E": E}, v4))
    tagger = Tagger(loaded, meta2)
    assert tagger.vocab.tail is None and tagger.vocab.encode(["Quito", "Lisbon", "Oslo"]).tolist() == [5, 6, UNK_ID]
    stripped, stripped_meta = without_fallback(loaded, meta2)
    assert stripped_meta["vocab"]["keys"] == meta["vocab"]["keys"] and len(stripped["E"]) == 5


def test_training_saves_fallback_rows_and_dev_scores_the_saved_model(tmp_path):
    """A vectors file with words the sample corpus lacks: the saved model has their rows (not <UNK>), dev is
    scored in training with them, and the trained network is the one trained without them."""
    from ner_cli.train import train

    train_words = {w.lower() for s in read_corpus(SAMPLE / "train.txt").words for w in s}
    dev_words = {w.lower() for s in read_corpus(SAMPLE / "dev.txt").words for w in s if w.isalpha()}
    rng = np.random.default_rng(3)
    unseen = [*sorted(dev_words - train_words)[:2], "kyrgyzstan"]         # two of them occur in dev
    assert len(unseen) == 3 and not set(unseen) & train_words
    vocab_words = sorted(train_words)[:40] + unseen
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("".join(f"{w} {' '.join(f'{x:.4f}' for x in rng.normal(size=8))}\n" for w in vocab_words))
    out = tmp_path / "m.npz"
    cfg = build_config({"data": {"train": str(SAMPLE / "train.txt"), "dev": str(SAMPLE / "dev.txt")},
                        "model": {"hidden": 16, "dim": 8, "case_dim": 2, "embeddings": str(vectors),
                                  "pretrained_limit": 10, "fallback_limit": 1000},
                        "train": {"epochs": 2, "seed": 0}, "output": {"path": str(out)}})
    result = train(cfg)
    tagger = Tagger.load(out)
    n = tagger.meta["vocab"]["fallback_rows"]
    assert n >= len(unseen) and set(unseen) <= {w.decode() for w in tagger.vocab.tail.tolist()}
    assert (tagger.vocab.encode([unseen[0].title(), "KYRGYZSTAN"]) >= len(tagger.vocab) - n).all()
    assert result.best_f1 >= 0
    # dev is scored during training as the saved model reads it: the fallback words get their rows there too
    from ner_cli.evaluate import score_file
    from ner_cli.train import Epoch, Trainer, fit

    trainer = Trainer.from_config(cfg)
    assert (trainer.setup.dev.words >= len(trainer.setup.vocab)).any()
    epoch = next(e for e in fit(trainer) if isinstance(e, Epoch))
    assert epoch.tagger.vocab.keys == tagger.vocab.keys and len(epoch.tagger.params["E"]) == len(tagger.vocab)
    assert np.array_equal(epoch.tagger.vocab.tail, tagger.vocab.tail)
    assert epoch.dev.scores == score_file(epoch.tagger, SAMPLE / "dev.txt").evaluation.scores
    cfg.model.fallback_limit, cfg.output.path = 0, str(tmp_path / "none.npz")
    train(cfg)
    without = Tagger.load(tmp_path / "none.npz")
    assert "fallback_rows" not in without.meta["vocab"] and without.vocab.encode(["Kyrgyzstan"])[0] == UNK_ID
    assert np.array_equal(without.params["W"], tagger.params["W"])           # the network is the same


@pytest.mark.parametrize("target", ["b", "W", "E"])
def test_int4_storage_claimed_for_the_wrong_array_is_refused(target):
    """A file whose metadata says an array is stored as int8 + int4 rows when it cannot be (a 1-D array with
    members that look right, float16 planes, rows that do not add up) gets a ModelFileError, not an IndexError."""
    import io
    import json
    import zipfile

    params, meta = tiny_model(None)
    src = zipfile.ZipFile(io.BytesIO(model_bytes(params, meta)))

    def npy(a):
        member = io.BytesIO()
        np.save(member, a)
        return member.getvalue()

    members = {info.filename: src.read(info.filename) for info in src.infolist()}
    m = json.loads(np.load(io.BytesIO(members["__meta__.npy"])).tobytes())
    m["storage"][target] = INT8_INT4_ROWS
    members["__meta__.npy"] = npy(np.frombuffer(json.dumps(m).encode(), dtype=np.uint8))
    if target == "b":                                   # int8 rows + scales + int4 rows, consistent among themselves
        members.update({"b.npy": npy(np.zeros((5, 2), np.int8)), "b.scale.npy": npy(np.ones(6, np.float32))})
    members[f"{target}.int4.npy"] = npy(np.zeros((1, 1), np.uint8))
    members.setdefault(f"{target}.scale.npy", npy(np.ones(6, np.float32)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name, raw in members.items():
            dst.writestr(name, raw)
    with pytest.raises(ModelFileError, match="not stored as"):
        load_model_arrays(out.getvalue())
