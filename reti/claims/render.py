"""A claim's finding as text and HTML: verdicts, statements and intervals in the report's
language (``reti.i18n`` catalogue ``claims``). Shared by the report and ``Finding._repr_html_``;
it imports no other claims module but the rule's, so ``base`` can use it."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from reti.claims.stats import FAILS, HOLDS, Comparison
from reti.i18n import catalogue, resolve_lang, text

_BADGE = {HOLDS: "#1a7f37", FAILS: "#cf222e"}


def tr(key: str, lang: str | None, default: str) -> str:
    """The catalogue's text for ``key`` in ``lang``, or ``default`` where it has none."""
    return catalogue(resolve_lang(lang)).get(key, default)


def verdict_text(verdict: str, lang: str | None) -> str:
    return text(f"verdict.{verdict}", lang)


def statement(claim, lang: str | None) -> str:
    """The claim in one line, in ``lang``."""
    return tr(f"claims.{claim.name}.statement", lang, claim.english)


def format_value(value) -> str:
    """A table cell: floats to 4 significant digits."""
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


def plan_text(plan, finding, lang: str | None) -> str:
    """The power rule worked out for one effect (``reti.claims.power.Plan``): the pilot's
    seeds and figures, the distance to the band's edge, the chosen count and this run's seeds."""
    e, pilot = plan.effect, plan.pilot
    seeds = next((c.seeds for c in finding.comparisons if c.effect == e and c.seeds), [])
    return text(
        "claims.plan" if plan.met else "claims.plan.capped", lang,
        figure=tr(f"claims.effect.{e.figure}.figure", lang, e.figure),
        pilot_seeds=seed_range(pilot.seeds), source=pilot.source, mean=f"{pilot.mean:+.4g}",
        sd=f"{pilot.sd:.3g}", s=f"{e.smallest:g}", d=f"{plan.distance:.3g}",
        target=f"{plan.target:.3g}", n=plan.n, hw=f"{plan.expected_half_width:.3g}",
        seeds=seed_range(seeds) if seeds else str(plan.n),
    )  # fmt: skip


def seed_range(seeds) -> str:
    """``0-4`` for consecutive seeds, ``0-4, 9`` otherwise; ``-`` for none."""
    runs: list[list[int]] = []
    for s in sorted(set(seeds)):
        if runs and s == runs[-1][-1] + 1:
            runs[-1].append(s)
        else:
            runs.append([s])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs) or "-"


def finding_html(finding, claim=None, lang: str | None = None) -> str:
    """A finding as an HTML fragment (verdict badge, rule, intervals, numbers, figure inline)."""
    esc = html.escape
    body = [f"<p>{badge(finding.verdict, lang)}</p>"]
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
    for plan in getattr(finding, "plans", []):
        body.append(f"<p>{esc(plan_text(plan, finding, lang)).replace('**', '')}</p>")
    if finding.numbers:
        keys = list(dict.fromkeys(k for row in finding.numbers for k in row))
        body.append("<table><tr>" + "".join(f"<th>{esc(k)}</th>" for k in keys) + "</tr>")
        for row in finding.numbers:
            cells = "".join(f"<td>{esc(format_value(row.get(k, '')))}</td>" for k in keys)
            body.append(f"<tr>{cells}</tr>")
        body.append("</table>")
    if finding.summary:
        body.append(f"<p><strong>{text('claims.measured', lang)}</strong> "
                    f"{esc(finding.summary)}</p>")  # fmt: skip
    return "\n".join(body)


def badge(verdict: str, lang: str | None = None, label: str | None = None) -> str:
    """The verdict as a coloured HTML label (``label``, escaped HTML, replaces its name)."""
    colour = _BADGE.get(verdict, "#9a6700")
    label = label or html.escape(verdict_text(verdict, lang))
    return f"<span class='badge' style='background:{colour}'>{label}</span>"
