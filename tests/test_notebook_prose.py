"""The notebooks are lessons: quotes that match the notes, prose in both languages, exercises.

Read from the committed .ipynb files (plain JSON, nothing is executed), so it runs in every
``make test``. Each concept's cells carry ``metadata.reti = {"concept", "part"}`` (written by
notebooks/make_notebooks.py). The notes are the course's own text and stay outside the
repository: the quotes are checked against ``../shared/course-notes.md`` (or the file named by
``RETI_NOTES``) where it is present, and that check skips otherwise.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NOTES = Path(os.environ.get("RETI_NOTES") or ROOT.parent / "shared" / "course-notes.md")
QUOTE = re.compile(r"«(.+?)» \*\(appunti, riga (\d+)\)\*")
PARTS = ("quote", "it", "en", "code", "notice", "exercise", "check", "try", "solution")
# A few words that only one of the two languages uses often: prose in each must have them.
ITALIAN = {"il", "la", "che", "di", "è", "una", "per", "non", "con", "gli", "sono"}
ENGLISH = {"the", "and", "of", "is", "to", "with", "that", "it", "are", "not"}


def _cells(path: Path) -> list[dict]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [{**c, "text": "".join(c["source"])} for c in cells]


def _concepts(path: Path) -> dict[str, dict[str, list[dict]]]:
    concepts: dict[str, dict[str, list[dict]]] = {}
    for cell in _cells(path):
        tag = cell["metadata"].get("reti")
        if tag:
            concepts.setdefault(tag["concept"], {}).setdefault(tag["part"], []).append(cell)
    return concepts


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-zàèéìòù]+", text.lower()))


def _notes_line(text: str) -> str:
    """A line of the notes as it reads: without the list bullet and surrounding spaces."""
    return text.strip().removeprefix("* ").strip()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_concept_is_a_lesson_in_both_languages(path):
    concepts = _concepts(path)
    assert len(concepts) >= 2, f"{path.name}: fewer than two concepts"
    for number, parts in concepts.items():
        where = f"{path.name} concept {number}"
        assert [p for p in PARTS if p not in parts] == [], f"{where} lacks a part"
        assert QUOTE.findall(parts["quote"][0]["text"]), f"{where}: no quote with its line"
        italian, english = parts["it"][0]["text"], parts["en"][0]["text"]
        for text, language, common in (
            (italian, "Italian", ITALIAN),
            (english, "English", ENGLISH),
        ):
            # a teacher's paragraph, not a caption: several sentences of the language
            assert len(text.split()) >= 50, f"{where}: the {language} prose is a caption"
            assert len(_words(text) & common) >= 4, (
                f"{where}: the {language} prose is not {language}"
            )
        notice = parts["notice"][0]["text"]
        assert "**Cosa notare.**" in notice and "**What to notice.**" in notice, where
        assert "None" in parts["try"][0]["text"], f"{where}: the student's cell is pre-filled"
        for part in ("check", "solution"):  # both give the answer away: JupyterLab collapses them
            assert parts[part][0]["metadata"].get("jupyter", {}).get("source_hidden"), where


def misquotes(path: Path, lines: list[str]) -> list[str]:
    """Each quote of ``path`` that is not on its line of the notes (``lines``), explained."""
    wrong = []
    for cell in _cells(path):
        for text, number in QUOTE.findall(cell["text"]):
            line = int(number)
            said = lines[line - 1] if 1 <= line <= len(lines) else "(past the end of the notes)"
            if not 1 <= line <= len(lines) or text not in _notes_line(said):
                wrong.append(f"{path.name}: «{text}» is not line {line}, which reads {said!r}")
    return wrong


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_quote_is_the_notes_sentence_at_its_line(path):
    if not NOTES.is_file():
        pytest.skip(f"the course notes are not here ({NOTES}); they stay outside the repository")
    assert QUOTE.search(path.read_text(encoding="utf-8")), f"{path.name} quotes nothing"
    assert misquotes(path, NOTES.read_text(encoding="utf-8").splitlines()) == []


def test_a_misquote_is_caught(tmp_path):
    # the oracle itself, on a two-quote notebook against three lines of notes
    lines = ["* **Funzione Score Lineare:**", "|", "* $f = Wx$"]
    source = "> «$f = Wx$» *(appunti, riga 3)*\n> «**Funzione Score Lineare:**» *(appunti, riga 1)*"
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": [{"source": [source], "metadata": {}}]}))
    assert misquotes(path, lines) == []
    for bad in ("riga 2", "riga 4"):  # a line off by one, a line past the end
        path.write_text(path.read_text().replace("riga 3", bad))
        assert len(misquotes(path, lines)) == 1
        path.write_text(path.read_text().replace(bad, "riga 3"))
    path.write_text(path.read_text().replace("Wx$", "Wx + b$"))  # reworded
    assert len(misquotes(path, lines)) == 1
