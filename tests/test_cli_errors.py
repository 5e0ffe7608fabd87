"""The CLI boundary (reti/cli/main.py): failures the machine causes (a read-only or unwritable
folder, a full disk, a path too long, memory that runs out, input nested too deeply) end as one
``reti: error:`` line and exit 2; a real bug keeps its traceback; RETI_DEBUG=1 shows it for all;
a closed stdout pipe ends quietly; a command group without its action prints its usage."""

from __future__ import annotations

import errno
import os

import pytest

from reti.cli import main as cli
from reti.cli.main import main

TOKENIZE = ["text", "tokenizer", "train", "--kind", "char"]


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("to be or not to be\n" * 5, encoding="utf-8")
    return path


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("reti: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.EACCES, "permission denied: {out}"),
        (errno.EROFS, "the file system is read-only: {out}"),
        (errno.ENOSPC, "no space left on the device: {out}"),
        (errno.EDQUOT, "the disk quota is used up: {out}"),
    ],
)
def test_unwritable_or_full_disk_is_one_line(code, words, corpus, tmp_path, monkeypatch, capsys):
    """The tokenizer is written through reti.io's temp file; the system refuses that file."""
    import reti.io

    out = tmp_path / "tok"

    def refuse(*args, **kwargs):
        temp = out / ".tokenizer.json.ab12cd_3.tmp"  # the name mkstemp would have made
        raise OSError(code, os.strerror(code), str(temp))

    monkeypatch.setattr(reti.io.tempfile, "mkstemp", refuse)
    assert main([*TOKENIZE, "--data", str(corpus), "--out", str(out)]) == 2
    assert _one_line(capsys) == "reti: error: " + words.format(out=out / "tokenizer.json")
    assert not (out / "tokenizer.json").exists()


def test_a_real_path_too_long_is_one_line(corpus, tmp_path, capsys):
    out = tmp_path / ("a" * 300) / "tok.json"
    assert main([*TOKENIZE, "--data", str(corpus), "--out", str(out)]) == 2
    line = _one_line(capsys)
    assert line.startswith("reti: error: the path is longer than this system allows: ")
    assert "..." in line and len(line) < 400  # the path is shortened in the middle


def test_a_file_where_a_folder_must_go_is_one_line(corpus, tmp_path, capsys):
    (tmp_path / "file").write_text("keep", encoding="utf-8")
    out = tmp_path / "file" / "sub" / "tok.json"
    assert main([*TOKENIZE, "--data", str(corpus), "--out", str(out)]) == 2
    assert "file" in _one_line(capsys)
    assert (tmp_path / "file").read_text(encoding="utf-8") == "keep"


ALLOC = (
    "[enforce fail at alloc_cpu.cpp:119] data. DefaultCPUAllocator: can't allocate memory: "
    "you tried to allocate 4000000000000 bytes. Error code 12 (Cannot allocate memory)"
)


@pytest.mark.parametrize(
    ("error", "start"),
    [
        (
            RuntimeError(ALLOC),
            "reti: error: out of memory (one allocation of 4.0 TB); this machine",
        ),
        (MemoryError(), "reti: error: out of memory; this machine has "),
        (RecursionError("maximum recursion depth exceeded"), "reti: error: the input is nested"),
    ],
)
def test_memory_and_recursion_are_one_line(error, start, corpus, monkeypatch, capsys):
    from reti.cli import tokenizer

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(tokenizer, "_train", fail)
    assert main([*TOKENIZE, "--data", str(corpus), "--out", "x.json"]) == 2
    assert _one_line(capsys).startswith(start)


def test_a_bug_keeps_its_traceback_and_debug_shows_all(corpus, monkeypatch):
    from reti.cli import tokenizer

    def bug(*args, **kwargs):
        raise KeyError("a bug in reti")

    monkeypatch.setattr(tokenizer, "_train", bug)
    with pytest.raises(KeyError):
        main([*TOKENIZE, "--data", str(corpus), "--out", "x.json"])
    monkeypatch.undo()
    monkeypatch.setenv("RETI_DEBUG", "1")
    with pytest.raises(FileNotFoundError):  # a reti error, shown with its traceback
        main([*TOKENIZE, "--data", "/nonexistent/corpus.txt", "--out", "x.json"])


def test_an_unknown_os_error_is_a_bug(corpus, monkeypatch):
    from reti.cli import tokenizer

    def fail(*args, **kwargs):
        raise OSError(errno.ENOENT, "No such file or directory")  # no file named: reti's own

    monkeypatch.setattr(tokenizer, "_train", fail)
    with pytest.raises(FileNotFoundError):
        main([*TOKENIZE, "--data", str(corpus), "--out", "x.json"])


def test_a_closed_stdout_pipe_ends_quietly(monkeypatch, capsys):
    from reti.cli import augment

    def closed(*args, **kwargs):
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    monkeypatch.setattr(augment, "list_command", closed)
    assert main(["augment", "list"]) == 0
    assert capsys.readouterr().err == ""


def test_thousand_digit_flags_are_one_line(capsys):
    assert main(["params", "--image", "9" * 5000]) == 2
    assert _one_line(capsys) == (
        "reti: error: a number of 5000 digits; no size reti takes needs that many"
    )


def test_a_long_message_is_cut_to_one_readable_line(tmp_path, capsys):
    assert main(["vision", "train", "--epochs", "9" * 5000, "--out", str(tmp_path / "r")]) == 2
    line = _one_line(capsys)
    assert line.startswith("reti: error: --epochs must be int, got '999")
    assert len(line) <= len("reti: error: ") + cli.MAX_LINE and " ... " in line


@pytest.mark.parametrize(
    ("argv", "usage", "hint"),
    [
        ([], "usage: reti [-h]", "reti: error: missing COMMAND (demo, data, params, vision, "),
        (["vision"], "usage: reti vision", "reti vision: error: missing ACTION (models, train, "),
        (["text"], "usage: reti text", "reti text: error: missing ACTION (train, generate, "),
        (["text", "tokenizer"], "usage: reti text tokenizer", "reti text tokenizer: error: "),
        (["data"], "usage: reti data", "reti data: error: missing ACTION (list, get, "),
    ],
)
def test_a_group_without_its_action_prints_usage_on_stdout(argv, usage, hint, capsys):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out.startswith(usage) and len(out.splitlines()) > 3
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(hint), err
    assert lines[0].endswith("see the usage above")
