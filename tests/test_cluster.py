"""A real Dask cluster on localhost (2 worker processes): the README's recipe, byte for byte `ner tag`'s output."""

from __future__ import annotations

import pytest

pytest.importorskip("distributed", reason="needs the dask extra: pip install -e '.[dask]'")

import dask.bag as db  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

from ner_cli.api import tag_bag  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      env={"OPENBLAS_NUM_THREADS": "1"}) as cluster, Client(cluster) as c:
        yield c


@pytest.mark.parametrize("fmt", ["jsonl", "conll"])
def test_local_cluster_output_equals_ner_tag(client, corpus, sample_model, tmp_path, fmt, ner_tag):
    # -- the README's recipe (Beyond one process), with local paths --
    lines = db.read_text(str(corpus), blocksize="16kB")
    tag_bag(lines, str(sample_model), fmt=fmt).to_textfiles(str(tmp_path / f"*.{fmt}"), last_endline=True)
    # --
    assert lines.npartitions >= 4
    parts = sorted(tmp_path.glob(f"*.{fmt}"), key=lambda p: int(p.stem))
    assert len(parts) == lines.npartitions
    assert b"".join(p.read_bytes() for p in parts) == ner_tag(sample_model, corpus, fmt)
    assert len(client.scheduler_info()["workers"]) == 2


def test_a_document_model_gives_ner_tags_output_when_partitions_end_at_blank_lines(client, corpus, crf_model,
                                                                                  ner_tag, tmp_path):
    """Document consistency sees the documents inside one partition: partitions cut at blank lines (between
    documents) give one process's output byte for byte (and consistency changes some tags of this text)."""
    from ner_cli.api import tag
    from ner_cli.tagger import Tagger

    lines = corpus.read_text(encoding="utf-8").splitlines()
    cuts = [0] + [i for i, line in enumerate(lines) if not line and i % 150 < 7] + [len(lines)]
    parts = [lines[a:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True) if b > a]
    assert len(parts) >= 4
    bag = db.from_sequence(parts, npartitions=len(parts)).flatten()
    tag_bag(bag, str(crf_model), fmt="conll").to_textfiles(str(tmp_path / "*.conll"), last_endline=True)
    files = sorted(tmp_path.glob("*.conll"), key=lambda p: int(p.stem))
    assert len(files) == len(parts)
    assert b"".join(p.read_bytes() for p in files) == ner_tag(crf_model, corpus, "conll")
    plain = Tagger.load(crf_model)
    plain.consistency = 0.0                   # the same network without it tags this text differently
    assert list(tag(plain, lines, "conll")) != list(tag(Tagger.load(crf_model), lines, "conll"))


def test_model_bytes_are_one_task_of_the_graph(corpus, sample_model):
    data = sample_model.read_bytes()
    bag = tag_bag(db.read_text(str(corpus), blocksize="16kB"), data)
    graph = dict(bag.__dask_graph__())
    holding = [k for k, v in graph.items() if getattr(v, "value", None) is data]
    assert len(holding) == 1                                          # shipped once, not once per partition
    assert all(holding[0] in v.dependencies for k, v in graph.items() if "tag_partition" in str(k))


def test_a_bad_model_fails_before_any_work(corpus, tmp_path):
    from ner_cli.errors import NerError

    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a model")
    with pytest.raises(NerError):
        tag_bag(db.read_text(str(corpus)), bad)
