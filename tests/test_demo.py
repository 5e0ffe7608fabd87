"""`reti demo`: sections run in order, the report is written after each, section 1 trains both
models and writes its table, curves and parameter table (on a tiny synthetic image set)."""

from __future__ import annotations

import pytest
import torch

from reti import demo
from reti.cli.main import main
from reti.data.images import ImageData
from reti.errors import ConfigError


def _tiny_images(name: str) -> ImageData:
    """10 classes of 8x8 images: class k lights row k % 8 (and column k // 8), plus noise."""
    gen = torch.Generator().manual_seed(0)

    def make(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        y = torch.randint(0, 10, (n,), generator=gen)
        x = torch.rand(n, 1, 8, 8, generator=gen) * 60
        x[torch.arange(n), 0, y % 8, :] += 190
        x[torch.arange(n), 0, :, y // 8] += 100
        return x.clamp(0, 255).to(torch.uint8), y

    (train_x, train_y), (test_x, test_y) = make(900), make(300)
    return ImageData(train_x, train_y, test_x, test_y, [str(k) for k in range(10)], "tiny")


@pytest.fixture
def tiny(monkeypatch):
    """Section 1 alone (other pipelines' sections are tested with their pipelines), tiny data."""
    monkeypatch.setattr(demo, "load_images", _tiny_images)
    only_first = [s for s in demo.SECTIONS if s[1] is demo.foundations_section]
    monkeypatch.setattr(demo, "SECTIONS", only_first)


def test_quick_demo_writes_report_and_curves(tiny, tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--out", str(out)]) == 0
    assert "report:" in capsys.readouterr().out
    report = (out / "report.md").read_text()
    assert report.startswith("# reti demo")
    assert "## 1. Linear score and 2-layer net on MNIST" in report
    assert "| linear | `f = Wx` | 650 |" in report  # 64 * 10 + 10
    assert "| 2-layer | `f = W2 max(0, W1 x)` |" in report
    assert "10^12" in report and "10^8" in report and "10^4" in report
    png = out / "foundations_curves.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "foundations" / "2-layer" / "metrics.csv").exists()
    # the tiny set is easy: both models learn far above the 10% of chance
    rows = [line for line in report.splitlines() if line.startswith("| linear")]
    rows += [line for line in report.splitlines() if line.startswith("| 2-layer")]
    accuracies = [float(row.split("|")[5].strip().rstrip("%")) for row in rows]
    assert min(accuracies) > 60


def test_sections_run_in_order_and_the_report_is_written_after_each(tmp_path):
    seen = []

    def first(out_dir, quick):
        seen.append(("first", quick))
        return "first body"

    def broken(out_dir, quick):
        assert "first body" in (out_dir / "report.md").read_text()  # already on disk
        raise ConfigError("second section failed")

    with pytest.raises(ConfigError, match="second section failed"):
        demo.run_demo(tmp_path, quick=True, sections=[("One", first), ("Two", broken)])
    report = (tmp_path / "report.md").read_text()
    assert "## One\n\nfirst body" in report and "## Two" not in report
    assert seen == [("first", True)]


def test_out_that_is_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "file.txt"
    target.write_text("not a folder")
    assert main(["demo", "--quick", "--out", str(target)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--out must be a folder" in err[0]
    assert target.read_text() == "not a folder"


def test_plain_reti_demo_runs_the_full_budget_into_runs_demo(monkeypatch, capsys):
    # `reti demo` (what `make demo` runs): no flags means the full budget and runs/demo.
    # The training itself is stubbed here; the quick test above trains for real.
    calls = []
    monkeypatch.setattr(
        "reti.cli.demo.run_demo", lambda out, quick: calls.append((out, quick)) or "report.md"
    )
    assert main(["demo"]) == 0
    assert calls == [("runs/demo", False)]


@pytest.mark.network
def test_quick_demo_on_the_real_digits_set(monkeypatch, tmp_path):
    # the real loader and fetcher, on the smallest built-in image set (1797 8x8 digits)
    monkeypatch.setattr(demo, "FOUNDATIONS_DATA", "digits")
    body = demo.foundations_section(tmp_path, quick=True)
    assert "Data: `digits`" in body and "8x8 pixels, 10 classes" in body
    row = next(line for line in body.splitlines() if line.startswith("| 2-layer"))
    assert float(row.split("|")[5].strip().rstrip("%")) > 80
