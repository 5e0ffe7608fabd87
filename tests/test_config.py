"""reti.config: the one config dialect (a field's help and rule, one checker) and the one reader
of ``kind:PATH`` specs."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, fields

import pytest

from reti.cli.args import add_pipeline_args
from reti.config import (
    BOOL,
    COUNT,
    FRACTION,
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    OPTIONAL_BOOL,
    OPTIONAL_COUNT,
    POSITIVE,
    TEXT,
    check,
    field_help,
    field_rule,
    integer,
    interval,
    one_of,
    option,
    parse_spec,
    read_value,
)
from reti.errors import ConfigError, DataError
from reti.generate import SamplingConfig
from reti.models import (
    CNNConfig,
    FCNConfig,
    GPTConfig,
    MLPConfig,
    ResNetConfig,
    SeriesTransformerConfig,
    TCNConfig,
    VGGConfig,
)
from reti.tasks.series import SeriesConfig
from reti.tasks.text import TextConfig
from reti.tasks.vision import VisionConfig
from reti.train import TrainConfig


@dataclass
class Knobs:
    count: int = option(1, "A count.", COUNT)
    maybe: int | None = option(None, "A count or nothing.", OPTIONAL_COUNT)
    steps: int = option(0, "Steps.", NON_NEGATIVE_INT)
    rate: float = option(0.1, "A rate.", POSITIVE)
    decay: float = option(0.0, "A decay.", NON_NEGATIVE)
    p: float = option(0.0, "A probability.", FRACTION)
    q: float = option(0.5, "A quantile.", interval(0, 1, "(]"))
    kind: str = option("a", "A kind.", one_of(("a", "b")))
    flag: bool = option(False, "A switch.", BOOL)
    auto: bool | None = option(None, "Auto or a switch.", OPTIONAL_BOOL)
    name: str = option("x", "A name.", TEXT)
    window: int | None = option(None, "A window.", integer(2).or_none().says(">= 2 or None"))
    free: str = option("anything", "No rule.")

    def __post_init__(self) -> None:
        check(self)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"count": 0}, "count must be an integer >= 1, got 0"),
        ({"count": 2.0}, "count must be an integer >= 1, got 2.0"),
        ({"count": True}, "count must be an integer >= 1, got True"),
        ({"maybe": 0}, "maybe must be None or an integer >= 1, got 0"),
        ({"steps": -1}, "steps must be an integer >= 0, got -1"),
        ({"rate": 0}, "rate must be a finite number > 0, got 0"),
        ({"rate": math.inf}, "rate must be a finite number > 0, got inf"),
        ({"rate": math.nan}, "rate must be a finite number > 0, got nan"),
        ({"rate": "1e-3"}, "rate must be a finite number > 0, got '1e-3'"),
        ({"decay": -0.5}, "decay must be a number >= 0, got -0.5"),
        ({"p": 1.0}, "p must be in [0, 1), got 1.0"),
        ({"q": 0.0}, "q must be in (0, 1], got 0.0"),
        ({"kind": "c"}, "kind must be one of a, b, got 'c'"),
        ({"flag": 1}, "flag must be True or False, got 1"),
        ({"auto": "yes"}, "auto must be None, True or False, got 'yes'"),
        ({"name": 3}, "name must be a string, got 3"),
        ({"window": 1}, "window must be >= 2 or None, got 1"),
    ],
)
def test_a_bad_value_of_each_rule_gives_the_field_the_value_and_what_is_allowed(change, message):
    with pytest.raises(ConfigError) as info:
        Knobs(**change)
    assert str(info.value) == message


def test_good_values_pass_and_a_field_without_a_rule_is_not_checked():
    knobs = Knobs(maybe=None, rate=3, q=1.0, auto=True, window=2, free=None)
    assert (knobs.rate, knobs.q, knobs.free) == (3, 1.0, None)


def test_the_prefix_names_the_config_and_the_first_bad_field_in_order_wins():
    with pytest.raises(ConfigError) as info:
        GPTConfig(n_layer=0, dropout=2.0)
    assert str(info.value) == "GPTConfig n_layer must be a positive integer, got 0"
    with pytest.raises(ConfigError, match=r"^TCN levels must be >= 1, got 0$"):
        TCNConfig(levels=0)


def test_help_and_rule_come_from_the_field_and_the_cli_shows_that_help():
    assert field_help(Knobs)["rate"] == "A rate." and field_help(Knobs())["free"] == "No rule."
    assert field_rule(TrainConfig, "lr") is POSITIVE and field_rule(Knobs, "free") is None
    parser = add_pipeline_args(argparse.ArgumentParser(), VisionConfig, group="vision")
    shown = {a.dest: a.help for a in parser._actions}
    assert shown["lr"] == field_help(TrainConfig)["lr"] + " Default: 0.001."
    assert shown["bn_stats"].startswith(field_help(VisionConfig)["bn_stats"])
    with pytest.raises(TypeError, match="needs a dataclass"):
        field_help(3)


CONFIGS = [TrainConfig, VisionConfig, SeriesConfig, TextConfig, SamplingConfig, CNNConfig,
           FCNConfig, GPTConfig, MLPConfig, ResNetConfig, SeriesTransformerConfig, TCNConfig,
           VGGConfig]  # fmt: skip


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.__name__)
def test_every_config_speaks_the_one_dialect(config):
    """Every plain field has its help; every config checks at least one rule through check."""
    plain = [f for f in fields(config) if f.name not in ("train", "options")]
    assert all(f.metadata.get("help") for f in plain), config
    assert any(f.metadata.get("rule") for f in plain), config


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("co2", ("co2", None)),
        (" CO2 ", ("co2", None)),
        ("csv:/tmp/a.csv", ("csv", "/tmp/a.csv")),
        ("CSV:C:/data/a:b.csv", ("csv", "C:/data/a:b.csv")),  # the path keeps its own colons
    ],
)
def test_parse_spec_reads_a_name_or_kind_path(spec, expected):
    assert parse_spec(spec, "series", ["co2", "airline"], ["csv"]) == expected


@pytest.mark.parametrize("spec", ["nosuch", "csv:", "xls:/tmp/a", "", None])
def test_parse_spec_refuses_anything_else_in_one_wording(spec):
    with pytest.raises(ConfigError) as info:
        parse_spec(spec, "series", ["co2", "airline"], ["csv"])
    assert str(info.value) == f"unknown series {spec!r}; use one of: co2, airline, csv:PATH"
    with pytest.raises(DataError, match="unknown image data set"):
        parse_spec(spec, "image data set", ["mnist"], ["folder"], error=DataError)


def test_parse_spec_with_a_default_reads_a_plain_path():
    assert parse_spec("notes.txt", "text", ["shakespeare"], ["file"], default="file") == (
        "file",
        "notes.txt",
    )
    assert parse_spec("Shakespeare", "text", ["shakespeare"], ["file"], default="file") == (
        "shakespeare",
        None,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("On", True), ("1", True), ("false", False), (" no ", False), ("0", False)],
)
def test_a_boolean_setting_read_from_text_is_its_word_not_pythons_truth(text, expected):
    # bool("false") is True in Python; a form's "false" must switch the setting off
    assert read_value(TrainConfig, "quiet", text) is expected


def test_a_boolean_setting_refuses_other_words():
    with pytest.raises(ConfigError, match=r"^--quiet must be true or false, got 'maybe'$"):
        read_value(TrainConfig, "quiet", "maybe", label="--quiet")
