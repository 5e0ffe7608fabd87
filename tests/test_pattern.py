"""The CNN pattern language: parsing, printing, round trips, errors with their columns, building."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from reti.errors import ConfigError, ParseError, ShapeError
from reti.layers import Dropout
from reti.models.cnn import CNNConfig, PatternCNN, pattern_of
from reti.models.pattern import Layer, Pattern, Repeat, expand, parse, to_pattern

NOTES_EXAMPLE = "[(CONV3@32-RELU)*2-POOL]*2-(FC@128-RELU)*1,SOFTMAX"


def test_notes_example_parses_to_the_expected_tree():
    p = parse(NOTES_EXAMPLE)
    conv = Layer("CONV", (3, 3), 32)
    inner = Repeat((conv, Layer("RELU")), 2, "(")
    assert p == Pattern(
        (
            Repeat((inner, Layer("POOL")), 2, "["),
            Repeat((Layer("FC", size=128), Layer("RELU")), 1, "("),
        ),
        softmax=True,
    )
    kinds = [layer.kind for layer in expand(p)]
    assert kinds == ["CONV", "RELU", "CONV", "RELU", "POOL"] * 2 + ["FC", "RELU"]


def test_case_and_spaces_are_normalised():
    text = " [ (conv3@32 - relu)*2 - pool ]*2 - (fc@128-relu)*1 , softmax "
    assert to_pattern(parse(text)) == NOTES_EXAMPLE


@pytest.mark.parametrize(
    "text",
    [
        NOTES_EXAMPLE,
        "CONV3x5@8(stride=2,padding=0)-BN-DROPOUT(0.5,standard)-GAP,SOFTMAX",
        "CONV*3-POOL3(stride=1)-AVGPOOL-TANH-SIGMOID-GELU",
        "CONV-RELU-DROPOUT(0.25)-FC@10",
        "((CONV-RELU)*2)*3",
    ],
)
def test_round_trip(text):
    p = parse(text)
    assert parse(to_pattern(p)) == p
    assert to_pattern(parse(to_pattern(p))) == to_pattern(p)


_layer = st.sampled_from(
    ["CONV", "CONV5@16", "CONV3x1@4(stride=2)", "RELU", "BN", "POOL", "AVGPOOL3", "GAP", "FC@7",
     "DROPOUT(0.3)", "DROPOUT(0.1,standard)"]
)  # fmt: skip


def _tree(depth):
    if depth == 0:
        return _layer
    sub = st.lists(_tree(depth - 1), min_size=1, max_size=3).map("-".join)
    return st.one_of(
        _layer,
        st.tuples(sub, st.integers(1, 4), st.sampled_from("([")).map(
            lambda t: f"{t[2]}{t[0]}{')' if t[2] == '(' else ']'}*{t[1]}"
        ),
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(_tree(2), min_size=1, max_size=4).map("-".join), st.booleans())
def test_round_trip_random(body, softmax):
    text = body + (",SOFTMAX" if softmax else "")
    p = parse(text)
    assert parse(to_pattern(p)) == p


@pytest.mark.parametrize(
    "text, column, words",
    [
        ("", 1, "empty pattern"),
        ("CONV-RELU-$", 11, "unexpected character '$'"),
        ("CONV-RELLU", 6, "unknown layer 'RELLU'"),
        ("(CONV-RELU", 11, "missing ')'"),
        ("[CONV-RELU)*2", 11, "missing ']'"),
        ("CONV-FC-RELU", 8, "FC needs '@size'"),
        ("CONV@-RELU", 6, "expected a whole size after '@'"),
        ("(CONV-RELU)*0", 13, "repeat count must be in [1, 1000], got 0"),
        ("(CONV-RELU)*N", 13, "expected a whole repeat count"),
        ("(CONV-RELU)*2.5", 13, "expected a whole repeat count"),
        ("CONV-POOL?", 10, "optional layer"),
        ("CONV-", 6, "got the end"),
        ("CONV-RELU)", 10, "unexpected ')'"),
        ("CONV,SOFTMIN", 6, "expected SOFTMAX"),
        ("CONV,SOFTMAX-RELU", 13, "unexpected '-'"),
        ("RELU3", 5, "RELU takes no kernel size"),
        ("CONV3y3", 6, "unexpected 'y'"),
        ("POOL@4", 6, "POOL takes no '@size'"),
        ("DROPOUT", 8, "DROPOUT needs its rate"),
        ("DROPOUT(1.5)", 9, "DROPOUT p must be a number in [0, 1)"),
        ("DROPOUT(0.5,sometimes)", 13, "DROPOUT mode must be one of inverted, standard"),
        ("CONV(strid=2)", 6, "CONV has no option 'strid'"),
        ("CONV(stride=0)", 13, "stride must be a whole number >= 1"),
        ("CONV(stride=2,stride=2)", 15, "given twice"),
        ("CONV(1,1,1)", 10, "at most 2 arguments"),
        ("RELU(1)", 6, "RELU takes no arguments"),
        ("CONV(stride=2", 14, "expected ',' or ')'"),
        ("CONV0@8", 5, "kernel must be >= 1"),
        ("FC@0", 4, "FC size must be >= 1"),
        ("CONV1.2.3", 5, "malformed number"),
    ],
)
def test_each_error_kind_reports_its_column(text, column, words):
    with pytest.raises(ParseError) as info:
        parse(text)
    err = info.value
    assert words in err.message
    assert err.position == column - 1, (err.message, err.position)
    assert f"at column {column}" in str(err)
    assert err.caret().splitlines()[1].index("^") == column - 1 + 2
    assert isinstance(err, ValueError)


def test_too_many_layers_is_refused_before_unrolling():
    p = parse("[CONV*1000]*1000")
    with pytest.raises(ConfigError, match="unrolls to 1000000 layers"):
        expand(p)


def test_parse_needs_a_string():
    with pytest.raises(TypeError, match="pattern must be a str"):
        parse(42)


def test_built_model_shapes_defaults_and_classifier_head():
    model = PatternCNN(CNNConfig("[(CONV-RELU)*2-POOL]*3,SOFTMAX", 3, 32, 7))
    convs = [m for m in model if isinstance(m, nn.Conv2d)]
    # default channels: 32, kept inside a stage, doubled after each pool
    assert [c.out_channels for c in convs] == [32, 32, 64, 64, 128, 128]
    assert all(c.kernel_size == (3, 3) and c.padding == (1, 1) for c in convs)
    head = list(model)[-1]
    assert (
        isinstance(head, nn.Linear) and head.in_features == 128 * 4 * 4 and head.out_features == 7
    )
    out = model(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 7)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_conv_options_follow_the_output_size_formula():
    model = PatternCNN(CNNConfig("CONV5@4(stride=2,padding=0)-POOL3(stride=1)", 1, (29, 17), 10))
    # (29 - 5) // 2 + 1 = 13, (17 - 5) // 2 + 1 = 7; then pool 3 stride 1: 11 x 5
    assert model(torch.randn(1, 1, 29, 17)).shape == (1, 4, 11, 5)
    assert model.out_shape == (4, 11, 5)


def test_bn_and_dropout_modules():
    model = PatternCNN(CNNConfig("CONV@8-BN-RELU-FC@16-BN-DROPOUT(0.5,standard)", 1, 6, 3))
    kinds = [type(m) for m in model]
    assert nn.BatchNorm2d in kinds and nn.BatchNorm1d in kinds
    drop = next(m for m in model if isinstance(m, Dropout))
    assert drop.p == 0.5 and drop.mode == "standard"
    default = PatternCNN(CNNConfig("FC@4-DROPOUT(0.2)", 1, 3, 3, dropout_mode="standard"))
    assert next(m for m in default if isinstance(m, Dropout)).mode == "standard"


def test_shrinking_pattern_names_the_layer():
    with pytest.raises(ShapeError) as info:
        PatternCNN(CNNConfig("[CONV-RELU-POOL]*3,SOFTMAX", 1, 6, 10))
    # 6 -> 3 -> 1 -> the third POOL (layer 9) would make 0x0
    assert "layer 9 (POOL at column 12)" in str(info.value)
    assert "1x1 feature map to 0x0" in str(info.value)
    with pytest.raises(ShapeError, match="layer 3 \\(CONV"):
        PatternCNN(CNNConfig("FC@8-RELU-CONV", 1, 6, 10))


def test_bad_config_values():
    with pytest.raises(ConfigError, match="in_channels=0"):
        PatternCNN(CNNConfig("CONV", 0, 28, 10))
    with pytest.raises(ConfigError, match="num_classes must be >= 1, got 0"):
        PatternCNN(CNNConfig("CONV,SOFTMAX", 1, 28, 0))
    with pytest.raises(ConfigError, match="dropout_mode"):
        PatternCNN(CNNConfig("CONV", 1, 28, 10, dropout_mode="both"))


def test_model_prints_its_pattern_back():
    model = PatternCNN(CNNConfig(NOTES_EXAMPLE, 1, 28, 10))
    assert model.pattern == NOTES_EXAMPLE
    flat = pattern_of(model)
    assert flat == to_pattern(expand(parse(NOTES_EXAMPLE)), softmax=True)
    # the flat pattern rebuilds the same network, parameter for parameter
    rebuilt = PatternCNN(CNNConfig(flat, 1, 28, 10))
    shapes = [p.shape for p in model.parameters()]
    assert [p.shape for p in rebuilt.parameters()] == shapes
    rebuilt.load_state_dict(model.state_dict())
    x = torch.randn(2, 1, 28, 28)
    torch.testing.assert_close(rebuilt(x), model(x))
    odd = nn.Sequential(nn.Conv2d(1, 2, 3), nn.LSTM(2, 2))
    with pytest.raises(ConfigError, match="has no pattern word"):
        pattern_of(odd)


@pytest.mark.parametrize(
    ("text", "column", "words"),
    [
        ("CONV²@8", 5, "unexpected character '²'"),  # "²".isdigit() is True in Python
        ("CONV3@32-FC@٣", 13, "unexpected character '٣'"),
        ("FC@" + "9" * 5000, 4, "number of 5000 digits; at most 18"),
        ("(" * 33 + "RELU" + ")" * 33, 33, "groups nested more than 32 deep"),
        ("[" * 400 + "RELU" + "]" * 400, 33, "groups nested more than 32 deep"),
    ],
)
def test_hostile_patterns_are_parse_errors(text, column, words):
    with pytest.raises(ParseError) as info:
        parse(text)
    assert words in info.value.message and info.value.position + 1 == column
    shown, caret = info.value.caret().splitlines()
    assert shown[caret.index("^")] == text[column - 1]


def test_deepest_allowed_nesting_and_largest_number_parse():
    deep = "(" * 32 + "RELU" + ")" * 32
    assert parse(deep) == parse(to_pattern(parse(deep)))
    assert parse("FC@" + "9" * 18).body[0].size == 10**18 - 1
