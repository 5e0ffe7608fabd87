"""The claims report: ``report.md`` beside its figures, and ``report.html`` with them inline."""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path

from reti.claims.base import FAILS, HOLDS, Claim, Finding
from reti.claims.registry import number as claim_number
from reti.io import atomic_write_text

_BADGE = {HOLDS: "#1a7f37", FAILS: "#cf222e"}


def _table_md(rows: list[dict]) -> str:
    if not rows:
        return ""
    keys = list(dict.fromkeys(k for row in rows for k in row))
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(_fmt(row.get(k, "")) for k in keys) + " |" for row in rows]
    return "\n".join(lines)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def section_md(number: int, claim: Claim, finding: Finding, root: Path) -> str:
    """One claim as markdown: quote, English line, experiment, figure, numbers, verdict."""
    parts = [
        f"## {number}. {claim.name} — **{finding.verdict}**",
        f"> {claim.quote}\n>\n> *{claim.english}* (notes: {claim.section})",
        f"**Experiment.** {finding.experiment}",
        f"**Rule (fixed before the run).** {finding.rule}",
    ]
    if finding.figure is not None:
        rel = os.path.relpath(finding.figure, root)
        parts.append(f"![{claim.name}]({rel})")
    if finding.numbers:
        parts.append(_table_md(finding.numbers))
    if finding.summary:
        parts.append(f"**Measured.** {finding.summary}")
    return "\n\n".join(parts)


def _numbered(results: list[tuple[Claim, Finding]]) -> list[tuple[int, Claim, Finding]]:
    """Each result with its claim's number in ``reti claims list`` (a run of claims 5-13 shows
    5-13, not 1-9); a claim from outside the list gets its place in the run."""
    return [(claim_number(c) or i, c, f) for i, (c, f) in enumerate(results, 1)]


def write_report(
    root: Path, results: list[tuple[Claim, Finding]], header: str
) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` under ``root`` atomically; return both paths."""
    verdicts = "\n".join(f"| {i} | {c.name} | {f.verdict} |" for i, c, f in _numbered(results))
    md = [
        "# The notes, executed",
        header,
        "| # | claim | verdict |\n|---|---|---|\n" + verdicts,
    ]
    md += [section_md(i, c, f, root) for i, c, f in _numbered(results)]
    md_path = atomic_write_text(root / "report.md", "\n\n".join(md) + "\n")
    html_path = atomic_write_text(root / "report.html", _html(results, header))
    return md_path, html_path


def _html(results: list[tuple[Claim, Finding]], header: str) -> str:
    esc = html.escape
    body = [f"<h1>The notes, executed</h1><p>{esc(header)}</p>", "<table class='summary'>"]
    body.append("<tr><th>#</th><th>claim</th><th>verdict</th></tr>")
    for i, c, f in _numbered(results):
        body.append(
            f"<tr><td>{i}</td><td><a href='#c{i}'>{esc(c.name)}</a></td>"
            f"<td>{_badge(f.verdict)}</td></tr>"
        )
    body.append("</table>")
    for i, c, f in _numbered(results):
        body.append(f"<section id='c{i}'><h2>{i}. {esc(c.name)} {_badge(f.verdict)}</h2>")
        body.append(
            f"<blockquote lang='it'>{esc(c.quote)}</blockquote>"
            f"<p><em>{esc(c.english)}</em> (notes: {esc(c.section)})</p>"
        )
        body.append(f"<p><strong>Experiment.</strong> {esc(f.experiment)}</p>")
        body.append(f"<p><strong>Rule (fixed before the run).</strong> {esc(f.rule)}</p>")
        if f.figure is not None and Path(f.figure).is_file():
            data = base64.b64encode(Path(f.figure).read_bytes()).decode("ascii")
            body.append(f"<img alt='{esc(c.name)}' src='data:image/png;base64,{data}'>")
        if f.numbers:
            keys = list(dict.fromkeys(k for row in f.numbers for k in row))
            body.append("<table><tr>" + "".join(f"<th>{esc(k)}</th>" for k in keys) + "</tr>")
            for row in f.numbers:
                cells = "".join(f"<td>{esc(_fmt(row.get(k, '')))}</td>" for k in keys)
                body.append(f"<tr>{cells}</tr>")
            body.append("</table>")
        if f.summary:
            body.append(f"<p><strong>Measured.</strong> {esc(f.summary)}</p>")
        body.append("</section>")
    style = (
        "body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 8px}"
        "img{max-width:100%}blockquote{color:#555;border-left:3px solid #ccc;padding-left:1em}"
        ".badge{color:#fff;border-radius:4px;padding:1px 6px;font-size:80%}"
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>reti claims</title><style>{style}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def _badge(verdict: str) -> str:
    colour = _BADGE.get(verdict, "#9a6700")
    return f"<span class='badge' style='background:{colour}'>{html.escape(verdict)}</span>"
