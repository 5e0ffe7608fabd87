"""What every lab page must do, checked in a real browser after the page's main interaction
(used by tests/test_lab_browser.py): charts that read alone, a phone width without sideways
scrolling, labelled controls reachable by keyboard, and no English left after the switch to
Italian. Each check also writes the page's screenshots, English and Italian, wide and phone."""

from __future__ import annotations

import json
from pathlib import Path

from reti.claims.registry import CLAIMS
from reti.i18n import catalogue

WIDE = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def english_strings(allowed: frozenset[str] = frozenset()) -> set[str]:
    """The catalogue's English strings the pages can show that read differently in Italian."""
    en, it = catalogue("en"), catalogue("it")
    keys = [k for k in en if k.startswith(("lab.", "verdict."))]
    texts = {en[k].strip() for k in keys if en[k] != it.get(k)}  # + the claims' statements:
    texts |= {
        c.english for c in CLAIMS if it.get(f"claims.{c.name}.statement", c.english) != c.english
    }
    return {t for t in texts if t not in allowed}


# Visible text: text nodes whose element is rendered, plus each select's chosen option.
VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || !n.textContent.trim() || el.closest("script, style, option, [hidden]")) continue;
    const style = getComputedStyle(el);
    const gone = style.visibility === "hidden" || style.display === "none";
    if (gone || !el.getClientRects().length) continue;
    if (el.closest("details:not([open])") && !el.closest("summary")) continue;
    out.push(n.textContent.trim());
  }
  document.querySelectorAll("select").forEach((s) => {
    const shown = s.getClientRects().length && s.selectedOptions.length;
    if (shown) out.push(s.selectedOptions[0].text.trim());
  });
  return out;
}"""

CHARTS = """() => Array.from(document.querySelectorAll("figure.chart"))
  .filter((f) => f.getClientRects().length)
  .map((f) => ({
    kind: f.dataset.kind,
    titles: Array.from(f.querySelectorAll(".axis-title")).map((t) => t.textContent.trim()),
    ticks: f.querySelectorAll(".tick").length,
    colorbar: f.querySelector(".colorbar") ? f.querySelectorAll(".colorbar .tick").length : -1,
    legend: f.querySelectorAll(".legend-item .swatch").length,
  }))"""

CONTROLS = """() => Array.from(
    document.querySelectorAll("input, select, button, textarea, a[href], canvas[tabindex]"))
  .filter((e) => e.getClientRects().length && !e.closest("[hidden]"))
  .map((e) => {
    const label = (e.labels && e.labels.length ? e.labels[0].textContent : "") ||
      e.getAttribute("aria-label") || (["BUTTON", "A"].includes(e.tagName) ? e.textContent : "");
    return { id: e.id || e.tagName, label: label.trim(), tab: e.tabIndex };
  })"""

FITS = "document.documentElement.scrollWidth <= window.innerWidth"


def check_charts(page, name: str) -> list[dict]:
    """Every visible chart has its axis titles; every heatmap a colour bar with >= 2 ticks."""
    charts = page.evaluate(CHARTS)
    for c in charts:
        assert len(c["titles"]) >= 2 and all(c["titles"]), (
            f"{name}: a {c['kind']} chart lacks an axis title: {c}"
        )
        assert c["ticks"] >= 4, f"{name}: a {c['kind']} chart has {c['ticks']} ticks"
        if c["kind"] == "heatmap":
            assert c["colorbar"] >= 2, f"{name}: a heatmap without a colour bar scale: {c}"
        if c["kind"] == "line":
            assert c["legend"] >= 1, f"{name}: a line chart without a legend: {c}"
    return charts


def check_controls(page, name: str) -> int:
    """Every visible control has a visible label (or a button's text) and a tab stop."""
    controls = page.evaluate(CONTROLS)
    unlabelled = [c["id"] for c in controls if not c["label"]]
    assert not unlabelled, f"{name}: controls without a label: {unlabelled}"
    untabbable = [c["id"] for c in controls if c["tab"] < 0]
    assert not untabbable, f"{name}: controls out of the keyboard's reach: {untabbable}"
    return len(controls)


def check_italian(page, name: str, english: set[str]) -> dict:
    """No visible text of the Italian page is an English catalogue string."""
    texts = page.evaluate(VISIBLE_TEXT)
    left = sorted({t for t in texts if t in english or t.rstrip(":").strip() in english})
    assert not left, f"{name}: English left on the Italian page: {left}"
    return {"text_nodes": len(texts), "english_strings": len(english)}


def _shot(page, folder: Path, stem: str) -> None:
    page.screenshot(path=str(folder / f"{stem}.png"), full_page=True)


def finish(page, name: str, folder: Path, english: set[str]) -> dict:
    """After a page's main interaction: charts, controls, phone width and Italian, with the
    four screenshots. The page must be in English at 1280x800 when called."""
    page.set_viewport_size(WIDE)
    charts = check_charts(page, name)
    controls = check_controls(page, name)
    _shot(page, folder, f"{name}-en-1280")
    page.set_viewport_size(PHONE)
    page.wait_for_function(FITS, timeout=5_000)
    page.wait_for_timeout(300)  # the charts redraw at the new width
    assert page.evaluate(FITS), f"{name}: scrolls sideways at 390 px"
    _shot(page, folder, f"{name}-en-390")
    page.click("#lang-toggle")
    page.wait_for_function("document.body.dataset.lang === 'it'")
    page.wait_for_timeout(300)
    italian = check_italian(page, name, english)
    check_charts(page, name)
    assert page.evaluate(FITS), f"{name}: scrolls sideways at 390 px in Italian"
    _shot(page, folder, f"{name}-it-390")
    page.set_viewport_size(WIDE)
    page.wait_for_timeout(300)
    _shot(page, folder, f"{name}-it-1280")
    page.evaluate("localStorage.clear()")
    record = {"page": name, "charts": len(charts), "controls": controls, **italian}
    with (folder / "checks.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")
    return record
