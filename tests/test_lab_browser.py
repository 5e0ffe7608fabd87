"""The lab in a real browser: Playwright (sync API) driving Debian's chromium against a uvicorn
server started in a thread. Each page loads with no console error, and one real interaction per
page changes what it should. Screenshots go to $RETI_ARTIFACTS (or the test's tmp folder)."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
PAGES = ("connectivity", "cnn", "normalization", "augment", "series", "text", "claims")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    pytest.importorskip("starlette")
    uvicorn = pytest.importorskip("uvicorn")
    from reti.lab.app import create_app

    port = _free_port()
    app = create_app(tmp_path_factory.mktemp("lab"), gpt_steps=20)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the lab server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"SKIPPED LOUDLY: no chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("SKIPPED LOUDLY: playwright is not installed (pip install playwright)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> Path:
    folder = os.environ.get("RETI_ARTIFACTS")
    path = Path(folder) / "lab" if folder else tmp_path_factory.mktemp("lab-screens")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def page(browser, server, artifacts, request):
    context = browser.new_context(locale="en-US", viewport={"width": 1200, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.base = server
    pg.bad_input_sent = False  # a test that types a bad pattern expects the 400 it gets
    yield pg
    pg.screenshot(path=str(artifacts / f"{request.node.name}.png"), full_page=True)
    context.close()
    if pg.bad_input_sent:  # chromium logs every 4xx fetch; only the expected 400s are allowed
        errors = [e for e in errors if "status of 400" not in e]
    assert not errors, f"console errors: {errors}"


def _open(page, name: str) -> None:
    page.goto(f"{page.base}/page/{name}")
    page.wait_for_function("document.getElementById('lang-toggle').textContent === 'IT'")


def test_connectivity_counts_follow_the_inputs(page):
    _open(page, "connectivity")
    totals = page.locator("#counts td.total")
    totals.first.wait_for()
    assert totals.all_inner_texts() == ["1,000,000,000,000", "100,000,000", "10,000"]
    assert page.locator("#counts tr.match").count() == 3
    page.fill("#filters", "10")
    third = "document.querySelectorAll('#counts td.total')[2].textContent"
    page.wait_for_function(f"{third} === '1,000'")
    assert page.locator("#counts tr.match").count() == 2


def test_cnn_bad_pattern_shows_its_column_then_trains(page):
    _open(page, "cnn")
    page.locator("#layers tbody tr").first.wait_for()
    page.bad_input_sent = True
    page.fill("#pattern", "CONV3@8-RELU-POOX")
    page.wait_for_function("document.getElementById('pattern-error').dataset.column === '14'")
    caret_line = page.inner_text("#pattern-error").splitlines()[1]
    assert caret_line.index("^") == 13  # under the 14th character, the P of POOX
    page.fill("#pattern", "CONV3@8-RELU-POOL-FC@10,SOFTMAX")
    page.wait_for_function("document.getElementById('pattern-error').textContent === ''")
    assert page.locator("#layers tbody tr").count() >= 4
    # a 1-epoch digits training: >= 3 progress events stream in, the accuracy shows at the end
    page.select_option("#data", "digits")  # the default is MNIST (tests/test_lab_browser_draw.py)
    page.fill("#limit", "")
    page.fill("#batch", "16")
    page.click("#train")
    page.wait_for_function(
        "document.getElementById('accuracy').textContent.includes('%')", timeout=90_000
    )
    assert int(page.get_attribute("#events-count", "data-count")) >= 3
    assert page.locator("#curves path").count() >= 1
    assert re.match(r"\d+\.\d %", page.inner_text("#accuracy"))
    assert page.locator("#confusion tr").count() == 11
    assert page.inner_text("#command").startswith("reti vision train --data digits")
    assert page.inner_text("#status") == "done"
    page.locator("#pad").scroll_into_view_if_needed()  # draw a stroke on the pad, classify
    box = page.locator("#pad").bounding_box()
    page.mouse.move(box["x"] + 80, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + 80, box["y"] + 140, steps=8)
    page.mouse.up()
    ink = "Array.from(document.getElementById('pad').getContext('2d')"
    ink += ".getImageData(0, 0, 160, 160).data).some((v, i) => i % 4 === 0 && v > 0)"
    assert page.evaluate(ink)
    page.click("#predict")
    page.locator("#probs div").nth(9).wait_for()
    assert page.locator("#probs div.match").count() == 1


def test_dropout_slider_changes_the_standard_eval_mean(page):
    _open(page, "normalization")
    page.wait_for_function("document.getElementById('standard-means').textContent !== ''")
    before = page.inner_text("#standard-means")
    page.fill("#p", "0.8")
    page.dispatch_event("#p", "input")
    page.wait_for_function(f"document.getElementById('standard-means').textContent !== {before!r}")
    page.select_option("#batch", "2")
    page.wait_for_function("document.getElementById('bn-std').textContent !== ''")
    # both live trainings, tiny: the final tables get one row per arm (plus the header)
    for prefix, rows in (("drop", 3), ("nt", 4)):
        page.fill(f"#{prefix}-epochs", "1")
        page.fill(f"#{prefix}-limit", "40")
        page.click(f"#{prefix}-train")
        table = f"document.getElementById('{prefix}-table')"
        page.wait_for_function(f"{table}.querySelectorAll('tr').length === {rows}", timeout=60_000)
    assert page.locator("#nt-table tr").nth(1).locator("td").nth(3).inner_text() != "-"
    assert page.locator("#nt-table tr").nth(3).locator("td").nth(3).inner_text() == "-"


def test_augmentation_seed_changes_the_grid(page):
    _open(page, "augment")
    page.wait_for_function("document.getElementById('grid').width > 0")
    first = page.evaluate("document.getElementById('grid').toDataURL()")
    page.fill("#seed", "7")
    page.dispatch_event("#seed", "input")
    page.wait_for_function(f"document.getElementById('grid').toDataURL() !== {first!r}")
    page.bad_input_sent = True
    page.fill("#spec", "rotate(")
    page.wait_for_function("document.getElementById('error').textContent.includes('column')")


def test_series_causal_ignores_the_future(page):
    _open(page, "series")
    page.wait_for_function("document.getElementById('causal-change').textContent !== ''")
    assert float(page.inner_text("#causal-change")) == 0.0
    assert float(page.inner_text("#ordinary-change")) > 0
    page.fill("#step", "20")
    page.wait_for_function(
        "document.getElementById('causal-field').textContent.startsWith('6..20')"
    )


def test_text_temperature_zero_gives_the_same_text_twice(page):
    _open(page, "text")
    page.locator(".tokenizer[data-kind=gpt2] .tok").first.wait_for()
    assert page.locator(".tokenizer").count() == 4
    page.fill("#temperature", "0")
    texts = []
    for run in (1, 2):
        page.click("#generate")
        page.wait_for_function(
            f"document.getElementById('sample').dataset.done === '{run}'", timeout=60_000
        )
        texts.append(page.inner_text("#sample"))
    assert texts[0] == texts[1] and len(texts[0]) > len("ROMEO:")
    page.wait_for_function("document.getElementById('att-layer').options.length > 0")


def test_claims_are_listed_and_the_italian_toggle_changes_the_text(page):
    _open(page, "claims")
    page.locator("#claims tbody tr").first.wait_for()
    assert page.inner_text("h1") == "Claims of the notes, checked"
    page.click("#lang-toggle")
    page.wait_for_function("document.querySelector('h1').textContent.startsWith('Le affermazioni')")
    assert page.inner_text("header nav a.active") == "Affermazioni"
    page.click("button[data-claim='1']")  # the parameter-count claim: exact, quick
    page.wait_for_function(
        "document.querySelector('td.verdict').textContent.startsWith('holds')", timeout=60_000
    )
    page.evaluate("localStorage.clear()")


def test_every_page_loads_in_italian_by_the_browsers_language(browser, server, artifacts):
    context = browser.new_context(locale="it-IT")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    for name in PAGES:
        pg.goto(f"{server}/page/{name}")
        pg.wait_for_function("document.getElementById('lang-toggle').textContent === 'EN'")
        assert pg.evaluate("document.documentElement.lang") == "it"
    pg.screenshot(path=str(artifacts / "claims-it.png"))
    context.close()
    assert not errors, errors
