"""The README is true: its tour commands and its Python example run as written."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest

from reti.cli.main import main

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def _quick_start() -> list[str]:
    text = README.read_text(encoding="utf-8")
    return text.split("## Quick start", 1)[1].split("```")[1].strip().splitlines()


def test_quick_start_builds_and_tests_then_opens_the_lab_and_the_notebooks():
    assert _quick_start() == [
        "make demo",
        "make test",
        "source .venv/bin/activate",
        "reti lab",
        "reti notebooks my-notebooks --open",
    ]


def test_quick_start_reti_commands_run(tmp_path, monkeypatch, capsys):
    """Its `reti` lines as written. Both start a server that runs until Ctrl-C, so the serving
    call is recorded instead (the lab app itself is real: its jobs start only once it serves;
    the port is bound by a stand-in, so a lab running on this machine changes nothing)."""
    uvicorn = pytest.importorskip("uvicorn")
    pytest.importorskip("jupyterlab")
    from reti.cli import lab as lab_cli
    from reti.cli import notebooks as cli_notebooks

    bound, served, started = [], [], []

    class Socket:
        def close(self):
            pass

    monkeypatch.setattr(lab_cli, "bind", lambda host, port: bound.append((host, port)) or Socket())
    monkeypatch.setattr(
        uvicorn.Server, "run", lambda self, sockets=None: served.append((self.config, sockets))
    )
    monkeypatch.setattr(cli_notebooks.subprocess, "call", lambda argv: started.append(argv) or 0)
    monkeypatch.chdir(tmp_path)
    for line in (ln for ln in _quick_start() if ln.startswith("reti ")):
        assert main(shlex.split(line)[1:]) == 0, line
    assert bound == [("127.0.0.1", 8765)] and len(served) == 1
    assert served[0][0].app.state.lab.root == Path("runs/lab")
    out = capsys.readouterr().out
    assert "serving http://127.0.0.1:8765/?token=" in out
    assert (tmp_path / "runs/lab/jobs").is_dir()
    target = tmp_path / "my-notebooks"
    assert started == [[sys.executable, "-m", "jupyterlab", str(target)]]
    assert len(list(target.glob("*.ipynb"))) == 7


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
