"""The demo's vocabulary: a section's context and result, and the events a run reports.

Each section is ``run(ctx) -> SectionResult``: it trains what it needs, writes its files under
``ctx.out`` and returns its markdown and a one-line headline (the figure to print as it ends).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reti.i18n import text


@dataclass(frozen=True)
class Context:
    """Where a section writes, its budget, the report's language and the training device."""

    out: Path
    quick: bool = False
    lang: str = "en"
    device: str = "auto"

    def t(self, key: str, **fields: object) -> str:
        """The report string ``key`` in this run's language (reti/i18n/<lang>/demo.json)."""
        return text(key, self.lang, **fields)


@dataclass(frozen=True)
class SectionResult:
    """A section's markdown body and its headline figure (one line)."""

    body: str
    headline: str


@dataclass(frozen=True)
class Section:
    """A section: its heading (a catalogue key, or a literal title) and the function to run."""

    title: str
    run: Callable[[Context], SectionResult]


@dataclass(frozen=True)
class SectionStarted:
    """Sent before section ``index`` (1-based) of ``total`` starts."""

    index: int
    total: int
    title: str


@dataclass(frozen=True)
class SectionDone:
    """Sent when a section has finished and the report holds it."""

    index: int
    total: int
    title: str
    headline: str
    seconds: float


DemoEvent = SectionStarted | SectionDone
