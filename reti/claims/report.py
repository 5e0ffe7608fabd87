"""The claims report: ``report.md`` beside its figures, and ``report.html`` with them inline.

Every heading and label comes from the ``claims`` catalogue of ``reti.i18n`` (English or
Italian); each claim's statement, effects and experiment text are looked up there too, with the
English text in code as the fallback.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from reti.claims.base import Claim, Finding
from reti.claims.registry import number as claim_number
from reti.claims.render import (
    badge,
    comparison_text,
    finding_html,
    format_value,
    statement,
    verdict_text,
)
from reti.i18n import resolve_lang, text
from reti.io import atomic_write_text


def _table_md(rows: list[dict]) -> str:
    keys = list(dict.fromkeys(k for row in rows for k in row))
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(format_value(row.get(k, "")) for k in keys) + " |" for row in rows]
    return "\n".join(lines)


def section_md(number: int, claim: Claim, finding: Finding, root: Path, lang=None) -> str:
    """One claim as markdown: quote, statement, experiment, rule, figure, intervals, numbers."""
    parts = [
        f"## {number}. {claim.name} — **{verdict_text(finding.verdict, lang)}**",
        f"> {claim.quote}\n>\n> *{statement(claim, lang)}* "
        f"({text('claims.notes_at', lang, section=claim.section, line=claim.line)})",
        f"**{text('claims.experiment', lang)}** {finding.experiment}",
        f"**{text('claims.rule_heading', lang)}** {finding.rule}",
    ]
    if finding.figure is not None:
        parts.append(f"![{claim.name}]({os.path.relpath(finding.figure, root)})")
    parts += [comparison_text(i, c, lang) for i, c in enumerate(finding.comparisons, 1)]
    if finding.numbers:
        parts.append(_table_md(finding.numbers))
    if finding.summary:
        parts.append(f"**{text('claims.measured', lang)}** {finding.summary}")
    return "\n\n".join(parts)


def _numbered(results: list[tuple[Claim, Finding]]) -> list[tuple[int, Claim, Finding]]:
    """Each result with its claim's number in ``reti claims list`` (a run of claims 5-13 shows
    5-13, not 1-9); a claim from outside the list gets its place in the run."""
    return [(claim_number(c) or i, c, f) for i, (c, f) in enumerate(results, 1)]


def write_report(
    root: Path, results: list[tuple[Claim, Finding]], header: str, lang: str | None = None
) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` under ``root`` atomically; return both paths."""
    rows = "\n".join(
        f"| {i} | {c.name} | {c.line} | {verdict_text(f.verdict, lang)} |"
        for i, c, f in _numbered(results)
    )
    md = [
        f"# {text('claims.title', lang)}",
        header,
        f"**{text('claims.rule_title', lang)}** {text('claims.rule', lang)}",
        text("claims.table_head", lang) + "\n|---|---|---|---|\n" + rows,
    ]
    md += [section_md(i, c, f, root, lang) for i, c, f in _numbered(results)]
    md_path = atomic_write_text(root / "report.md", "\n\n".join(md) + "\n")
    html_path = atomic_write_text(root / "report.html", _html(results, header, lang))
    return md_path, html_path


def _html(results: list[tuple[Claim, Finding]], header: str, lang: str | None) -> str:
    esc = html.escape
    body = [
        f"<h1>{esc(text('claims.title', lang))}</h1><p>{esc(header)}</p>",
        f"<p><strong>{text('claims.rule_title', lang)}</strong> "
        f"{esc(text('claims.rule', lang))}</p>",
        "<table class='summary'>",
        "<tr>" + "".join(f"<th>{esc(h.strip())}</th>"
                         for h in text("claims.table_head", lang).strip("|").split("|")) + "</tr>",
    ]  # fmt: skip
    for i, c, f in _numbered(results):
        body.append(
            f"<tr><td>{i}</td><td><a href='#c{i}'>{esc(c.name)}</a></td><td>{c.line}</td>"
            f"<td>{badge(f.verdict, lang)}</td></tr>"
        )
    body.append("</table>")
    for i, c, f in _numbered(results):
        body.append(f"<section id='c{i}'><h2>{i}. {esc(c.name)}</h2>")
        body.append(finding_html(f, c, lang))
        body.append("</section>")
    style = (
        "body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 8px}"
        "img{max-width:100%}blockquote{color:#555;border-left:3px solid #ccc;padding-left:1em}"
        ".badge{color:#fff;border-radius:4px;padding:1px 6px;font-size:80%}"
    )
    return (
        f"<!DOCTYPE html>\n<html lang='{resolve_lang(lang)}'><head><meta charset='utf-8'>"
        f"<title>reti claims</title><style>{style}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
