"""The claims report: ``report.md`` beside its figures, and ``report.html`` with them inline.

Every heading and label comes from the ``claims`` catalogue of ``reti.i18n`` (English or
Italian); each claim's statement, effects and experiment text are looked up there too, with the
English text in code as the fallback.
"""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path

from reti.claims.base import FAILS, HOLDS, Claim, Finding
from reti.claims.registry import number as claim_number
from reti.claims.stats import Comparison
from reti.i18n import catalogue, resolve_lang, text
from reti.io import atomic_write_text

_BADGE = {HOLDS: "#1a7f37", FAILS: "#cf222e"}


def tr(key: str, lang: str | None, default: str) -> str:
    """The catalogue's text for ``key`` in ``lang``, or ``default`` where it has none."""
    return catalogue(resolve_lang(lang)).get(key, default)


def verdict_text(verdict: str, lang: str | None) -> str:
    return text(f"verdict.{verdict}", lang)


def statement(claim: Claim, lang: str | None) -> str:
    """The claim in one line, in ``lang``."""
    return tr(f"claims.{claim.name}.statement", lang, claim.english)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def comparison_text(i: int, c: Comparison, lang: str | None) -> str:
    """One effect's test in words: figure, smallest effect, per-seed values, interval, verdict."""
    e, iv = c.effect, c.interval
    key = f"claims.effect.{e.figure}"
    method = text(
        "claims.method.paired" if iv.paired else "claims.method.welch", lang,
        df=f"{iv.df:.3g}", t=f"{iv.t:.3f}",
    )  # fmt: skip
    claimed = {
        (True, "difference"): "claims.claimed.higher",
        (False, "difference"): "claims.claimed.lower",
    }.get((e.higher, e.kind), "claims.claimed.equivalent")
    return text(
        "claims.comparison", lang, i=i, figure=tr(key + ".figure", lang, e.figure),
        a=tr(key + ".a", lang, e.a), b=tr(key + ".b", lang, e.b), s=f"{e.smallest:g}",
        reason=tr(key + ".reason", lang, e.reason), claimed=text(claimed, lang),
        va=", ".join(f"{v:.4g}" for v in c.a), vb=", ".join(f"{v:.4g}" for v in c.b),
        diff=f"{iv.diff:+.4g}", low=f"{iv.low:+.4g}", high=f"{iv.high:+.4g}", method=method,
        verdict=verdict_text(c.verdict, lang),
    )  # fmt: skip


def _table_md(rows: list[dict]) -> str:
    keys = list(dict.fromkeys(k for row in rows for k in row))
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(_fmt(row.get(k, "")) for k in keys) + " |" for row in rows]
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


def finding_html(finding: Finding, claim: Claim | None = None, lang: str | None = None) -> str:
    """A finding as an HTML fragment (verdict badge, rule, intervals, numbers, figure inline)."""
    esc = html.escape
    body = [f"<p>{_badge(finding.verdict, lang)}</p>"]
    if claim is not None:
        body.append(
            f"<blockquote lang='it'>{esc(claim.quote)}</blockquote>"
            f"<p><em>{esc(statement(claim, lang))}</em> "
            f"({esc(text('claims.notes_at', lang, section=claim.section, line=claim.line))})</p>"
        )
    if finding.experiment:
        body.append(f"<p><strong>{text('claims.experiment', lang)}</strong> "
                    f"{esc(finding.experiment)}</p>")  # fmt: skip
    body.append(f"<p><strong>{text('claims.rule_heading', lang)}</strong> {esc(finding.rule)}</p>")
    if finding.figure is not None and Path(finding.figure).is_file():
        data = base64.b64encode(Path(finding.figure).read_bytes()).decode("ascii")
        alt = esc(claim.name if claim else "figure")
        body.append(f"<img alt='{alt}' src='data:image/png;base64,{data}'>")
    for i, c in enumerate(finding.comparisons, 1):
        body.append(f"<p>{esc(comparison_text(i, c, lang)).replace('**', '')}</p>")
    if finding.numbers:
        keys = list(dict.fromkeys(k for row in finding.numbers for k in row))
        body.append("<table><tr>" + "".join(f"<th>{esc(k)}</th>" for k in keys) + "</tr>")
        for row in finding.numbers:
            cells = "".join(f"<td>{esc(_fmt(row.get(k, '')))}</td>" for k in keys)
            body.append(f"<tr>{cells}</tr>")
        body.append("</table>")
    if finding.summary:
        body.append(f"<p><strong>{text('claims.measured', lang)}</strong> "
                    f"{esc(finding.summary)}</p>")  # fmt: skip
    return "\n".join(body)


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
            f"<td>{_badge(f.verdict, lang)}</td></tr>"
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


def _badge(verdict: str, lang: str | None = None) -> str:
    colour = _BADGE.get(verdict, "#9a6700")
    label = html.escape(verdict_text(verdict, lang))
    return f"<span class='badge' style='background:{colour}'>{label}</span>"
