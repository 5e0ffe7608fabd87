"""Fuzzing the parsers and loaders that read what a user types or hands over: the CNN pattern
parser, the augmentation spec parser, the JSON loader with its schema check, a checkpoint's
meta.json and ``latest`` pointer. Arbitrary input gives a ``RetiError`` or a valid result; any
other exception (RecursionError, ValueError from int(), KeyError, UnicodeDecodeError ...) fails.

Each property also checks what a valid result means (a printed pattern/spec parses back to the
same thing; JSON that loads is the document that was written)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import torch
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from reti.augment.spec import parse_spec
from reti.errors import ParseError, RetiError
from reti.io import META_SCHEMA, load_checkpoint, save_checkpoint
from reti.jsonio import check_schema, parse_json
from reti.models.pattern import parse, to_pattern
from reti.train.checkpoint import latest_checkpoint

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Words, numbers and symbols of each language, so the fuzzer gets past the first character.
NUMBERS = ["3", "32", "0", "1.5", "²", "٣", "9" * 30, "9" * 5000, "1e999", "-1", ""]
PATTERN_NAMES = ["CONV", "POOL", "AVGPOOL", "GAP", "FC", "RELU", "BN", "DROPOUT", "x", "é"]
PATTERN_SYMBOLS = ["@", "-", "*", "(", ")", "[", "]", ",", "=", "?", " ", "\n", ",SOFTMAX"]
SPEC_NAMES = ["hflip", "crop", "ccrop", "rotate", "oneof", "apply", "jitter", "erase", "mixup",
              "noise", "p", "size", "padding", "'x'", '"', "(0.1,0.2)"]  # fmt: skip
SPEC_SYMBOLS = ["(", ")", ",", "=", " ", "\t"]


def _language(names, symbols, open_close) -> st.SearchStrategy[str]:
    """Arbitrary text, token soup of the language, or its items nested 0..1000 deep."""
    token = st.sampled_from(names) | st.sampled_from(NUMBERS) | st.sampled_from(symbols)
    item = st.tuples(st.sampled_from(names), st.sampled_from(NUMBERS), st.sampled_from(symbols),
                     st.sampled_from(NUMBERS)).map("".join)  # fmt: skip
    nested = st.tuples(st.sampled_from([1, 5, 40, 400, 1000]), item).map(
        lambda t: open_close[0] * t[0] + t[1] + open_close[1] * t[0]
    )
    return st.one_of(
        st.text(max_size=60),
        st.lists(token, max_size=20).map("".join),
        st.lists(item, min_size=1, max_size=4).map("-".join),
        nested,
    )


@FUZZ
@given(_language(PATTERN_NAMES, PATTERN_SYMBOLS, ("(", ")")))
@example("CONV²@8")
@example("(" * 400 + "CONV" + ")" * 400)
@example("FC@" + "9" * 5000)
def test_pattern_parser_gives_a_pattern_or_a_parse_error(text):
    try:
        pattern = parse(text)
    except RetiError as exc:
        if isinstance(exc, ParseError):  # the caret lands inside the shown window
            shown, caret = exc.caret().splitlines()
            assert caret.strip() == "^" and len(caret) <= len(shown) + 1
        return
    assert parse(to_pattern(pattern)) == pattern


@FUZZ
@given(_language(SPEC_NAMES, SPEC_SYMBOLS, ("apply(", ")")))
@example("crop(" + "(" * 500)
@example("rotate(" + "9" * 5000 + ")")
def test_spec_parser_gives_a_compose_or_a_parse_error(text):
    try:
        aug = parse_spec(text, num_classes=3)
    except RetiError:
        return
    assert str(parse_spec(str(aug), num_classes=3)) == str(aug)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)
JSON_TEXT = st.one_of(
    JSON_VALUES.map(json.dumps),
    st.text(alphabet='[]{}",:0123456789-.eE truefalsn\\u', max_size=80),
    st.integers(1, 300_000).map(lambda n: "[" * n + "]" * n),
    st.integers(4000, 6000).map(lambda n: '{"step": ' + "7" * n + "}"),
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
)


@FUZZ
@given(JSON_TEXT)
def test_json_loader_gives_the_document_or_a_reti_error(text):
    try:
        value = parse_json(text, "fuzz.json")
    except RetiError:
        return
    assert value == json.loads(text) or value != value  # NaN-free documents compare equal


@FUZZ
@given(st.binary(max_size=60) | JSON_VALUES.map(lambda v: json.dumps(v).encode()))
def test_meta_schema_passes_or_names_a_field(raw):
    try:
        meta = parse_json(raw, "meta.json")
        check_schema(meta, META_SCHEMA, "meta.json")
    except RetiError as exc:
        assert str(exc).startswith("meta.json")
        return
    assert isinstance(meta["format"], str) and isinstance(meta["version"], int)


def _checkpoint_with_meta(root: Path, meta_text: bytes) -> Path:
    folder = root / "ckpt"
    save_checkpoint(folder, {"w": torch.zeros(2)}, {"step": 1})
    (folder / "meta.json").write_bytes(meta_text)
    return folder


META_EDITS = st.fixed_dictionaries(
    {},
    optional={
        "format": st.sampled_from(["reti-checkpoint", "other", 3, None]),
        "version": st.sampled_from([1, 2, "1", True, 10**50]),
        "sha256": st.sampled_from(["0" * 64, 5, None]),
        "step": st.sampled_from([0, -1, "3", 2.5, 10**30]),
        "model_config": st.sampled_from([{}, [], "x", None, {"a": [1]}]),
        "kind": st.sampled_from(["reti-training-state", 7]),
    },
)


@settings(max_examples=100, deadline=None)
@given(META_EDITS, st.sampled_from(["json", "raw", "deep"]))
def test_checkpoint_meta_loads_or_is_a_reti_error(edits, shape):
    with tempfile.TemporaryDirectory() as tmp:
        folder = _checkpoint_with_meta(Path(tmp), b"{}")
        if shape == "json":
            text = json.dumps(edits).encode()
        elif shape == "raw":
            text = b"\xff" + json.dumps(edits).encode()
        else:
            text = b"[" * 50_000 + b"]" * 50_000
        (folder / "meta.json").write_bytes(text)
        try:
            load_checkpoint(folder)
        except RetiError:
            return
        raise AssertionError("a meta.json without its matching sha256 must never load")


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=40).map(str.encode))
def test_latest_pointer_names_a_checkpoint_or_is_a_reti_error(raw):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "checkpoints"
        (root / "step-0000001").mkdir(parents=True)
        (root / "latest").write_bytes(raw)
        try:
            found = latest_checkpoint(tmp)
        except RetiError:
            return
        assume(found is not None)
        assert found == root / "step-0000001"


CONFIG_FIELDS = ["epochs", "lr", "batch_size", "optimizer", "momentum", "seed", "device",
                 "schedule", "precision", "keep_last", "ema_decay", "grad_clip", "max_steps",
                 "monitor_mode", "train_config", "nonsense"]  # fmt: skip
CONFIG_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-(10**30), 10**30), st.floats(),
                          st.text(max_size=5), st.lists(st.integers(), max_size=2))  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(st.sampled_from(CONFIG_FIELDS), CONFIG_VALUES, max_size=4).map(json.dumps)
    | JSON_TEXT
)
def test_config_file_gives_a_train_config_or_a_reti_error(text):
    """What `--config FILE.json` goes through: the CLI's read_json, then the TrainConfig fields."""
    import argparse

    from reti.cli.args import config_from_args
    from reti.errors import ConfigError
    from reti.jsonio import read_json
    from reti.train import TrainConfig

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.json"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            read_json(path, "--config file", error=ConfigError)
            config = config_from_args(TrainConfig, argparse.Namespace(config=str(path)))
        except RetiError:
            return
    given = json.loads(text)
    given = given.get("train_config", given)
    assert all(getattr(config, k) == v or v != v for k, v in given.items())
