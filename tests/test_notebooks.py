"""The course notebooks (notebooks/*.ipynb) run top to bottom without an error.

Each is executed with nbclient in a fresh python3 kernel (the kernelspec's ``python`` resolves
to the interpreter running the tests, so the venv's reti). Marked ``notebooks`` and run only
when asked for (``pytest -m notebooks tests/test_notebooks.py``, the ``make notebooks``
target): together they take minutes, too long for every ``make test``. The notebooks must also
match their generator (notebooks/make_notebooks.py) and carry no outputs.
"""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))

pytestmark = pytest.mark.notebooks


@pytest.fixture(autouse=True)
def _only_when_asked(request):
    if "notebooks" not in (request.config.getoption("-m") or ""):
        pytest.skip("notebooks run with `pytest -m notebooks` (make notebooks)")


def _generator():
    spec = importlib.util.spec_from_file_location("make_notebooks", FOLDER / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_there_is_a_notebook_per_part_of_the_notes_and_none_carries_outputs():
    import nbformat

    assert [p.stem[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07"]
    assert {p.stem for p in NOTEBOOKS} == set(_generator().NOTEBOOKS)
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code and all(not c.outputs and c.execution_count is None for c in code), path.name
        prose = " ".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert "appunti, riga" in prose, f"{path.name} quotes no part of the notes"


def test_notebooks_match_their_generator(tmp_path, monkeypatch):
    module = _generator()
    monkeypatch.setattr(module, "HERE", tmp_path)
    for path in module.main():
        assert path.read_text() == (FOLDER / path.name).read_text(), (
            f"{path.name} differs from notebooks/make_notebooks.py: run it again"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_without_error(path, tmp_path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env_path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env_path) if p)
    try:
        client = NotebookClient(
            nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": tmp_path}}
        )
        start = time.perf_counter()
        client.execute()  # raises CellExecutionError, naming the cell, on any error
        seconds = time.perf_counter() - start
    finally:
        os.environ["PYTHONPATH"] = env_path
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert [o for o in outputs if o.output_type == "error"] == []
    # every exercise: the student's cell (None) asks for an answer, and its check accepts the
    # solution, so a check that is wrong, or a solution that drifted from it, fails here
    for cell in nb.cells:
        part = cell.metadata.get("reti", {}).get("part")
        said = "".join(o.get("text", "") for o in cell.get("outputs", []))
        where = f"{path.name} concept {cell.metadata.get('reti', {}).get('concept')} {part}"
        if part == "try":
            assert said.startswith("…") and "✓" not in said, where
        elif part == "solution":
            assert "✓ giusto! / right!" in said and "✗" not in said, where
    shown = [o.get("data", {}) for o in outputs]
    figures = [d for d in shown if d.get("text/plain", "").startswith("<Figure")]
    # a returned Figure is drawn inline (a PNG), never only its text "<Figure size ...>"
    assert all("image/png" in d for d in figures), f"{path.name}: a figure was not drawn"
    assert any("image/png" in d or "data:image/png" in d.get("text/html", "") for d in shown)
    print(f"{path.name}: {seconds:.0f} s")
