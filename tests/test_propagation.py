"""Name propagation at decode time (nn/propagation.py): a surname alone after the full name."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SAMPLE
from hypothesis import given, settings
from hypothesis import strategies as st

from ner_cli.features.casing import ALLCAPS, CASELESS, INITCAP, LOWER
from ner_cli.nn.propagation import NamePropagation
from ner_cli.tags import entities_to_tags, get_entities, invalid_transitions, iob2_label_map, iob2_to_iobes

IOB2 = ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
IOBES = ["O", "B-LOC", "I-LOC", "E-LOC", "S-LOC", "B-PER", "I-PER", "E-PER", "S-PER"]


def run(tags: list[list[str]], words: list[list[str]], docs: list[int], cases: list[list[int]] | None,
        scheme: str = "IOB2") -> list[list[str]]:
    """Propagate over sentences of IOB2 tags (converted to `scheme`); IOB2 tags back."""
    labels = IOB2 if scheme == "IOB2" else IOBES
    out_labels, to_out = iob2_label_map(labels)
    model_tags = [t if scheme == "IOB2" else iob2_to_iobes(t) for t in tags]
    paths = np.array([labels.index(t) for s in model_tags for t in s], dtype=np.int64)
    lengths = np.array([len(s) for s in tags])
    flat = [w.lower() for s in words for w in s]
    keys = np.array([sorted(set(flat)).index(w) for w in flat])
    tok_docs = np.repeat(np.array(docs), lengths)
    flat_cases = None if cases is None else np.array([c for s in cases for c in s])
    prop = NamePropagation(labels, out_labels, None if scheme == "IOB2" else np.array(to_out), scheme, "PER")
    got = prop.apply(paths, lengths, tok_docs, keys, flat_cases)
    out = [out_labels[i] for i in (got if scheme == "IOB2" else np.array(to_out)[got])]
    bounds = np.cumsum(lengths).tolist()
    return [out[a:b] for a, b in zip([0, *bounds[:-1]], bounds, strict=True)]


@pytest.mark.parametrize("scheme", ["IOB2", "IOBES"])
def test_a_surname_alone_takes_the_type_of_the_full_name(scheme):
    words = [["Neil", "Jordan", "made", "it"], ["Jordan", "said", "Jordan", "Valley"], ["jordan", "JORDAN", "x"],
             ["Jordan", "won"]]
    tags = [["B-PER", "I-PER", "O", "O"], ["B-LOC", "O", "B-LOC", "I-LOC"], ["O", "O", "O"], ["B-LOC", "O"]]
    cases = [[INITCAP, INITCAP, LOWER, LOWER], [INITCAP, LOWER, INITCAP, INITCAP], [LOWER, ALLCAPS, LOWER],
             [INITCAP, LOWER]]
    got = run(tags, words, [0, 0, 0, 1], cases, scheme)
    assert got[0] == tags[0]                                          # the full name itself
    assert got[1] == ["B-PER", "O", "B-LOC", "I-LOC"]                 # a one-token LOC; "Jordan Valley" is kept
    assert got[2] == tags[2]                                          # lowercase and all-caps O are not names
    assert got[3] == tags[3]                                          # another document


def test_o_tokens_change_only_when_capitalised_and_never_without_cases():
    words = [["Billie", "Jean", "King", "won"], ["King", "said", "King", "x"]]
    tags = [["B-PER", "I-PER", "I-PER", "O"], ["O", "O", "O", "O"]]
    cases = [[INITCAP, INITCAP, INITCAP, LOWER], [INITCAP, LOWER, CASELESS, LOWER]]
    assert run(tags, words, [0, 0], cases)[1] == ["B-PER", "O", "O", "O"]
    assert run(tags, words, [0, 0], None)[1] == tags[1]


def test_nothing_changes_without_a_name_of_two_tokens():
    words = [["Jordan", "x"], ["Jordan", "y"]]
    tags = [["B-PER", "O"], ["B-LOC", "O"]]
    assert run(tags, words, [0, 0], [[INITCAP, LOWER]] * 2) == tags


word = st.sampled_from(["Jordan", "King", "x", "Neil"])
types = st.sampled_from(["LOC", "PER"])


@settings(deadline=None, max_examples=200)
@given(st.lists(st.lists(st.tuples(word, st.one_of(st.none(), st.tuples(types, st.integers(1, 3)))), min_size=1,
                         max_size=7), min_size=1, max_size=5),
       st.lists(st.integers(0, 1), min_size=5, max_size=5), st.sampled_from(["IOB2", "IOBES"]))
def test_propagation_keeps_sequences_valid_and_only_makes_one_token_names(sentences, doc_of, scheme):
    words, tags = [], []
    for s in sentences:
        ws = [w for w, _ in s]
        ents, i = [], 0
        for j, (_, e) in enumerate(s):                                 # entities from the drawn (type, length)
            if e is not None and j >= i:
                n = min(e[1], len(s) - j)
                ents.append((e[0], j, j + n))
                i = j + n
        words.append(ws)
        tags.append(entities_to_tags(ents, len(ws), "IOB2"))
    docs = doc_of[:len(sentences)]
    cases = [[INITCAP if w[0].isupper() else LOWER for w in ws] for ws in words]
    got = run(tags, words, docs, cases, scheme)
    names = {(d, ws[b - 1].lower()) for ws, ts, d in zip(words, tags, docs, strict=True)
             for lab, a, b in get_entities(ts) if lab == "PER" and b - a >= 2}
    for ws, before, after, d in zip(words, tags, got, docs, strict=True):
        assert not invalid_transitions(after, "IOB2")
        for i, (x, y) in enumerate(zip(before, after, strict=True)):
            if x != y:
                assert y == "B-PER" and (d, ws[i].lower()) in names
                assert (x == "O" and ws[i][0].isupper()) or (x.startswith("B-") and (
                    i + 1 == len(before) or before[i + 1] != "I-" + x[2:]))
        kept = [e for e in get_entities(before) if e[2] - e[1] >= 2]
        assert all(e in get_entities(after) for e in kept)


@pytest.fixture(scope="module")
def propagating_model(tmp_path_factory):
    from ner_cli.config import build_config
    from ner_cli.train import train

    out = tmp_path_factory.mktemp("propagation") / "m.npz"
    train(build_config({"data": {"train": str(SAMPLE / "train.txt"), "dev": str(SAMPLE / "dev.txt")},
                        "model": {"hidden": 32, "case_dim": 4, "loss": "crf", "consistency": 1.0,
                                  "name_propagation": "PER"},
                        "train": {"epochs": 6, "lr": 0.005, "seed": 1}, "output": {"path": str(out)}}))
    return out


def reference(words: list[list[str]], tags: list[list[str]], docs: list[int]) -> list[list[str]]:
    """The rule written plainly, word by word (cased text: capitalised = initcap or miXed)."""
    names = {(d, ws[b - 1].lower()) for ws, ts, d in zip(words, tags, docs, strict=True)
             for lab, a, b in get_entities(ts) if lab == "PER" and b - a >= 2}
    out = []
    for ws, ts, d in zip(words, tags, docs, strict=True):
        ts = list(ts)
        for lab, a, b in get_entities(ts):
            if b - a == 1 and lab != "PER" and (d, ws[a].lower()) in names:
                ts[a] = "B-PER"
        for i, w in enumerate(ws):
            capital = w[:1].isupper() and not w.isupper() and any(c.isalpha() for c in w) and not any(
                c.isdigit() for c in w)
            if ts[i] == "O" and capital and (d, w.lower()) in names:
                ts[i] = "B-PER"
        out.append(ts)
    return out


def test_the_tagger_propagates_as_the_plain_rule_does(propagating_model):
    from ner_cli.io.dataset import read_corpus
    from ner_cli.tagger import Tagger

    tagger = Tagger.load(propagating_model)
    assert tagger.meta["name_propagation"] == "PER"
    plain = Tagger(tagger.params, {**tagger.meta, "name_propagation": None})
    corpus = read_corpus(SAMPLE / "dev.txt")
    words, docs = list(corpus.words), [i // 8 for i in range(len(corpus.words))]   # documents of 8 sentences
    for d, ws in enumerate(corpus.words):                              # + each full name's surname, alone
        for lab, a, b in get_entities(corpus.tags_in("IOB2")[d]):
            if lab == "PER" and b - a == 2:
                words += [["The", "race", "ended", "in", ws[b - 1], "."], [ws[b - 1], "won", "."]]
                docs += [d // 8, d // 8]
    before = plain.predict(words, docs)
    want = reference(words, before, docs)
    assert want != before                                              # names to propagate
    tags, entities = tagger.predict_scored(words, docs)
    assert tags == want == tagger.predict(words, docs)
    for ts, ents in zip(tags, entities, strict=True):
        assert [(t, a, b) for t, a, b, _ in ents] == get_entities(ts) and all(0 < p <= 1 for *_, p in ents)
    assert tagger.predict(words) == plain.predict(words)               # each sentence its own document


def test_config_and_model_file_refuse_a_bad_type(propagating_model):
    import json

    from ner_cli.config import build_config
    from ner_cli.errors import ConfigError, ModelFileError
    from ner_cli.io.modelfile import model_bytes
    from ner_cli.prepare import prepare, read_data
    from ner_cli.tagger import Tagger

    with pytest.raises(ConfigError, match="model.name_propagation: needs the multiclass task"):
        build_config({"model": {"task": "binary", "target": "PER", "name_propagation": "PER"}})
    cfg = build_config({"data": {"train": str(SAMPLE / "train.txt"), "dev": str(SAMPLE / "dev.txt")},
                        "model": {"name_propagation": "PERSON"}})
    with pytest.raises(ConfigError, match="no 'PERSON' entities"):
        prepare(cfg, *read_data(cfg))
    t = Tagger.load(propagating_model)
    for bad in ("PERSON", 3, ""):
        meta = json.loads(json.dumps(t.meta))
        meta["name_propagation"] = bad
        with pytest.raises(ModelFileError, match="name_propagation"):
            Tagger.load(model_bytes(dict(t.params), meta))


def test_a_capitalised_compound_surname_counts_as_capitalised():
    from ner_cli.features.casing import COMPOUND_CAPITALISED, COMPOUND_LOWER

    words = [["Andrew", "Lloyd-Webber", "spoke"], ["Lloyd-Webber", "left", "lloyd-webber"]]
    tags = [["B-PER", "I-PER", "O"], ["O", "O", "O"]]
    cases = [[INITCAP, COMPOUND_CAPITALISED, LOWER], [COMPOUND_CAPITALISED, LOWER, COMPOUND_LOWER]]
    assert run(tags, words, [0, 0], cases)[1] == ["B-PER", "O", "O"]


def test_argmax_decoding_is_refused():
    from ner_cli.config import build_config
    from ner_cli.errors import ConfigError

    with pytest.raises(ConfigError, match="model.name_propagation: needs model.decode: viterbi"):
        build_config({"model": {"decode": "argmax", "name_propagation": "PER"}})


def test_a_two_pass_model_keeps_its_longer_entities(tmp_path):
    """The first pass's tags feed the second without propagation, so only one-token entities can change."""
    from ner_cli.config import build_config
    from ner_cli.io.dataset import read_corpus
    from ner_cli.tagger import Tagger
    from ner_cli.train import train

    out = tmp_path / "two_pass.npz"
    train(build_config({"data": {"train": str(SAMPLE / "train.txt"), "dev": str(SAMPLE / "dev.txt")},
                        "model": {"hidden": 16, "case_dim": 4, "loss": "crf", "mention_dim": 4,
                                  "name_propagation": "PER"},
                        "train": {"epochs": 2, "lr": 0.005, "seed": 1}, "output": {"path": str(out)}}))
    tagger = Tagger.load(out)
    plain = Tagger(tagger.params, {**tagger.meta, "name_propagation": None})
    words = read_corpus(SAMPLE / "dev.txt").words
    docs = [i // 8 for i in range(len(words))]
    with_it, without = tagger.predict(words, docs), plain.predict(words, docs)
    assert reference(words, without, docs) == with_it
    for a, b in zip(with_it, without, strict=True):
        assert [e for e in get_entities(a) if e[2] - e[1] > 1] == [e for e in get_entities(b) if e[2] - e[1] > 1]
