"""Drawn digits in a real browser: train the CNN page's default model (MNIST 28x28), draw a 1, a
7 and a 0 on the pad with mouse strokes, and check each is classified right, and that the reply
carries the 28x28 image the net received (MNIST's preprocessing, ``reti.data.mnist_style``).
Playwright driving Debian's chromium against a uvicorn server in a thread, as
tests/test_lab_browser.py does; the default training fetches MNIST through reti's fetcher."""

from __future__ import annotations

import math
import socket
import threading
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.network]

CHROMIUM = "/usr/bin/chromium"
PAD = 160  # the pad's canvas side (reti/lab/pages/cnn.html)


def _ring(n: int = 24) -> list[tuple[float, float]]:
    return [(80 + 34 * math.cos(2 * math.pi * k / n), 80 + 55 * math.sin(2 * math.pi * k / n))
            for k in range(n + 1)]  # fmt: skip


# (x, y) points in the pad's pixels; each list is one stroke (pointer down, moves, up)
DIGITS = {
    "1": [[(85, 25), (80, 135)]],
    "7": [[(40, 30), (120, 30), (65, 135)]],
    "0": [_ring()],
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    pytest.importorskip("starlette")
    uvicorn = pytest.importorskip("uvicorn")
    from reti.lab.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(tmp_path_factory.mktemp("lab"), gpt_steps=20)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
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
def page(server):
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"SKIPPED LOUDLY: no chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("SKIPPED LOUDLY: playwright is not installed (pip install playwright)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        pg = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(server + "/page/cnn")
        yield pg
        browser.close()
        assert not errors, errors


def draw(page, strokes) -> None:
    """Mouse strokes on the pad, in its own pixels (scaled if CSS resizes the canvas)."""
    box = page.locator("#pad").bounding_box()
    sx, sy = box["width"] / PAD, box["height"] / PAD
    for points in strokes:
        x, y = points[0]
        page.mouse.move(box["x"] + x * sx, box["y"] + y * sy)
        page.mouse.down()
        for x, y in points[1:]:
            page.mouse.move(box["x"] + x * sx, box["y"] + y * sy, steps=12)
        page.mouse.up()


def test_drawn_digits_are_classified_right(page):
    # the defaults come from the server: MNIST, the notes' CNN, one epoch of 20,000 images
    page.wait_for_function("document.getElementById('limit').value === '20000'")
    assert page.locator("#data").input_value() == "mnist"
    page.click("#train")
    page.wait_for_function(
        "document.getElementById('accuracy').textContent.includes('%')", timeout=600_000
    )
    accuracy = float(page.locator("#accuracy").text_content().split()[0])
    assert accuracy >= 95.0
    for label, strokes in DIGITS.items():
        page.click("#clear")
        draw(page, strokes)
        with page.expect_response(lambda r: r.url.endswith("/predict")) as reply:
            page.click("#predict")
        data = reply.value.json()
        best = max(range(len(data["probs"])), key=lambda i: data["probs"][i])
        assert data["classes"][best] == label, (label, data["probs"])
        image = data["input"]  # what the net received: 28x28, ink centred
        assert len(image) == 28 and all(len(row) == 28 for row in image)
        mass = sum(map(sum, image))
        row = sum(i * v for i, r in enumerate(image) for v in r) / mass
        col = sum(j * v for r in image for j, v in enumerate(r)) / mass
        assert abs(row - 14) <= 0.5 + 1e-3 and abs(col - 14) <= 0.5 + 1e-3
        page.wait_for_function(
            "l => document.querySelector('#probs .match .mono').textContent.trim() === l", arg=label
        )
