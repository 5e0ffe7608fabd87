"""``run_demo``: the sections in order, each under its heading, and ``report.md`` after each.

The report is rewritten atomically after every section, so partial progress shows while the
rest is still training. Library code prints nothing: a caller who wants to follow the run (the
CLI prints each section's name and headline) passes ``on_event``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from reti.demo.base import Context, DemoEvent, Section, SectionDone, SectionStarted
from reti.demo.sections import SECTIONS
from reti.i18n import catalogue, resolve_lang, text
from reti.io import atomic_write_text, ensure_dir
from reti.runtime import resolve_device


def _heading(title: str, lang: str) -> str:
    return text(title, lang) if title in catalogue(lang) else title


def run_demo(
    out_dir: str | Path = "runs/demo",
    quick: bool = False,
    sections: Sequence[Section] | None = None,
    *,
    lang: str | None = None,
    device: str = "auto",
    on_event: Callable[[DemoEvent], None] | None = None,
) -> Path:
    """Run every section in order, writing ``out_dir/report.md`` after each; returns its path.

    ``lang`` picks the report's language (default: ``RETI_LANG``, the locale, English).

    Raises:
        ConfigError: ``out_dir`` exists and is not a folder; an unknown ``lang`` or ``device``.
    """
    lang = resolve_lang(lang)
    resolve_device(device)  # a bad device fails before any work
    out = ensure_dir(out_dir)
    ctx = Context(out, quick, lang, device)
    report = out / "report.md"
    parts = [f"# {ctx.t('demo.title')}", "", ctx.t("demo.intro_quick" if quick else "demo.intro")]
    chosen = list(SECTIONS if sections is None else sections)
    for index, section in enumerate(chosen, start=1):
        title = _heading(section.title, lang)
        if on_event is not None:
            on_event(SectionStarted(index, len(chosen), title))
        start = time.perf_counter()
        result = section.run(ctx)
        seconds = time.perf_counter() - start
        parts += ["", f"## {title}", "", result.body.strip(), ""]
        parts.append(ctx.t("demo.section_time", seconds=seconds))
        atomic_write_text(report, "\n".join(parts) + "\n")
        if on_event is not None:
            on_event(SectionDone(index, len(chosen), title, result.headline, seconds))
    return report
