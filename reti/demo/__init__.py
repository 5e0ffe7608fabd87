"""`reti demo`, the README's main job: the notes, section by section, trained and reported.

One module per section (``foundations``, ``vision``, ``series``, ``text``), ``sections`` lists
them in order, ``report.run_demo`` runs them and writes ``report.md`` (in English or Italian:
its strings come from reti/i18n/<lang>/demo.json). ``quick`` asks for small budgets (tests,
smoke runs); the full budget is sized for a 2-core CPU.
"""

from reti.demo.base import (
    Context,
    DemoEvent,
    Section,
    SectionDone,
    SectionResult,
    SectionStarted,
)
from reti.demo.report import run_demo
from reti.demo.sections import SECTIONS

__all__ = [
    "SECTIONS",
    "Context",
    "DemoEvent",
    "Section",
    "SectionDone",
    "SectionResult",
    "SectionStarted",
    "run_demo",
]
