"""Write the course notebooks (``notebooks/*.ipynb``) from the lessons in ``notebooks/lessons/``.

The notebooks are generated so their source stays reviewable as Python and no output is ever
committed: edit a lesson, then ``python notebooks/make_notebooks.py``. A lesson is plain data (one
file per notebook): an opening, then a list of concepts. Every concept becomes the same run of
cells, each marked in its metadata (``reti.concept``, ``reti.part``) so that
tests/test_notebook_prose.py can check it without running anything:

- ``quote``: a heading and the notes' sentences, in Italian, each with its line in the notes;
- ``it``, ``en``: the explanation, once in each language;
- ``code``: the code and its figure;
- ``notice``: what to notice in the figure, in both languages;
- ``exercise``, ``check`` (source collapsed: it holds the answer), ``try`` (the student's cell,
  ``None`` until answered) and ``solution`` (collapsed, runs the check and must say right).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent  # where the .ipynb files are written
LESSONS = Path(__file__).resolve().parent / "lessons"

# Every notebook starts with the same set-up: inline figures (reti returns matplotlib Figure
# objects and never picks a backend itself), quiet runs in a temporary folder, on the CPU, and
# the one helper every exercise's check calls.
SETUP = """\
%matplotlib inline
import tempfile
from pathlib import Path

import torch
from matplotlib.figure import Figure

import reti
from reti.train import TrainConfig

runs = Path(tempfile.mkdtemp(prefix="reti-notebook-"))  # run folders of this notebook
torch.manual_seed(0)
print("reti", reti.__version__, "| torch", torch.__version__)


def check(answer, expected, hint=""):
    \"\"\"Say whether an exercise's answer is right (numbers to 0.1%, anything else equal).\"\"\"
    if answer is None:
        print("… scrivi la tua risposta al posto di None / write your answer in place of None")
        return None
    try:
        a = torch.as_tensor(answer, dtype=torch.float64)
        b = torch.as_tensor(expected, dtype=torch.float64)
        right = a.shape == b.shape and bool(torch.allclose(a, b, rtol=1e-3, atol=1e-3))
    except (TypeError, ValueError, RuntimeError):
        right = answer == expected
    print("✓ giusto! / right!" if right else f"✗ non ancora / not yet: {answer!r}. {hint}")
    return right"""

HIDDEN = {"jupyter": {"source_hidden": True}}  # JupyterLab shows the cell collapsed


def quote(line: int, text: str) -> str:
    """One sentence of the notes, verbatim, with its line in the notes (the test checks both)."""
    return f"> «{text}» *(appunti, riga {line})*"


def _cell(kind: str, text: str, concept: str | None, part: str, hidden: bool = False):
    cell = (new_markdown_cell if kind == "md" else new_code_cell)(text.strip())
    if concept is not None:
        cell.metadata["reti"] = {"concept": concept, "part": part}
    if hidden:
        cell.metadata.update(HIDDEN)
    return cell


def concept_cells(number: str, c: dict) -> list:
    """The cells of one concept, in the order a lesson reads (see the module docstring)."""
    quotes = "\n>\n".join(quote(line, text) for line, text in c["quotes"])
    cells = [
        _cell("md", f"## {number} · {c['title']}\n\n{quotes}", number, "quote"),
        _cell("md", f"**Italiano.** {c['it'].strip()}", number, "it"),
        _cell("md", f"**English.** {c['en'].strip()}", number, "en"),
    ]
    cells += [_cell("code", source, number, "code") for source in c["code"]]
    notice = f"**Cosa notare.** {c['notice_it'].strip()}\n\n"
    notice += f"**What to notice.** {c['notice_en'].strip()}"
    cells += [
        _cell("md", notice, number, "notice"),
        _cell(
            "md",
            f"### Esercizio / Exercise {number}\n\n{c['exercise_it'].strip()}\n\n"
            f"*{c['exercise_en'].strip()}*",
            number,
            "exercise",
        ),
        _cell("code", "# il controllo / the check\n" + c["check"].strip(), number, "check", True),
        _cell("code", c["try_"], number, "try"),
        _cell("code", "# Soluzione / Solution\n" + c["solution"].strip(), number, "solution", True),
    ]
    return cells


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"lesson_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def lesson_cells(lesson) -> list:
    """A lesson module (TITLE, INTRO_IT, INTRO_EN, CONCEPTS) as notebook cells."""
    head = f"# {lesson.TITLE}\n\n**Italiano.** {lesson.INTRO_IT.strip()}\n\n"
    head += f"**English.** {lesson.INTRO_EN.strip()}"
    cells = [_cell("md", head, None, "intro"), _cell("code", SETUP, None, "setup")]
    part = lesson.NAME[:2].lstrip("0")
    for i, concept in enumerate(lesson.CONCEPTS, 1):
        cells += concept_cells(f"{part}.{i}", concept)
    return cells


def _lessons() -> dict[str, list]:
    lessons = [_load(path) for path in sorted(LESSONS.glob("l[0-9]*.py"))]
    return {lesson.NAME: lesson_cells(lesson) for lesson in lessons}


NOTEBOOKS: dict[str, list] = _lessons()


def main() -> list[Path]:
    """Write every notebook with empty outputs; returns their paths."""
    written = []
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(cells=cells)
        for i, cell in enumerate(nb.cells):
            cell.id = f"cell-{i:02d}"  # fixed ids: the same source writes the same file
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}  # fmt: skip
        nb.metadata["language_info"] = {"name": "python"}
        nbformat.validate(nb)
        path = HERE / f"{name}.ipynb"
        nbformat.write(nb, path)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in main():
        print(path.name)
