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
    plan_text,
    statement,
    verdict_text,
)
from reti.claims.replicate import Outcome, seed_range, summary_line
from reti.i18n import resolve_lang, text
from reti.io import atomic_write_text


def _table_md(rows: list[dict]) -> str:
    keys = list(dict.fromkeys(k for row in rows for k in row))
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(format_value(row.get(k, "")) for k in keys) + " |" for row in rows]
    return "\n".join(lines)


def replication_lines(outcome: Outcome, lang=None) -> list[str]:
    """One line per seed set (its seeds, verdict and intervals), then the summary line."""
    lines = []
    for j, s in enumerate(outcome.sets, 1):
        intervals = "; ".join(
            f"{c.interval.diff:+.4g} [{c.interval.low:+.4g}, {c.interval.high:+.4g}]"
            for c in s.finding.comparisons
        )
        lines.append(text("claims.set", lang, j=j, seeds=seed_range(s.seeds),
                          verdict=verdict_text(s.finding.verdict, lang),
                          intervals=intervals or "-", seconds=f"{s.seconds:.1f}"))  # fmt: skip
    return lines + [summary_line(outcome.verdicts, lang)]


def section_md(number: int, claim: Claim, finding: Finding, root: Path, lang=None) -> str:
    """One claim as markdown: quote, statement, experiment, rule, figure, intervals, the power
    rule's seed count, numbers."""
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
    parts += [plan_text(p, finding, lang) for p in finding.plans]
    if finding.numbers:
        parts.append(_table_md(finding.numbers))
    if finding.summary:
        parts.append(f"**{text('claims.measured', lang)}** {finding.summary}")
    return "\n\n".join(parts)


def _numbered(outcomes: list[Outcome]) -> list[tuple[int, Outcome]]:
    """Each outcome with its claim's number in ``reti claims list`` (a run of claims 5-13 shows
    5-13, not 1-9); a claim from outside the list gets its place in the run."""
    return [(claim_number(o.claim) or i, o) for i, o in enumerate(outcomes, 1)]


def write_report(
    root: Path, outcomes: list[Outcome], header: str, lang: str | None = None
) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` under ``root`` atomically; return both paths.
    With several seed sets the table gives the summary line and each claim its sets."""
    rows = "\n".join(
        f"| {i} | {o.claim.name} | {o.claim.line} | {o.verdict_label(lang)} |"
        for i, o in _numbered(outcomes)
    )
    md = [
        f"# {text('claims.title', lang)}",
        header,
        f"**{text('claims.rule_title', lang)}** {text('claims.rule', lang)}",
        f"**{text('claims.power_title', lang)}** {text('claims.power_rule', lang)}",
        text("claims.table_head", lang) + "\n|---|---|---|---|\n" + rows,
    ]
    for i, o in _numbered(outcomes):
        section = section_md(i, o.claim, o.finding, root, lang)
        if len(o.sets) > 1:
            section += f"\n\n**{text('claims.replication', lang)}**\n\n" + "\n".join(
                f"- {line}" for line in replication_lines(o, lang)
            )
        md.append(section)
    md_path = atomic_write_text(root / "report.md", "\n\n".join(md) + "\n")
    html_path = atomic_write_text(root / "report.html", _html(outcomes, header, lang))
    return md_path, html_path


def _html(outcomes: list[Outcome], header: str, lang: str | None) -> str:
    esc = html.escape
    body = [
        f"<h1>{esc(text('claims.title', lang))}</h1><p>{esc(header)}</p>",
        f"<p><strong>{text('claims.rule_title', lang)}</strong> "
        f"{esc(text('claims.rule', lang))}</p>",
        f"<p><strong>{text('claims.power_title', lang)}</strong> "
        f"{esc(text('claims.power_rule', lang))}</p>",
        "<table class='summary'>",
        "<tr>" + "".join(f"<th>{esc(h.strip())}</th>"
                         for h in text("claims.table_head", lang).strip("|").split("|")) + "</tr>",
    ]  # fmt: skip
    for i, o in _numbered(outcomes):
        cell = (
            badge(o.finding.verdict, lang)
            if len(o.sets) == 1
            else (badge(o.finding.verdict if o.settled else "", lang, esc(o.verdict_label(lang))))
        )
        body.append(
            f"<tr><td>{i}</td><td><a href='#c{i}'>{esc(o.claim.name)}</a></td>"
            f"<td>{o.claim.line}</td><td>{cell}</td></tr>"
        )
    body.append("</table>")
    for i, o in _numbered(outcomes):
        body.append(f"<section id='c{i}'><h2>{i}. {esc(o.claim.name)}</h2>")
        body.append(finding_html(o.finding, o.claim, lang))
        if len(o.sets) > 1:
            items = "".join(f"<li>{esc(line)}</li>" for line in replication_lines(o, lang))
            body.append(f"<p><strong>{text('claims.replication', lang)}</strong></p>"
                        f"<ul>{items}</ul>")  # fmt: skip
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
