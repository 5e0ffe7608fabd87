"""The data flows down the page (README.md, "Layout"; the course's style guide, kept outside
this repository, draws the same picture): a module imports only from lower levels or its own
package, and no two files import each other, even through others (no import cycle). Parses every
import with ``ast`` (also those inside functions) and names ``file:line`` for each violation."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "reti"

# Top-level part of reti -> level. Parts on one level never import each other.
LEVELS = {
    "errors": 0,
    "guards": 0.5,
    "runtime": 0.5,
    "jsonio": 0.25,  # validated JSON, below io (which reads checkpoint meta through it)
    "io": 0.5,
    "numbers": 0.5,
    "config": 0.5,
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
    "lab": 6,  # the lab serves the claims page: above claims, below the CLI
    "cli": 7,
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


def _module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts[:-1]) if rel.name == "__init__" else list(rel.parts)
        out[".".join(parts)] = path
    return out


def _edges() -> dict[str, set[str]]:
    """Module -> the package modules it imports (``from a.b import c`` counts a.b.c when c is
    a module, else a.b). A package's own ``__init__`` running first is not an edge."""
    files = _module_files()
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                    up = here[: len(here) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names
                ]
            graph[name] |= {t for t in targets if t in files and t != name}
    return graph


def cycles() -> list[str]:
    """Each import cycle between files once, as ``a -> b -> a`` (depth-first search)."""
    graph, found, state = _edges(), [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                loop = stack[stack.index(nxt) :] + [nxt]
                found.append(" -> ".join(loop))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    return found


def test_no_import_cycle_between_files():
    found = cycles()
    assert not found, "import cycles:\n" + "\n".join(found)


def test_cycle_checker_finds_a_circle_even_inside_a_function(tmp_path, monkeypatch):
    fake = tmp_path / "reti" / "tasks"
    fake.mkdir(parents=True)
    (tmp_path / "reti" / "__init__.py").write_text("")
    (fake / "__init__.py").write_text("")
    (fake / "a.py").write_text("from reti.tasks.b import g\n")
    (fake / "b.py").write_text("def g():\n    from reti.tasks import a\n")
    (fake / "c.py").write_text("from . import a\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    monkeypatch.setattr(__import__(__name__), "PACKAGE", tmp_path / "reti")
    assert cycles() == ["reti.tasks.a -> reti.tasks.b -> reti.tasks.a"]
