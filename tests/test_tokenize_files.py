"""Hostile tokenizer files: deep nesting, wrong types, missing fields, integers of thousands of
digits, bytes that are not UTF-8. Each is one DataError naming the file (and the field); a
hypothesis fuzzer feeds arbitrary JSON and checks nothing else ever escapes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reti.errors import DataError, DataNotFoundError, RetiError
from reti.tokenize import BPETokenizer, load_gpt2, load_tokenizer
from reti.tokenize.jsonfile import json_depth

GOOD_BPE = {"type": "bpe", "version": 1, "pattern": "gpt2", "byte_tokens": "identity",
            "tokens": ["IGE=", "dGg="], "special_tokens": {"<|endoftext|>": 258}}  # fmt: skip
DEEP = "[" * 200_000 + "]" * 200_000


def with_(**changes):
    doc = {**GOOD_BPE, **changes}
    return json.dumps({k: v for k, v in doc.items() if v is not ...})


CASES = [
    (DEEP, "nested 200000 levels deep"),
    ('{"type": "bpe", "tokens": ' + DEEP + "}", "nested 200001 levels deep"),
    (with_(tokens="IGE="), "field 'tokens' must be a list, got 'IGE='"),
    (with_(tokens=["IGE=", 7]), r"field 'tokens\[1\]' must be a string, got 7"),
    (with_(tokens=["IGE=", "!!"]), r"field 'tokens\[1\]' is not base64"),
    (with_(tokens=["IGE=", "IGE="]), r"field 'tokens\[1\]' repeats the token b' a'"),
    (with_(byte_tokens=[0, 1]), "field 'byte_tokens' must be \"identity\" or a list of 256 ids"),
    (with_(byte_tokens=[*range(255), "x"]), r"field 'byte_tokens\[255\]' must be an int"),
    (with_(byte_tokens=[*range(255), True]), r"field 'byte_tokens\[255\]' must be an int"),
    (with_(byte_tokens=[*range(255), -1]), r"byte_tokens\[255\]' must be an int in \[0, 2\*\*31\)"),
    (with_(byte_tokens=[0] * 256), "ids must be unique"),
    (with_(byte_tokens=...), "field 'byte_tokens' is missing"),
    (with_(tokens=...), "field 'tokens' is missing"),
    (with_(special_tokens=["<|endoftext|>"]), "field 'special_tokens' must be an object"),
    (with_(special_tokens={"<|x|>": "258"}), r"field 'special_tokens\[<\|x\|>\]' must be an int"),
    (with_(pattern="gpt5"), "field 'pattern' must be one of"),
    (with_(pattern=None), "field 'pattern' must be a string, got None"),
    (with_(version=2), "this reti reads version 1"),
    (with_(type=None), "field 'type' must be a string"),
    (with_(type=...), "field 'type' is missing"),
    ('"bpe"', "the document must be a JSON object"),
    ('{"type": "char", "tokens": "abc"}', "field 'tokens' must be a list"),
    ('{"type": "char", "tokens": ["a"], "unk_token": 0}', "'unk_token' must be a string or null"),
    ('{"type": "word", "tokens": ["a"], "special_tokens": [["x"]]}', r"'special_tokens\[0\]' must"),
    (with_(byte_tokens=[*range(256)]).replace("[0,", "[" + "9" * 5000 + ","), "5000 digits"),
    ('{"type": "bpe", "version": -' + "1" * 4301 + "}", "integer of 4301 digits"),
    ('{"type": "bpe", "tokens": [', "not JSON"),
]  # fmt: skip


@pytest.mark.parametrize("content,match", CASES, ids=[m[:30] for _, m in CASES])
def test_hostile_tokenizer_files_are_one_data_error(tmp_path, content, match):
    path = tmp_path / "hostile.json"
    path.write_text(content)
    with pytest.raises(DataError, match=match) as info:
        load_tokenizer(path)
    assert str(path) in str(info.value)


def test_the_good_file_loads(tmp_path):
    path = tmp_path / "good.json"
    path.write_text(json.dumps(GOOD_BPE))
    tok = load_tokenizer(path)
    # "IGE=" is b" a" (256), "dGg=" is b"th" (257)
    assert tok.encode(" athe<|endoftext|>", allowed_special="all") == [256, 257, 101, 258]


def test_bytes_that_are_not_utf8(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"type": "char", "tokens": ["caf\xe9"]}')
    with pytest.raises(DataError, match=r"latin1.json: not UTF-8 text \(byte 32\)"):
        load_tokenizer(path)


def test_json_depth_ignores_brackets_inside_strings():
    assert json_depth('{"a": ["[[[{{", {"b": "]]"}]}') == 3
    assert json_depth('["\\"[[["]') == 1
    assert json_depth("7") == 0


def test_gpt2_encoder_files_are_checked(tmp_path):
    folder = tmp_path / "gpt2"
    folder.mkdir()
    (folder / "vocab.bpe").write_text("#version: 0.2\n")
    (folder / "encoder.json").write_text(DEEP)
    with pytest.raises(DataError, match="encoder.json .*nested 200000 levels"):
        load_gpt2(folder)
    (folder / "encoder.json").write_text('{"a": "0"}')
    with pytest.raises(DataError, match="encoder.json .*field 'a' must be an int"):
        load_gpt2(folder)
    (folder / "encoder.json").write_text('{"\\u0000": 0}')
    with pytest.raises(DataError, match="not in GPT-2's byte spelling"):
        load_gpt2(folder)
    (folder / "encoder.json").write_text('{"a": 0}')
    (folder / "vocab.bpe").write_bytes(b"#version\n\xff\xfe\n")
    with pytest.raises(DataError, match=r"vocab.bpe: not UTF-8 \(byte 9\)"):
        load_gpt2(folder)
    with pytest.raises(DataNotFoundError):
        load_tokenizer(tmp_path / "none.json")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)  # fmt: skip
FIELDS = st.fixed_dictionaries(
    {"type": st.sampled_from(["bpe", "char", "word", "gpt2", "x"]) | JSON},
    optional={
        "tokens": JSON | st.lists(st.sampled_from(["IGE=", "dGg=", "a", "!!", ""]), max_size=4),
        "byte_tokens": JSON | st.just("identity") | st.just(list(range(256))),
        "special_tokens": JSON | st.just({"<|e|>": 300}),
        "unk_token": JSON,
        "pattern": JSON | st.sampled_from(["gpt2", "cl100k"]),
        "version": JSON,
    },
)


@settings(max_examples=200, deadline=None)
@given(doc=FIELDS | JSON)
def test_fuzzed_files_load_or_raise_a_reti_error(tmp_path_factory, doc):
    path = tmp_path_factory.mktemp("fuzz") / "t.json"
    path.write_text(json.dumps(doc))
    try:
        tok = load_tokenizer(path)
    except RetiError as exc:
        assert str(path) in str(exc) or "pass gpt2_files" in str(exc)
        return
    # what loads saves and loads again the same; a BPE tokenizer round-trips any text
    again = load_tokenizer(tok.save(path.with_name("again.json")))
    assert (again.kind, again.vocab_size, again.special_tokens) == (
        tok.kind,
        tok.vocab_size,
        tok.special_tokens,
    )
    if isinstance(tok, BPETokenizer):
        assert tok.decode(tok.encode("ab é")) == "ab é"
