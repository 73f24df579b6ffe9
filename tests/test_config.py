"""Config loading: defaults, overrides, and errors that name the key and list the valid ones."""

from __future__ import annotations

import pytest

from ner_cli.config import build_config, load_config, parse_override
from ner_cli.errors import ConfigError


def test_defaults_and_file_values(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("model:\n  hidden: 64\ntrain:\n  lr: 0.01\n")
    cfg = load_config(p)
    assert cfg.model.hidden == 64 and cfg.train.lr == 0.01 and cfg.model.window == 2


def test_overrides_parse_yaml_scalars():
    cfg = build_config({}, ["train.lr=1e-2", "model.embeddings=null", "data.repair=true", "model.target=PER"])
    assert cfg.train.lr == 0.01 and cfg.model.embeddings is None and cfg.data.repair is True
    assert parse_override("output.path=models/x.npz") == ("output.path", "models/x.npz")


def test_unknown_key_suggests_the_nearest_and_lists_valid_ones():
    with pytest.raises(ConfigError) as e:
        build_config({"model": {"activaton": "relu"}}, source="c.yaml")
    msg = str(e.value)
    assert "c.yaml: model.activaton: unknown key" in msg and "did you mean 'activation'" in msg
    assert "window" in msg and "hidden" in msg


def test_all_problems_reported_at_once():
    with pytest.raises(ConfigError) as e:
        build_config({"model": {"hidden": -3, "activation": "relux"}, "train": {"lr": "fast"}, "trian": {}})
    problems = e.value.problems
    assert any("model.hidden: expected a number > 0, got -3" in p for p in problems)
    assert any("model.activation: expected one of" in p and "relu" in p for p in problems)
    assert any("train.lr: expected a number, got 'fast'" in p for p in problems)
    assert any("trian: unknown section" in p and "'train'" in p for p in problems)


def test_wrong_types_and_cross_key_rules():
    with pytest.raises(ConfigError, match=r"model.window: expected an integer, got 2.5"):
        build_config({"model": {"window": 2.5}})
    with pytest.raises(ConfigError, match="binary task needs a target"):
        build_config({"model": {"task": "binary", "loss": "logistic"}})
    with pytest.raises(ConfigError, match="multiclass task takes softmax or crf"):
        build_config({"model": {"loss": "margin"}})
    with pytest.raises(ConfigError, match=r"model.dropout_input: expected a rate in \[0, 1\)"):
        build_config({"model": {"dropout_input": 1.5}})


def test_bad_override_syntax_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="expected section.key=value"):
        build_config({}, ["train.lr"])
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_exponent_notation_in_yaml_is_a_number(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("train:\n  lr: 1e-3\n")
    assert load_config(p).train.lr == 0.001
