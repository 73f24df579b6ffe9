"""Model files: round trip, atomic writes, and refusal of anything that is not a valid ner model."""

from __future__ import annotations

import io
import json
import pickle
import zipfile

import numpy as np
import pytest

from ner_cli.errors import ModelFileError
from ner_cli.io.modelfile import META_KEY, load_model_arrays, model_bytes, save_model
from ner_cli.tagger import Tagger


def test_round_trip_gives_identical_predictions(sample_model, tmp_path):
    t = Tagger.load(sample_model)
    copy = tmp_path / "copy.npz"
    save_model(copy, t.params, t.meta)
    t2 = Tagger.load(copy)
    for k in t.params:
        np.testing.assert_array_equal(t.params[k], t2.params[k])
    words = [["Ana", "Costa", "flew", "to", "Lisbon", "."]]
    assert t.predict(words) == t2.predict(words) == Tagger.from_bytes(copy.read_bytes()).predict(words)


def test_truncated_file_is_refused(sample_model, tmp_path):
    data = sample_model.read_bytes()
    bad = tmp_path / "cut.npz"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="not a valid ner model file"):
        load_model_arrays(bad)


def test_pickle_disguised_as_npz_is_refused(tmp_path):
    evil = tmp_path / "evil.npz"
    evil.write_bytes(pickle.dumps({"E": np.zeros(3)}))
    with pytest.raises(ModelFileError):
        load_model_arrays(evil)
    # an object array inside a real zip needs pickle: refused too
    buf = io.BytesIO()
    np.savez(buf, E=np.array([{"a": 1}], dtype=object))
    (tmp_path / "obj.npz").write_bytes(buf.getvalue())
    with pytest.raises(ModelFileError):
        load_model_arrays(tmp_path / "obj.npz")


def _rewrite(sample_model, tmp_path, edit) -> bytes:
    t = Tagger.load(sample_model)
    params, meta = dict(t.params), json.loads(json.dumps(t.meta))
    edit(params, meta)
    return model_bytes(params, meta)


def test_newer_format_wrong_shapes_and_directories_are_refused(sample_model, tmp_path):
    def newer(p, m):
        m["format_version"] = 99
    data = _rewrite(sample_model, tmp_path, newer)
    # model_bytes stamps the current version; patch the metadata array by hand
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        arrays = {n[:-4]: np.load(io.BytesIO(z.read(n))) for n in z.namelist()}
    meta = json.loads(arrays[META_KEY].tobytes())
    meta["format_version"] = 99
    arrays[META_KEY] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    with pytest.raises(ModelFileError, match="newer"):
        load_model_arrays(buf.getvalue())

    def shrink(p, m):
        p["W"] = p["W"][:, :-1]
    with pytest.raises(ModelFileError, match="array W has shape"):
        load_model_arrays(_rewrite(sample_model, tmp_path, shrink))
    with pytest.raises(ModelFileError, match="is a directory"):
        load_model_arrays(tmp_path)
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model_arrays(tmp_path / "nope.npz")


def test_interrupted_save_leaves_the_old_file_untouched(sample_model, tmp_path, monkeypatch):
    target = tmp_path / "m.npz"
    target.write_bytes(sample_model.read_bytes())
    before = target.read_bytes()
    t = Tagger.load(sample_model)

    def interrupted(fd):                      # Ctrl-C after the bytes are written, before the rename
        raise KeyboardInterrupt
    monkeypatch.setattr("ner_cli.io.modelfile.os.fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_model(target, t.params, t.meta)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]
