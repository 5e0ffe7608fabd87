"""`reti augment show` and `reti augment list`, in-process through main([...])."""

from __future__ import annotations

import pytest
import torch

import reti.data.images as images_module
from reti.cli.main import main
from reti.data.images import ImageData

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def tiny_mnist(monkeypatch):
    """load_images("mnist") -> 12 synthetic 1x12x12 uint8 digits, so no network is needed."""
    asked = []

    def fake(spec: str, size=None) -> ImageData:
        asked.append(spec)
        g = torch.Generator().manual_seed(0)
        x = torch.randint(0, 256, (12, 1, 12, 12), dtype=torch.uint8, generator=g)
        y = torch.arange(12) % 10
        return ImageData(x, y, x.clone(), y.clone(), [str(d) for d in range(10)], spec)

    monkeypatch.setattr(images_module, "load_images", fake)
    return asked


def test_show_writes_a_png_grid(tiny_mnist, tmp_path, capsys):
    spec = "rotate(15),translate(0.1),erase(p=0.5),cutmix(1.0)"
    code = main(["augment", "show", "--data", "mnist", "--spec", spec, "--out", str(tmp_path)])
    assert code == 0 and tiny_mnist == ["mnist"]
    assert (tmp_path / "augment.png").read_bytes().startswith(PNG)  # --out is a folder
    text = capsys.readouterr().out
    assert "wrote" in text and "rotate(15),translate(0.1),erase,cutmix(1)" in text


def test_docs_example_command(tiny_mnist, tmp_path):
    argv = ["augment", "show", "--data", "mnist", "--spec", "hflip,crop(4),jitter(0.4,0.4,0.4,0.1)"]
    assert main([*argv, "--out", str(tmp_path / "grid"), "--n", "8", "--seed", "0"]) == 0
    assert (tmp_path / "grid" / "augment.png").read_bytes().startswith(PNG)


def test_list_names_every_op(capsys):
    assert main(["augment", "list"]) == 0
    text = capsys.readouterr().out
    for name in ("hflip", "jitter", "elastic", "erase", "cutmix", "oneof", "apply"):
        assert f"\n{name}(" in f"\n{text}"


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--spec", "rotat(15)"], "did you mean 'rotate'"),
        (["--spec", "hflip(p=-1)"], "probability"),
        (["--spec", "hflip", "--n", "0"], "--n must be >= 1"),
        (["--spec", "hflip", "--copies", "-2"], "--copies must be >= 1"),
        (["--spec", "ccrop(40)"], "larger than the padded image"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tiny_mnist, tmp_path, capsys, extra, words):
    out = tmp_path / "grid"
    assert main(["augment", "show", "--data", "mnist", "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reti: error:") and words in err.splitlines()[0]
    assert not (out / "augment.png").exists()


def test_missing_folder_is_a_reti_error(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    argv = ["augment", "show", "--data", f"folder:{missing}", "--spec", "hflip"]
    assert main([*argv, "--out", str(tmp_path / "g.png")]) == 2
    assert "reti: error:" in capsys.readouterr().err


@pytest.mark.network
def test_show_on_the_real_photos(tmp_path):
    spec = "jitter(0.4,0.4,0.4,0.1),hflip"
    assert (
        main(["augment", "show", "--data", "photos", "--spec", spec, "--out", str(tmp_path)]) == 0
    )
    assert (tmp_path / "augment.png").read_bytes().startswith(PNG)


def test_speed_bench_runs_quick(capsys):
    """`python bench/augment_speed.py --quick`, on tiny batches (the numbers are not checked)."""
    pytest.importorskip("kornia")
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "bench" / "augment_speed.py"
    spec = importlib.util.spec_from_file_location("augment_speed", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    threads = torch.get_num_threads()
    try:
        summary = bench.main(["--quick", "--batch", "8"])
    finally:
        torch.set_num_threads(threads)
    assert summary["bench"] == "augment_speed" and summary["reti"] > 0 and summary["peer"] > 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith('{"bench": "augment_speed"')
