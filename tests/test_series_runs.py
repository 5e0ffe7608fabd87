"""The series pipeline's run contract on a short series: one seed gives the same run (CLI and
API), a run's config.json re-runs it, ``--resume`` goes on, and a refused or failed run into
an existing folder leaves it as it was."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from reti.cli.main import main
from reti.tasks import series
from reti.train import TrainConfig

pytestmark = pytest.mark.usefixtures("one_thread")
TIMING = {"seconds", "samples_per_s", "tokens_per_s", "mfu"}


@pytest.fixture
def sine(tmp_path) -> str:
    rows = "".join(f"{i},{5 + math.sin(i / 3) + 0.01 * i:.4f}\n" for i in range(160))
    path = tmp_path / "s.csv"
    path.write_text("t,load\n" + rows, encoding="utf-8")
    return f"csv:{path}"


def small(data: str, *extra: str) -> list[str]:
    flags = ["--data", data, "--time-column", "t", "--window", "24", "--horizon", "4"]
    return [
        *flags,
        "--channels",
        "8",
        "--levels",
        "2",
        "--dropout",
        "0.1",
        "--batch-size",
        "16",
        "--quiet",
        "--device",
        "cpu",
    ]


def weights(run: Path) -> bytes:
    latest = (run / "checkpoints" / "latest").read_text().strip()
    return (run / "checkpoints" / latest / "tensors.safetensors").read_bytes()


def rows(run: Path) -> list[dict[str, str]]:
    with open(run / "metrics.csv", newline="") as fh:
        return [{k: v for k, v in r.items() if k not in TIMING} for r in csv.DictReader(fh)]


def test_same_command_twice_same_run_and_config_replays_it(sine, tmp_path, capsys):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for out in (a, b):
        assert main(["series", "train", *small(sine), "--epochs", "2", "--out", str(out)]) == 0
    assert weights(a) == weights(b) and rows(a) == rows(b)
    assert json.loads((a / "results.json").read_text()) == json.loads(
        (b / "results.json").read_text()
    )
    assert main(["series", "train", "--config", str(a / "config.json"), "--out", str(c)]) == 0
    assert weights(a) == weights(c)
    saved = json.loads((c / "config.json").read_text())["model_config"]["series"]
    assert (saved["window"], saved["horizon"], saved["dropout"]) == (24, 4, 0.1)


def test_filter_noise_and_weights_follow_the_seed(sine, tmp_path, capsys):
    def once(seed: int, name: str) -> tuple[bytes, dict]:
        cfg = series.SeriesConfig(
            task="filter", data=sine, time_column="t", window=16, out=str(tmp_path / name),
            train=TrainConfig(epochs=1, batch_size=16, quiet=True, device="cpu", seed=seed),
        )  # fmt: skip
        result = series.run(cfg)
        return weights(tmp_path / name), result.baselines

    first, again, other = once(0, "a"), once(0, "b"), once(1, "c")
    assert first == again
    assert first[0] != other[0] and first[1] != other[1]  # the noise is drawn from the seed


def test_resume_goes_on_to_the_weights_of_one_run(sine, tmp_path, capsys):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    assert main(["series", "train", *small(sine), "--epochs", "3", "--out", str(whole)]) == 0
    assert main(["series", "train", *small(sine), "--epochs", "1", "--out", str(parts)]) == 0
    argv = ["series", "train", *small(sine), "--epochs", "3", "--out", str(parts), "--resume"]
    assert main(argv) == 0
    assert weights(whole) == weights(parts)
    assert [r["step"] for r in rows(parts)] == [r["step"] for r in rows(whole)]


def test_an_existing_run_is_refused_or_kept_on_failure(sine, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["series", "train", *small(sine), "--out", str(run)]) == 0
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    assert main(["series", "train", *small(sine), "--out", str(run)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    # a failure after training has started (a window longer than the training part)
    assert main(["series", "train", *small(sine), "--window", "150", "--overwrite",
                 "--out", str(run)]) == 2  # fmt: skip
    after = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    assert after == before
    assert series.forecast_from_run(run, 3)["forecast"].shape == (3, 1)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("window", "abc", "field 'window' must be an integer >= 1, got \"abc\""),
        ("channels", None, "field 'channels' must be an integer"),
        ("season", 0, "field 'season' must be an integer >= 1 or null, got 0"),
    ],
)
def test_a_mistyped_meta_field_is_one_line(sine, tmp_path, capsys, field, value, message):
    run = tmp_path / "run"
    assert main(["series", "train", *small(sine), "--out", str(run)]) == 0
    meta = sorted((run / "checkpoints").glob("step-*"))[-1] / "meta.json"
    doc = json.loads(meta.read_text())
    doc["model_config"][field] = value
    meta.write_text(json.dumps(doc))
    capsys.readouterr()
    assert main(["series", "forecast", "--checkpoint", str(run), "--steps", "3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reti: error: ") and message in err and "Traceback" not in err
