"""Small HTML pieces for notebooks: the ``_repr_html_`` of History, data sets and encodings.

Jupyter shows an object's ``_repr_html_()``; these helpers build it from escaped text, a short
table and a figure embedded as a base64 PNG (``<img src="data:image/png;base64,...">``), so a
notebook needs no files and no matplotlib backend (figures are ``matplotlib.figure.Figure``).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from html import escape
from typing import Any


def figure_img(fig: Any, dpi: int = 80) -> str:
    """An ``<img>`` tag holding ``fig`` (a matplotlib Figure) as an inline base64 PNG."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="figure">'


def cell(value: Any) -> str:
    """One value as table text: floats with 4 significant digits, everything escaped."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return escape(str(value))


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """An HTML table of dict rows (columns: the first row's keys unless given); a row of
    ``None`` stands for the rows left out and shows as an ellipsis."""
    shown = [r for r in rows if r is not None]
    columns = list(columns or (shown[0].keys() if shown else []))
    head = "".join(f"<th>{escape(str(c))}</th>" for c in columns)
    body = []
    for row in rows:
        if row is None:
            body.append(f'<tr><td colspan="{len(columns)}">&hellip;</td></tr>')
        else:
            cells = "".join(f"<td>{cell(row.get(c, ''))}</td>" for c in columns)
            body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def head_and_tail(rows: Sequence[Any], n: int = 3) -> list[Any]:
    """The first and last ``n`` rows with ``None`` between them when some were left out."""
    rows = list(rows)
    return rows if len(rows) <= 2 * n else [*rows[:n], None, *rows[-n:]]


def block(title: str, *parts: str) -> str:
    """A titled ``<div>``: a bold, escaped title line, then the given HTML parts."""
    return f"<div><p><b>{escape(title)}</b></p>{''.join(parts)}</div>"


__all__ = ["block", "cell", "escape", "figure_img", "head_and_tail", "table"]
