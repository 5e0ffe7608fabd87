"""docs/it/README.md, the Italian quick start and tour, runs the very commands of the README's
tour and its Python block (they are tested there): the two must never drift apart."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _blocks(path: Path, kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


def _code(block: str) -> list[str]:
    """The code of a block without its comments: the Italian guide translates those."""
    words = tokenize.generate_tokens(io.StringIO(block).readline)
    return [t.string for t in words if t.type not in (tokenize.COMMENT, tokenize.NL)]


def _quick_start(path: Path, heading: str) -> str:
    return path.read_text(encoding="utf-8").split(heading, 1)[1].split("```")[1]


def test_italian_tour_and_python_block_equal_the_readme():
    english, italian = ROOT / "README.md", ROOT / "docs" / "it" / "README.md"
    assert _blocks(italian, "console") == _blocks(english, "console")
    (en_python,), (it_python,) = _blocks(english, "python"), _blocks(italian, "python")
    assert _code(it_python) == _code(en_python)
    assert "# prima di costruire il modello" in it_python  # its comments are Italian
    assert _quick_start(italian, "## Avvio rapido") == _quick_start(english, "## Quick start")
    text = italian.read_text(encoding="utf-8")
    assert "reti demo --lang it" in text
    assert (
        "reti lab" in text and "reti notebooks DIR --open" in text and "make notebooks-open" in text
    )


def test_comparing_code_ignores_comments_only():
    assert _code("x = 1  # one\n") == _code("x = 1  # uno\n")
    assert _code("x = 1  # one\n") != _code("x = 2  # one\n")


def test_every_notebook_is_listed_in_the_italian_guide():
    text = (ROOT / "docs" / "it" / "README.md").read_text(encoding="utf-8")
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert f"`{path.name}`" in text
