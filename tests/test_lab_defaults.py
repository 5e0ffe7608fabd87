"""The lab's defaults teach what docs/lab.md says they do, and a drawing reaches the net the way
MNIST's digits did: MNIST's preprocessing on hand-made images (polarity, crop, 20x20 box,
centre of mass), the prediction's input, the defaults against the docs' table, and the small
default runs that train in seconds (the series forecast against seasonal naive)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from reti.data.mnist_style import centre_of_mass, fit_side, ink_on_black, mnist_style
from reti.errors import DataError, ShapeError

DOCS = Path(__file__).resolve().parents[1] / "docs" / "lab.md"


def stroke(canvas: torch.Tensor, a: tuple[float, float], b: tuple[float, float], width: float):
    """Draw a thick anti-aliased segment a -> b ((row, col) points) with ink 1 into canvas."""
    h, w = canvas.shape
    r = torch.arange(h, dtype=torch.float32)[:, None]
    c = torch.arange(w, dtype=torch.float32)[None, :]
    (r0, c0), (r1, c1) = a, b
    dr, dc = r1 - r0, c1 - c0
    t = (((r - r0) * dr + (c - c0) * dc) / max(dr * dr + dc * dc, 1e-9)).clamp(0, 1)
    dist = ((r - (r0 + t * dr)) ** 2 + (c - (c0 + t * dc)) ** 2).sqrt()
    canvas.copy_(torch.maximum(canvas, (width / 2 + 0.5 - dist).clamp(0, 1)))
    return canvas


def seven(h=120, w=100, top=20, left=15, size=70, width=9.0) -> torch.Tensor:
    """White ink on black: a 7 (a bar and a diagonal) drawn at (top, left), ``size`` tall."""
    x = torch.zeros(h, w)
    stroke(x, (top, left), (top, left + 0.8 * size), width)
    return stroke(x, (top, left + 0.8 * size), (top + size, left + 0.25 * size), width)


def zero(h=120, w=100, centre=(60, 45), radii=(35, 22), width=8.0) -> torch.Tensor:
    """White ink on black: a 0 as an ellipse of straight strokes."""
    x = torch.zeros(h, w)
    pts = [(centre[0] + radii[0] * math.sin(2 * math.pi * k / 24),
            centre[1] + radii[1] * math.cos(2 * math.pi * k / 24)) for k in range(25)]  # fmt: skip
    for a, b in zip(pts, pts[1:]):
        stroke(x, a, b, width)
    return x


def ink_box(x: torch.Tensor, level: float = 0.5) -> tuple[int, int]:
    rows = torch.nonzero((x > level).any(1)).flatten()
    cols = torch.nonzero((x > level).any(0)).flatten()
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


# --- MNIST's preprocessing -----------------------------------------------------------------------


def test_dark_on_white_and_white_on_black_give_the_same_28x28():
    for digit in (seven(), zero()):
        white_on_black = mnist_style(digit)
        dark_on_white = mnist_style(1.0 - digit)
        assert white_on_black.shape == (28, 28)
        assert torch.allclose(white_on_black, dark_on_white, atol=1e-6)
        # a grey paper and a grey pencil: the same digit once the background is taken away
        pencil = 0.75 - 0.5 * digit
        assert (mnist_style(pencil) - white_on_black).abs().max() < 1e-5


def test_the_centre_of_mass_lands_on_pixel_14_14():
    digits = [seven(), seven(top=5, left=2, size=40), seven(h=300, w=300, top=200, left=150),
              zero(), zero(centre=(30, 70), radii=(20, 10)), stroke(torch.zeros(90, 90),
              (10, 80), (60, 75), 6.0)]  # fmt: skip
    for digit in digits:
        r, c = centre_of_mass(mnist_style(digit))
        assert abs(r - 14) <= 0.5 + 1e-4 and abs(c - 14) <= 0.5 + 1e-4, (r, c)


def test_the_digit_is_scaled_to_fit_20x20_keeping_its_aspect():
    tall = torch.zeros(100, 100)
    tall[10:70, 40:70] = 1.0  # a 60 x 30 block: 20 x 10 after scaling
    assert ink_box(mnist_style(tall)) == (20, 10)
    wide = torch.zeros(50, 200)
    wide[20:30, 10:190] = 1.0  # 10 x 180 -> about 1 x 20
    h, w = ink_box(mnist_style(wide), level=0.3)
    assert w == 20 and h <= 2
    h, w = ink_box(mnist_style(seven()))
    assert max(h, w) in (19, 20)  # anti-aliased edges may fall under the level


def test_position_and_size_on_the_pad_do_not_matter():
    digit = seven(top=10, left=5)
    moved = torch.zeros(200, 160)
    moved[37:157, 51:151] = digit  # the same pixels elsewhere on a larger pad
    assert torch.equal(mnist_style(digit), mnist_style(moved))  # the same crop, bit for bit
    small, big = mnist_style(seven(size=40, width=5)), mnist_style(seven(size=80, width=10))
    assert (small - big).abs().mean() < 0.05


def test_numbers_channels_and_uint8():
    digit = zero()
    as_bytes = (digit * 255).round().to(torch.uint8)
    assert (mnist_style(as_bytes) - mnist_style(as_bytes.float() / 255)).abs().max() < 1e-6
    rgb = digit.expand(3, -1, -1)
    assert torch.allclose(mnist_style(rgb), mnist_style(digit), atol=1e-6)
    assert torch.allclose(ink_on_black(digit * 0.5), digit, atol=1e-6)  # stretched to 1


def test_bad_images_get_one_clear_error():
    with pytest.raises(DataError, match="no ink"):
        mnist_style(torch.zeros(50, 50))
    with pytest.raises(DataError, match="no ink"):
        mnist_style(torch.ones(50, 50))  # white paper, nothing written
    with pytest.raises(ShapeError, match=r"\(H, W\)"):
        mnist_style(torch.zeros(10))
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        mnist_style(torch.full((8, 8), 2.0))
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        mnist_style(torch.full((8, 8), float("nan")))


def test_fit_side_shrinks_for_the_8x8_digits():
    frame = mnist_style(seven())
    assert fit_side(frame, 28) is frame
    small = fit_side(frame, 8)
    assert small.shape == (8, 8) and 0 <= small.min() and small.max() <= 1
    # the mean ink is kept by the area-weighted shrink (within the frame's clamp)
    assert abs(small.mean().item() - frame.mean().item()) < 0.02


@pytest.mark.network
def test_mnist_digits_come_back_almost_unchanged():
    """The oracle: MNIST's own test digits already went through these steps, so they should
    come back nearly as they are (measured: mean absolute difference 0.0008 on 500)."""
    from reti.data import load_images

    x = load_images("mnist").test_x[:200, 0].float() / 255
    diffs = torch.stack([(mnist_style(d) - d).abs().mean() for d in x])
    assert diffs.mean() < 0.005
    coms = torch.tensor([centre_of_mass(d) for d in x]).mean(0)
    assert torch.allclose(coms, torch.tensor([14.0, 14.0]), atol=0.1)  # MNIST's own centre


# --- what the net receives -----------------------------------------------------------------------


def test_a_digit_net_gets_mnist_preprocessing_and_others_a_resize():
    from reti.lab.predict import drawn_image, net_input

    digit = seven(h=80, w=80)
    mnist = {"in_channels": 1, "image_size": 28, "data": "mnist"}
    assert torch.equal(net_input(digit[None], mnist)[0, 0], mnist_style(digit))
    digits = {"in_channels": 1, "image_size": 8, "data": "digits"}
    assert net_input(digit[None], digits).shape == (1, 1, 8, 8)
    photos = {"in_channels": 3, "image_size": 16, "data": "folder:/x"}
    x = net_input(torch.ones(1, 32, 32) * 0.25, photos)
    assert x.shape == (1, 3, 16, 16) and torch.allclose(x, torch.full_like(x, 0.25))
    body = {"pixels": digit.flatten().tolist(), "width": 80, "height": 80}
    assert torch.equal(drawn_image(body, 1, 28)[0], digit)
    with pytest.raises(ShapeError, match="6400 numbers"):
        drawn_image({**body, "pixels": [0.0] * 10}, 1, 28)
    with pytest.raises(ShapeError, match="width and height"):
        drawn_image({**body, "width": 10_000}, 1, 28)


# --- the defaults are the ones docs/lab.md measured ------------------------------------------


def test_the_docs_table_lists_the_code_defaults():
    from reti.lab.dropout_job import REGIMES, arm_pattern, dropout_params
    from reti.lab.runners import CNN_DEFAULTS, SERIES_RECIPES, series_params, vision_params

    docs = DOCS.read_text(encoding="utf-8")
    assert vision_params({}) == {**CNN_DEFAULTS, "seed": 0}
    cnn = CNN_DEFAULTS
    line = (f"`{cnn['model']}` on {cnn['data']}, {cnn['limit']:,} training images, "
            f"{cnn['epochs']} epoch, batch {cnn['batch_size']}, lr {cnn['lr']}")  # fmt: skip
    assert line in docs, line
    assert dropout_params({})["regime"] == "narrows"
    for name, r in REGIMES.items():
        p = dropout_params({"regime": name})
        assert (p["p"], p["epochs"], p["limit"]) == (r.p, r.epochs, r.limit)
        line = (
            f"`{arm_pattern('dropout', r.p, name)}` vs without dropout, {r.data}, "
            f"{r.limit} training images, {r.epochs} epochs, batch {r.batch_size}, lr {r.lr}"
        )
        assert line in docs, line
    s = series_params({})
    assert (s["task"], s["data"], s["horizon"]) == ("forecast", "airline", 12)
    for task, r in SERIES_RECIPES.items():
        if task != "classify":
            line = (
                f"TCN {r['levels']} levels x {r['channels']}, window "
                f"{r['window'] or 'auto'}, {r['epochs']} epochs, batch {r['batch_size']}, "
                f"lr {r['lr']}"
            )
            assert line in docs, line


def test_every_default_says_what_to_look_for_in_both_languages():
    from reti.i18n import catalogue

    en, it = catalogue("en"), catalogue("it")
    keys = ["lab.look.cnn", "lab.look.draw", "lab.look.dropout_narrows",
            "lab.look.dropout_contrast", "lab.look.forecast", "lab.look.anomaly"]  # fmt: skip
    for key in keys:
        assert en[key] and it[key] and en[key] != it[key], key
        assert en[key].count(". ") <= 1  # one sentence (two for the CNN: train, then draw)


def test_the_default_forecast_beats_seasonal_naive_and_carries_its_plot(tmp_path, one_thread):
    """The Series page's default (airline, the recipe of SERIES_RECIPES, seed 0; a second on
    two cores): both TCN options below seasonal naive's MASE, and the plot's baselines are the
    naive forecasts worked by hand from the history."""
    from reti.data.series import load_series
    from reti.lab.jobs import Job
    from reti.lab.runners import run_series

    job = Job(tmp_path / "job", "series", {})
    result = run_series(job, lambda event: None)
    seasonal = result["baselines"]["seasonal naive (m=12)"]["mase"]
    assert set(result["models"]) == {"tcn (direct head)", "tcn (autoregressive rollout)"}
    assert all(m["mase"] < seasonal for m in result["models"].values()), result
    assert result["look_for"] == "lab.look.forecast"
    plot = result["plot"]
    history, truth, n = plot["history"], plot["truth"], len(plot["truth"])
    assert history + truth == load_series("airline").values[:, 0].tolist()  # all 144 months
    assert plot["start"] == len(history)
    assert all(len(f) == n for f in plot["forecasts"].values()) and len(plot["forecasts"]) == 2
    assert plot["baselines"]["naive"] == [history[-1]] * n
    assert plot["baselines"]["seasonal naive (m=12)"] == [history[-12 + h % 12] for h in range(n)]


def test_the_dropout_regimes_are_one_param_apart():
    from reti.errors import ConfigError
    from reti.lab.dropout_job import arm_pattern, dropout_params

    assert arm_pattern("dropout", 0.5) == "DROPOUT(0.2)-(FC@256-RELU-DROPOUT(0.5))*2,SOFTMAX"
    assert arm_pattern("no dropout", 0.5) == "(FC@256-RELU)*2,SOFTMAX"
    assert arm_pattern("dropout", 0.5, "contrast") == "(FC@8-RELU-DROPOUT(0.5))*1,SOFTMAX"
    assert dropout_params({"regime": "contrast"})["limit"] == 1497
    with pytest.raises(ConfigError, match="regime must be one of narrows, contrast"):
        dropout_params({"regime": "wide"})


def test_a_forecast_that_does_not_beat_the_baselines_says_so():
    from reti.lab.runners import look_for

    models = {"tcn (option A)": {"mase": 2.637}, "tcn (option B)": {"mase": 4.28}}
    baselines = {"naive": {"mase": 2.617}, "seasonal naive (m=12)": {"mase": 1.77}}
    assert look_for("forecast", models, baselines) == "lab.look.forecast_not_beaten"
    models["tcn (option B)"]["mase"] = 0.671
    assert look_for("forecast", models, baselines) == "lab.look.forecast"
    assert look_for("anomaly", {}, {}) == "lab.look.anomaly"
