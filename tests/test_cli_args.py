"""Flags from dataclasses: one per field, --x/--no-x, --config file first, flags override."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, fields

import pytest

from reti.cli.args import add_config_args, config_from_args
from reti.cli.main import main
from reti.errors import ConfigError, DataNotFoundError
from reti.train import TrainConfig


def parse(*argv):
    parser = argparse.ArgumentParser()
    add_config_args(parser, TrainConfig)
    return config_from_args(TrainConfig, parser.parse_args(list(argv)))


def test_one_flag_per_field():
    parser = argparse.ArgumentParser()
    add_config_args(parser, TrainConfig)
    options = {s for a in parser._actions for s in a.option_strings}
    for f in fields(TrainConfig):
        assert "--" + f.name.replace("_", "-") in options
    assert {"--no-compile", "--no-quiet", "--config"} <= options


def test_no_flags_give_the_defaults():
    assert parse() == TrainConfig()


def test_flags_are_typed():
    cfg = parse("--lr", "0.1", "--epochs", "3", "--compile", "--grad-clip", "1", "--seed", "7")
    assert cfg.lr == 0.1 and cfg.epochs == 3 and cfg.compile is True
    assert cfg.grad_clip == 1.0 and isinstance(cfg.grad_clip, float) and cfg.seed == 7
    assert parse("--max-steps", "5", "--max-steps", "none").max_steps is None
    assert parse("--schedule", "cosine", "--optimizer", "sgd").schedule == "cosine"


def test_config_file_first_then_flags_override(tmp_path):
    file = tmp_path / "train.json"
    file.write_text(json.dumps({"lr": 0.5, "epochs": 4, "quiet": True, "grad_clip": None}))
    cfg = parse("--config", str(file), "--epochs", "2", "--no-quiet")
    assert (cfg.lr, cfg.epochs, cfg.quiet, cfg.grad_clip) == (0.5, 2, False, None)
    # a run's config.json feeds back as it is
    run = tmp_path / "config.json"
    run.write_text(json.dumps({"train_config": asdict(TrainConfig(lr=0.25)), "world_size": 1}))
    assert parse("--config", str(run)).lr == 0.25


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--lr", "fast"], "--lr must be float, got 'fast'"),
        (["--epochs", "1.5"], "--epochs must be int, got '1.5'"),
        (["--max-steps", "many"], "--max-steps must be int or none, got 'many'"),
        (["--lr", "-1"], "lr must be a finite number > 0, got -1.0"),
        (["--lr", "nan"], "lr must be a finite number > 0, got nan"),
        (["--batch-size", "0"], "batch_size must be an integer >= 1, got 0"),
        (["--schedule", "linear"], "schedule must be one of constant, step, cosine, onecycle"),
        (["--accumulate", "-2"], "accumulate must be an integer >= 1, got -2"),
    ],
)
def test_bad_flags_are_config_errors(argv, message):
    with pytest.raises(ConfigError, match=message):
        parse(*argv)


def test_bad_config_files(tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist"):
        parse("--config", str(tmp_path / "none.json"))
    bad = tmp_path / "bad.json"
    bad.write_text("{lr: 1")
    with pytest.raises(ConfigError, match="not valid JSON"):
        parse("--config", str(bad))
    bad.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="must hold a JSON object, got list"):
        parse("--config", str(bad))
    bad.write_text(json.dumps({"lr": 0.1, "learning_rate": 0.1}))
    with pytest.raises(ConfigError, match="unknown TrainConfig field.* learning_rate"):
        parse("--config", str(bad))
    bad.write_text(json.dumps({"epochs": "three"}))
    with pytest.raises(ConfigError, match="epochs must be int, got 'three'"):
        parse("--config", str(bad))
    bad.write_text(json.dumps({"epochs": 0}))
    with pytest.raises(ConfigError, match="epochs must be an integer >= 1, got 0"):
        parse("--config", str(bad))


def test_a_pipeline_command_turns_a_bad_training_flag_into_one_line(capsys):
    """`reti series ...` builds its TrainConfig with these helpers (before touching any data)."""
    code = main(["series", "classify", "--lr", "-1", "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == ["reti: error: lr must be a finite number > 0, got -1.0"]


@pytest.mark.network
def test_docs_commands_flags_then_a_config_file_replay(tmp_path, capsys):
    """docs/training.md: train with flags, then replay the run's config.json with one change."""
    first, second = tmp_path / "digits", tmp_path / "digits-again"
    small = ["--data", "digits", "--limit", "200", "--quiet"]
    flags = ["--epochs", "1", "--lr", "0.003", "--schedule", "cosine", "--warmup-steps", "5"]
    assert main(["vision", "train", *small, *flags, "--out", str(first)]) == 0
    saved = json.loads((first / "config.json").read_text())["train_config"]
    assert (saved["lr"], saved["schedule"], saved["warmup_steps"]) == (0.003, "cosine", 5)
    replay = ["--config", str(first / "config.json"), "--batch-size", "32"]
    assert main(["vision", "train", *small, *replay, "--out", str(second)]) == 0
    again = json.loads((second / "config.json").read_text())["train_config"]
    assert again == {**saved, "batch_size": 32}
    assert "test accuracy" in capsys.readouterr().out
