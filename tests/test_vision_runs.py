"""The vision pipeline's run contract on a small digits subset: one seed gives the same run,
a run's config.json re-runs it, ``--resume`` goes on, and the API seeds like the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from reti.cli.main import main
from reti.tasks import vision
from reti.train import TrainConfig

pytestmark = pytest.mark.network
SMALL = ["--data", "digits", "--limit", "256", "--batch-size", "32", "--quiet", "--device", "cpu"]
TIMING = {"seconds", "samples_per_s", "tokens_per_s", "mfu"}  # the only columns that may differ


def weights(run: Path) -> bytes:
    latest = (run / "checkpoints" / "latest").read_text().strip()
    return (run / "checkpoints" / latest / "tensors.safetensors").read_bytes()


def rows(run: Path) -> list[dict[str, str]]:
    with open(run / "metrics.csv", newline="") as fh:
        return [{k: v for k, v in r.items() if k not in TIMING} for r in csv.DictReader(fh)]


def test_same_command_twice_same_weights_and_metrics(tmp_path, capsys):
    for name in ("a", "b"):
        argv = ["vision", "train", *SMALL, "--augment", "crop(1)", "--out", str(tmp_path / name)]
        assert main(argv) == 0
    assert weights(tmp_path / "a") == weights(tmp_path / "b")
    assert rows(tmp_path / "a") == rows(tmp_path / "b") and rows(tmp_path / "a")
    other = ["vision", "train", *SMALL, "--augment", "crop(1)", "--seed", "1"]
    assert main([*other, "--out", str(tmp_path / "c")]) == 0
    assert weights(tmp_path / "c") != weights(tmp_path / "a")  # the seed does matter


def test_config_json_of_a_run_reproduces_it(tmp_path, capsys):
    first, again = tmp_path / "a", tmp_path / "b"
    model = "CONV3@8-RELU-POOL-FC@16-RELU,SOFTMAX"
    argv = ["vision", "train", *SMALL, "--model", model, "--label-smoothing", "0.1"]
    assert main([*argv, "--epochs", "2", "--out", str(first)]) == 0
    # nothing but the config file: the model, data and training come back from it
    assert (
        main(["vision", "train", "--config", str(first / "config.json"), "--out", str(again)]) == 0
    )
    assert weights(first) == weights(again)
    saved = json.loads((again / "config.json").read_text())
    assert saved["model_config"]["vision"]["model"] == model
    assert saved["model_config"]["vision"]["label_smoothing"] == 0.1
    assert saved["train_config"]["epochs"] == 2


def test_resume_goes_on_to_the_same_weights_as_one_run(tmp_path, capsys):
    """A run of 1 epoch resumed to 2 equals one run of 2 under a constant learning rate (the
    default one-cycle schedule is laid out over the epochs asked for, so it would differ)."""
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    small = [*SMALL, "--schedule", "constant"]
    assert main(["vision", "train", *small, "--epochs", "2", "--out", str(whole)]) == 0
    assert main(["vision", "train", *small, "--epochs", "1", "--out", str(parts)]) == 0
    assert main(["vision", "train", *small, "--epochs", "2", "--out", str(parts), "--resume"]) == 0
    assert weights(whole) == weights(parts)
    assert [r["step"] for r in rows(parts)] == [r["step"] for r in rows(whole)]


def test_api_is_seeded_like_the_cli(tmp_path):
    def once(name: str) -> bytes:
        cfg = vision.VisionConfig(
            data="digits", limit=128, out=str(tmp_path / name),
            train=TrainConfig(batch_size=32, quiet=True, device="cpu", seed=3),
        )  # fmt: skip
        history = vision.train(cfg)
        assert history.final["step"] == 4
        return weights(tmp_path / name)

    assert once("a") == once("b")


def test_callbacks_and_control_reach_fit(tmp_path):
    from reti.train import RunControl, TrainStep

    control, kinds = RunControl(), []

    def listen(event) -> None:
        kinds.append(event.kind)
        if isinstance(event, TrainStep) and event.step == 2:
            control.request_stop()  # asked mid-run: the run ends cleanly after this step

    cfg = vision.VisionConfig(
        data="digits", limit=256, out=str(tmp_path / "run"),
        train=TrainConfig(batch_size=32, log_every=1, quiet=True, device="cpu"),
    )  # fmt: skip
    history = vision.train(cfg, callbacks=[listen], control=control)
    assert kinds[0] == "start" and kinds[-1] == "end" and "train" in kinds
    assert history.stopped and max(row["step"] for row in history.steps) == 2


def test_a_failed_train_into_an_existing_run_leaves_it_bit_identical(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["vision", "train", *SMALL, "--limit", "128", "--out", str(run)]) == 0
    before = {p: p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()}
    capsys.readouterr()
    # refused without --overwrite; with it, a run whose loss turns NaN at step 2
    for extra in ([], ["--overwrite", "--lr", "1e30", "--epochs", "3"]):
        assert main(["vision", "train", *SMALL, "--limit", "128", *extra, "--out", str(run)]) == 2
        assert capsys.readouterr().err.startswith("reti: error:")
        assert {p: p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()} == before
    model, mc = vision.load_run(run)
    assert mc["data"] == "digits"
