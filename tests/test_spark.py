"""Spark in local mode (2 worker threads, Python worker processes): the README's recipe, byte for byte `ner tag`."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

pytest.importorskip("pyspark", reason="needs the spark extra: pip install -e '.[spark]'")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs a Java runtime (Debian: apt-get install default-jre-headless)", allow_module_level=True)

from pyspark.sql import SparkSession  # noqa: E402

from ner_cli import api  # noqa: E402


@pytest.fixture(scope="module")
def sc():
    os.environ["PYSPARK_PYTHON"] = os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable  # this venv's ner_cli
    spark = (SparkSession.builder.master("local[2]").appName("ner-test")
             .config("spark.ui.enabled", "false")
             .config("spark.executorEnv.OPENBLAS_NUM_THREADS", "1")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    yield spark.sparkContext
    spark.stop()


@pytest.mark.parametrize("fmt", ["jsonl", "conll"])
def test_spark_recipe_output_equals_ner_tag(sc, corpus, sample_model, tmp_path, fmt, ner_tag):
    out = tmp_path / "corpus-ner"
    # -- the README's recipe (Beyond one process), with local paths and the format made explicit --
    model = sc.broadcast(sample_model.read_bytes())
    rdd = sc.textFile(str(corpus), minPartitions=4)
    rdd.mapPartitions(lambda lines: api.tag_partition(lines, model.value, fmt=fmt)).saveAsTextFile(str(out))
    # --
    parts = sorted(out.glob("part-*"))
    assert rdd.getNumPartitions() >= 4 and len(parts) == rdd.getNumPartitions()
    assert b"".join(p.read_bytes() for p in parts) == ner_tag(sample_model, corpus, fmt)
