"""`reti demo`: sections run in order, the report is written after each, the CLI names each
section and prints its headline, section 1 trains both models through the vision pipeline and
writes its table, curves and parameter table (on a tiny image set in MNIST's IDX format), and
``--lang it`` writes the same report in Italian."""

from __future__ import annotations

import struct

import pytest
import torch

from reti.cli.main import main
from reti.demo import (
    Section,
    SectionDone,
    SectionResult,
    SectionStarted,
    foundations,
    report,
    run_demo,
)
from reti.errors import ConfigError


def _write_idx(path, tensor: torch.Tensor) -> None:
    """MNIST's IDX format: magic (0, 0, type 0x08 = uint8, ndim), big-endian sizes, the bytes."""
    header = struct.pack(">BBBB", 0, 0, 8, tensor.dim()) + struct.pack(
        f">{tensor.dim()}I", *tensor.shape
    )
    path.write_bytes(header + tensor.to(torch.uint8).contiguous().numpy().tobytes())


def _tiny_mnist(folder):
    """10 classes of 8x8 images: class k lights row k % 8 (and column k // 8), plus noise."""
    gen = torch.Generator().manual_seed(0)
    folder.mkdir()
    for prefix, n in (("train", 900), ("t10k", 300)):
        y = torch.randint(0, 10, (n,), generator=gen)
        x = torch.rand(n, 8, 8, generator=gen) * 60
        x[torch.arange(n), y % 8, :] += 190
        x[torch.arange(n), :, y // 8] += 100
        _write_idx(folder / f"{prefix}-images-idx3-ubyte", x.clamp(0, 255))
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte", y)
    return f"mnist:{folder}"


@pytest.fixture
def tiny(monkeypatch, tmp_path):
    """Section 1 alone (the other sections are tested with their pipelines), on tiny data."""
    monkeypatch.setattr(foundations, "FOUNDATIONS_DATA", _tiny_mnist(tmp_path / "tiny"))
    monkeypatch.setattr(report, "SECTIONS", [Section("demo.s1.title", foundations.run)])


def _accuracies(text: str, names=("linear", "2-layer")) -> list[float]:
    rows = [line for line in text.splitlines() if line.startswith(tuple(f"| {n} " for n in names))]
    return [float(row.split("|")[5].strip().rstrip("%")) for row in rows]


def test_quick_demo_writes_report_and_curves_and_says_what_it_runs(tiny, tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--out", str(out), "--lang", "en", "--device", "cpu"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "[1/1] 1. Linear score and 2-layer net on MNIST ..."
    assert printed[1].startswith("[1/1] 2-layer net: test accuracy ")
    assert printed[-1].startswith("report: ")
    text = (out / "report.md").read_text()
    assert text.startswith("# reti demo\n\nThe course notes, trained and measured (quick mode")
    assert "## 1. Linear score and 2-layer net on MNIST" in text
    assert "Data: `mnist`, 900 training / 300 test images of 8x8 pixels, 10 classes" in text
    assert "| linear | `f = Wx` | 650 | 5 |" in text  # 64 * 10 + 10 parameters
    assert "| 2-layer | `f = W2 max(0, W1 x)` | 4,810 | 5 |" in text  # 64*64+64 + 64*10+10
    assert "10^12" in text and "10^8" in text and "10^4" in text
    assert "_Section time: " in text
    png = out / "foundations_curves.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "foundations" / "2-layer" / "metrics.csv").exists()
    # the tiny set is easy: both models learn far above the 10% of chance
    accuracies = _accuracies(text)
    assert len(accuracies) == 2 and min(accuracies) > 60
    # the printed headline is the table's figure
    assert f"test accuracy {accuracies[1]:.2f}%" in printed[1]


def test_lang_it_writes_the_report_in_italian(tiny, tmp_path, capsys):
    out = tmp_path / "demo-it"
    assert main(["demo", "--quick", "--out", str(out), "--lang", "it"]) == 0
    printed = capsys.readouterr().out
    assert "[1/1] 1. Funzione score lineare e rete a 2 layer su MNIST ..." in printed
    assert "rete a 2 layer: accuratezza di test" in printed
    text = (out / "report.md").read_text()
    assert text.startswith("# demo di reti\n\nGli appunti del corso, addestrati e misurati")
    assert "## 1. Funzione score lineare e rete a 2 layer su MNIST" in text
    assert "| modello | formula | parametri | epoche | accuratezza di test |" in text
    assert "Obiettivo per la rete a 2 layer: accuratezza di test >= 97.5%" in text
    assert "_Tempo della sezione: " in text and "Section time" not in text
    assert "![curve di apprendimento](foundations_curves.png)" in text
    assert len(_accuracies(text)) == 2  # the same table rows, numbers and all


def test_lang_comes_from_reti_lang_and_a_bad_one_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RETI_LANG", "it")
    seen = []
    sections = [Section("demo.s3.title", lambda ctx: SectionResult(ctx.t("demo.s3.yes"), "h"))]
    path = run_demo(tmp_path / "a", quick=True, sections=sections, on_event=seen.append)
    text = path.read_text()
    assert "## 3. Previsione di una serie reale con una TCN causale\n\nsì" in text
    assert [type(e) for e in seen] == [SectionStarted, SectionDone] and seen[1].headline == "h"
    assert main(["demo", "--lang", "fr", "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["reti: error: lang must be one of en, it, got 'fr'"]
    with pytest.raises(ConfigError, match="lang must be one of en, it"):
        run_demo(tmp_path / "c", sections=sections, lang="fr")
    assert not (tmp_path / "c").exists()  # refused before any folder is made


def test_sections_run_in_order_and_the_report_is_written_after_each(tmp_path):
    seen = []

    def first(ctx):
        seen.append(("first", ctx.quick, ctx.device))
        return SectionResult("first body", "one")

    def broken(ctx):
        assert "first body" in (ctx.out / "report.md").read_text()  # already on disk
        raise ConfigError("second section failed")

    events = []
    with pytest.raises(ConfigError, match="second section failed"):
        run_demo(tmp_path, quick=True, lang="en", device="cpu", on_event=events.append,
                 sections=[Section("One", first), Section("Two", broken)])  # fmt: skip
    text = (tmp_path / "report.md").read_text()
    assert "## One\n\nfirst body" in text and "## Two" not in text
    assert seen == [("first", True, "cpu")]
    assert [(type(e).__name__, e.index, e.title) for e in events] == [
        ("SectionStarted", 1, "One"), ("SectionDone", 1, "One"), ("SectionStarted", 2, "Two"),
    ]  # fmt: skip


def test_out_that_is_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "file.txt"
    target.write_text("not a folder")
    assert main(["demo", "--quick", "--out", str(target)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--out must be a folder" in err[0]
    assert target.read_text() == "not a folder"


def test_a_device_this_machine_lacks_is_one_error(tmp_path, capsys):
    assert main(["demo", "--quick", "--out", str(tmp_path / "d"), "--device", "tpu"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("reti: error:") and "tpu" in err[0]


def test_plain_reti_demo_runs_the_full_budget_into_runs_demo(monkeypatch, capsys):
    # `reti demo` (what `make demo` runs): no flags means the full budget, runs/demo, the
    # language from the environment and device auto. The training itself is stubbed here.
    calls = []

    def fake(out, quick, *, lang, device, on_event):
        calls.append((out, quick, lang, device))
        return "report.md"

    monkeypatch.setattr("reti.cli.demo.run_demo", fake)
    assert main(["demo"]) == 0
    assert calls == [("runs/demo", False, None, "auto")]


@pytest.mark.network
def test_quick_demo_on_the_real_digits_set(monkeypatch, tmp_path):
    # the real loader and fetcher, on the smallest built-in image set (1797 8x8 digits)
    from reti.demo.base import Context

    monkeypatch.setattr(foundations, "FOUNDATIONS_DATA", "digits")
    body = foundations.run(Context(tmp_path, quick=True, device="cpu")).body
    assert "Data: `digits`" in body and "8x8 pixels, 10 classes" in body
    assert _accuracies(body, ("2-layer",))[0] > 80
