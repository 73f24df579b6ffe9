"""The Python API, run the way a Dask / Spark worker runs it: model bytes in, one output per line, in order."""

from __future__ import annotations

import functools
import json
import multiprocessing as mp
import pickle

import pytest

from ner_cli import api
from ner_cli.pipeline import tag_lines
from ner_cli.tagger import Tagger

LINES = ["Peter Blackburn lives in Lyon .", "", "  EU rejects German call to boycott British lamb .  ",
         "Ana Costa flew to Lisbon on Monday .", "U.S. officials met Mr. Smith in Washington .\r\n"]


def _worker(partition: list[str], model_bytes: bytes) -> list[str]:
    """What an engine's worker does with one partition (Spark: rdd.mapPartitions; Dask: bag.map_partitions)."""
    return list(api.tag_partition(partition, model_bytes))


@pytest.mark.parametrize("fmt", ["jsonl", "conll", "inline"])
def test_tag_matches_the_cli_pipeline(sample_model, fmt):
    tagger = Tagger.load(sample_model)
    assert "".join(api.tag(sample_model, LINES, fmt)) == "".join(tag_lines(tagger, LINES, fmt))
    assert "".join(api.tag(tagger, LINES, fmt, chunk_lines=2)) == "".join(tag_lines(tagger, LINES, fmt))


def test_records_have_character_offsets(sample_model):
    recs = list(api.records(api.load(sample_model.read_bytes()), LINES))
    assert len(recs) == len(LINES)
    for rec, line in zip(recs, LINES, strict=True):
        assert rec["text"] == line.rstrip("\r\n")
        for ent in rec["entities"]:
            assert rec["text"][ent["start"]:ent["end"]] == ent["text"]


def test_bytes_are_loaded_once_per_process(sample_model):
    data = sample_model.read_bytes()
    assert api.load(data) is api.load(bytes(data))


def test_partitions_in_spawned_workers_give_the_single_process_output_in_order(sample_model):
    data = sample_model.read_bytes()
    lines = [f"{line} {i}" for i in range(300) for line in LINES]
    expected = [out[:-1] for out in api.tag(data, lines)]
    partitions = [lines[i:i + 170] for i in range(0, len(lines), 170)]
    task = functools.partial(_worker, model_bytes=data)
    assert len(pickle.dumps(task)) < len(data) + 10_000          # only the bytes travel, no Tagger pickled
    with mp.get_context("spawn").Pool(2) as pool:
        results = pool.map(task, partitions)
    got = [out for part in results for out in part]
    assert got == expected
    assert [json.loads(out)["text"] for out in got] == [line.rstrip("\r\n") for line in lines]


def test_unknown_format_is_refused(sample_model):
    with pytest.raises(ValueError, match="unknown output format"):
        list(api.tag(sample_model, LINES, "xml"))
