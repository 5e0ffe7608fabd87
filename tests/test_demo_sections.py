"""Sections 2-4 of `reti demo` (reti/demo/vision.py, series.py, text.py) on their quick budget:
each writes its markdown, pictures and headline, in English and (section 2) in Italian."""

from __future__ import annotations

import pytest
import torch

from reti.data.images import ImageData
from reti.demo import series, text, vision
from reti.demo.base import Context


def _fake_mnist() -> ImageData:
    """48 28x28 images of 4 classes: class k is a bright square in quadrant k (MNIST itself is
    too slow to train here)."""
    gen = torch.Generator().manual_seed(0)
    y = torch.arange(48) % 4
    x = torch.rand(48, 1, 28, 28, generator=gen) * 40
    for i, k in enumerate(y.tolist()):
        r, c = divmod(k, 2)
        x[i, 0, 14 * r : 14 * r + 14, 14 * c : 14 * c + 14] += 200
    x = x.clamp(0, 255).to(torch.uint8)
    return ImageData(x, y, x[:16], y[:16], [str(i) for i in range(4)], "mnist")


@pytest.mark.parametrize("lang", ["en", "it"])
def test_vision_section_writes_accuracy_and_three_pictures(monkeypatch, tmp_path, lang):
    fake = _fake_mnist()
    monkeypatch.setattr("reti.tasks.vision.load_images", lambda spec: fake)
    monkeypatch.setattr(vision, "load_images", lambda spec: fake)
    result = vision.run(Context(tmp_path, quick=True, lang=lang, device="cpu"))
    assert not result.body.startswith("#")  # the demo writes the section's heading itself
    assert vision.PATTERN in result.body
    word = "test accuracy" if lang == "en" else "accuratezza di test"
    assert f"**{word} " in result.body and result.headline.startswith(f"CNN: {word} ")
    for name in ("filters", "feature_maps", "confusion"):
        assert f"(vision/{name}.png)" in result.body
        assert (tmp_path / "vision" / f"{name}.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.network
def test_series_section_draws_a_forecast_beating_seasonal_naive(tmp_path):
    result = series.run(Context(tmp_path, quick=True, device="cpu"))
    assert "| forecaster | MASE | sMAPE % |" in result.body
    assert (tmp_path / "series-forecast.png").stat().st_size > 1000
    rows = {line.split("|")[1].strip(): float(line.split("|")[2]) for line in
            result.body.splitlines() if line.startswith("| ") and "MASE" not in line}  # fmt: skip
    assert rows["tcn (direct head)"] < rows["seasonal naive (m=12)"]
    assert result.headline == (
        f"TCN MASE {rows['tcn (direct head)']:.3f} "
        f"(seasonal naive {rows['seasonal naive (m=12)']:.3f})"
    )


@pytest.mark.network
def test_text_section_samples_at_three_temperatures(tmp_path):
    result = text.run(Context(tmp_path, quick=True, device="cpu"))
    assert result.body.startswith("A character-level GPT on Shakespeare")
    assert result.body.count("Temperature") == 3
    assert result.headline.startswith("GPT: validation loss ")
    assert (tmp_path / "text-run" / "tokenizer.json").is_file()
