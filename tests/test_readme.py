"""The README is true: its tour commands and its Python example run as written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from reti.cli.main import main

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_quick_start_is_exactly_two_commands():
    text = README.read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("```")[1].strip().splitlines()
    assert quick == ["make demo", "make test"]


def test_cli_tree_names_every_subcommand(capsys):
    tree = README.read_text(encoding="utf-8").split("## The command line", 1)[1]
    from reti.cli.main import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in sub.choices:
        assert f"reti {name}" in tree, name


@pytest.mark.network
def test_tour_commands_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    lines = [ln[2:] for ln in _blocks("console")[0].splitlines() if ln.startswith("$ ")]
    assert len(lines) >= 10
    for line in lines:
        argv = shlex.split(line)
        assert argv[0] == "reti"
        code = main(argv[1:])
        out = capsys.readouterr()
        assert code == 0, f"{line!r} exited {code}: {out.err[-500:]}"
    assert (tmp_path / "runs/augment.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "runs/claims/tour/report.html").is_file()


@pytest.mark.network
def test_python_example_runs(capsys):
    (code,) = _blocks("python")
    printed = []
    for _ in range(2):  # the block seeds before it builds: twice gives the same run
        exec(compile(code, str(README), "exec"), {})
        printed.append(capsys.readouterr().out)
    acc = float(printed[0].split()[-1])
    assert acc > 0.5  # ten classes: chance is 0.1
    assert printed[0] == printed[1]
