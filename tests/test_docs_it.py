"""docs/it/README.md, the Italian quick start and tour, runs the very commands of the README's
tour and its Python block (they are tested there): the two must never drift apart."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _blocks(path: Path, kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


def test_italian_tour_and_python_block_equal_the_readme():
    english, italian = ROOT / "README.md", ROOT / "docs" / "it" / "README.md"
    for kind in ("console", "python"):
        assert _blocks(italian, kind) == _blocks(english, kind), kind
    text = italian.read_text(encoding="utf-8")
    assert "## Avvio rapido" in text and "reti demo --lang it" in text


def test_every_notebook_is_listed_in_the_italian_guide():
    text = (ROOT / "docs" / "it" / "README.md").read_text(encoding="utf-8")
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert f"`{path.name}`" in text
