"""The data flows down the page (STYLE.md): a module imports only from lower levels or its own
package. Parses every import with ``ast`` and names ``file:line`` for each violation."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "reti"

# Top-level part of reti -> level. Parts on one level never import each other.
LEVELS = {
    "errors": 0,
    "runtime": 0.5,
    "io": 0.5,
    "i18n": 0.5,
    "reference": 1,
    "layers": 1,
    "data": 1,
    "augment": 1,
    "tokenize": 1,
    "metrics": 1,
    "models": 2,
    "train": 3,
    "evaluate": 3,
    "generate": 3,
    "viz": 3,
    "html": 0.5,
    "tasks": 4,
    "claims": 5,
    "demo": 5,
    "cli": 6,
}
EXEMPT = {"__init__", "__main__"}  # the package root re-exports; `python -m reti` runs the CLI


def _part(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "reti" else None


def _imports(path: Path) -> list[tuple[int, str]]:
    rel = path.relative_to(ROOT).with_suffix("")
    package = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return found


def violations() -> list[str]:
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if len(rel.parts) == 2 and path.stem in EXEMPT:
            continue
        here = rel.parts[1] if len(rel.parts) > 2 else path.stem
        if here not in LEVELS:
            bad.append(f"{rel}:1 part {here!r} has no level in tests/test_layering.py")
            continue
        for line, module in _imports(path):
            there = _part(module)
            if there is None or there == here:
                continue
            if there not in LEVELS:
                bad.append(f"{rel}:{line} imports {module}, which has no level")
            elif LEVELS[there] >= LEVELS[here]:
                bad.append(
                    f"{rel}:{line} imports {module} (level {LEVELS[there]}) "
                    f"from level {LEVELS[here]} ({here})"
                )
    return bad


def test_imports_only_go_down():
    bad = violations()
    assert not bad, "layering violations:\n" + "\n".join(bad)


def test_checker_catches_an_upward_import(tmp_path, monkeypatch):
    fake = tmp_path / "reti" / "layers"
    fake.mkdir(parents=True)
    (fake / "bad.py").write_text("import os\nfrom reti.train.loop import fit\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    monkeypatch.setattr(__import__(__name__), "PACKAGE", tmp_path / "reti")
    assert violations() == [
        "reti/layers/bad.py:2 imports reti.train.loop (level 3) from level 1 (layers)"
    ]


def test_same_level_parts_may_not_import_each_other(tmp_path, monkeypatch):
    fake = tmp_path / "reti" / "augment"
    fake.mkdir(parents=True)
    (fake / "x.py").write_text("from ..data import formats\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    monkeypatch.setattr(__import__(__name__), "PACKAGE", tmp_path / "reti")
    assert violations() == [
        "reti/augment/x.py:1 imports reti.data (level 1) from level 1 (augment)"
    ]
