"""`reti text tokenizer train|encode|decode|export` in-process through ``main``: every command of
docs/tokenizers.md, and bad input answered with one line and exit status 2."""

from __future__ import annotations

import json

import pytest

from reti.cli.main import main
from reti.cli.tokenizer import parse_ids
from reti.errors import ParseError
from reti.tokenize import BPETokenizer, load_tokenizer

CORPUS = "To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n"


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(CORPUS * 40, encoding="utf-8")
    return path


@pytest.fixture
def bpe(tmp_path, corpus, capsys):
    out = tmp_path / "tok.json"
    assert main(["text", "tokenizer", "train", "--data", f"file:{corpus}", "--vocab", "300",
                 "--out", str(out)]) == 0  # fmt: skip
    capsys.readouterr()
    return out


def run(capsys, *argv):
    code = main(["text", "tokenizer", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_train_encode_decode_round_trip(capsys, bpe):
    assert load_tokenizer(bpe).vocab_size == 300
    code, out, _ = run(capsys, "encode", "--tokenizer", str(bpe), "--text", "To be, or not to be")
    assert code == 0
    ids = [int(i) for i in out.strip().split(",")]
    assert len(ids) < len("To be, or not to be")
    code, out, _ = run(capsys, "decode", "--tokenizer", str(bpe), "--ids", out.strip())
    assert code == 0 and out == "To be, or not to be\n"


@pytest.mark.parametrize("kind", ["char", "word"])
def test_train_char_and_word(capsys, tmp_path, corpus, kind):
    out = tmp_path / f"{kind}.json"
    code, text, _ = run(capsys, "train", "--kind", kind, "--data", f"file:{corpus}",
                        "--out", str(out))  # fmt: skip
    assert code == 0 and f"{kind} tokenizer: vocab" in text and "bytes/token" in text
    assert load_tokenizer(out).kind == kind


def test_encode_file_and_specials(capsys, tmp_path, bpe):
    (tmp_path / "in.txt").write_text("be<|endoftext|>be")
    code, out, _ = run(capsys, "encode", "--tokenizer", str(bpe), "--file",
                       str(tmp_path / "in.txt"), "--allowed-special", "all")  # fmt: skip
    assert code == 0 and str(load_tokenizer(bpe).special_tokens["<|endoftext|>"]) in out
    code, _, err = run(capsys, "encode", "--tokenizer", str(bpe), "--text", "a<|endoftext|>")
    assert code == 2 and "special token '<|endoftext|>' at character 1" in err


def test_export(capsys, tmp_path, bpe):
    tiktoken_path, hf_path = tmp_path / "tok.tiktoken", tmp_path / "tokenizer.json"
    code, out, _ = run(capsys, "export", "--tokenizer", str(bpe), "--tiktoken",
                       str(tiktoken_path), "--hf", str(hf_path))  # fmt: skip
    assert code == 0 and tiktoken_path.is_file()
    assert json.loads(hf_path.read_text())["model"]["type"] == "BPE"


@pytest.mark.network
def test_gpt2_by_name(capsys):
    code, out, _ = run(capsys, "encode", "--tokenizer", "gpt2", "--text", "Hello world")
    assert (code, out) == (0, "15496,995\n")
    code, out, _ = run(capsys, "decode", "--tokenizer", "gpt2", "--ids", "15496,995")
    assert (code, out) == (0, "Hello world\n")


@pytest.mark.network
@pytest.mark.slow
def test_train_on_shakespeare_to_4096(capsys, tmp_path):
    out = tmp_path / "tok.json"
    code, text, _ = run(capsys, "train", "--data", "shakespeare", "--vocab", "4096",
                        "--out", str(out))  # fmt: skip
    assert code == 0 and "vocab 4096" in text
    tok = load_tokenizer(out)
    line = "What is the matter with you, my good lord?\n"
    assert isinstance(tok, BPETokenizer) and len(tok.encode(line)) < len(line) / 3


def test_parse_ids_points_at_the_bad_item():
    assert parse_ids("1, 2,3") == [1, 2, 3]
    with pytest.raises(ParseError) as info:
        parse_ids("1,2, x,4")
    assert info.value.position == 5 and "'x'" in str(info.value)


def _bad_inputs(tmp_path, bpe):
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9\n" * 10)
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "ok.txt").write_text("to be or not to be " * 20)
    (tmp_path / "broken.json").write_text('{"type": "bpe", "tokens": [')
    char = tmp_path / "char.json"
    data = str(tmp_path / "ok.txt")
    assert (
        main(["text", "tokenizer", "train", "--kind", "char", "--data", data, "--out", str(char)])
        == 0
    )
    t, d = str(bpe), tmp_path
    return [
        (["encode", "--tokenizer", str(tmp_path / "none.json"), "--text", "x"], "not found"),
        (["encode", "--tokenizer", str(d / "broken.json"), "--text", "x"], "not a tokenizer"),
        (["encode", "--tokenizer", "gpt3", "--text", "x"], "must be 'gpt2' or a tokenizer"),
        (["encode", "--tokenizer", t, "--file", str(tmp_path / "none.txt")], "not found"),
        (["encode", "--tokenizer", t, "--file", str(tmp_path / "latin1.txt")], "byte offset 3"),
        (["encode", "--tokenizer", t], "exactly one of --text or --file"),
        (["encode", "--tokenizer", t, "--text", "x", "--allowed-special", "<|x|>"], "unknown spec"),
        (["decode", "--tokenizer", t, "--ids", "1,-2"], "non-negative integers, got '-2'"),
        (["decode", "--tokenizer", t, "--ids", "1,99999"], "token id must be an int"),
        (["decode", "--tokenizer", t, "--ids", "195", "--errors", "strict"], "invalid UTF-8"),
        (["train", "--data", str(tmp_path / "empty.txt"), "--out", t + "2"], "is empty"),
        (["train", "--data", str(tmp_path / "latin1.txt"), "--out", t + "2"], "byte offset 3"),
        (["train", "--data", str(tmp_path / "none.txt"), "--out", t + "2"], "not found"),
        (["train", "--data", data, "--vocab", "100", "--out", t + "2"], "vocab_size must be"),
        (["train", "--data", data, "--min-frequency", "0", "--out", t + "2"], "min_frequency"),
        (["export", "--tokenizer", str(char), "--hf", t + ".hf"], "only BPE tokenizers"),
        (["export", "--tokenizer", t], "needs --tiktoken PATH and/or --hf PATH"),
    ]  # fmt: skip


def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, bpe):
    for argv, message in _bad_inputs(tmp_path, bpe):
        code, _, err = run(capsys, *argv)
        assert code == 2, argv
        assert err.startswith("reti: error: ") and message in err, (argv, err)
        assert "Traceback" not in err
    assert not (tmp_path / "tok.json2").exists()
