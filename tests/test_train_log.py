"""Run files (CSV, JSONL, config, curves), the progress bar's quiet rules, the MFU arithmetic."""

from __future__ import annotations

import csv
import json
import math

import pytest
import torch

from reti.train import flops, log


def test_rows_round_trip_as_csv_and_jsonl(tmp_path):
    rows = [
        {"epoch": 1, "step": 10, "train_loss": 2.5, "val_acc": 0.5},
        {"epoch": 2, "step": 20, "train_loss": float("nan"), "val_acc": 0.75, "mfu": 0.1},
    ]
    log.write_rows(tmp_path, rows)
    back = log.read_rows(tmp_path)
    assert back[0] == rows[0]
    assert back[1]["train_loss"] is None and back[1]["mfu"] == 0.1  # JSON has no NaN
    with open(tmp_path / "metrics.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert list(table[0]) == ["epoch", "step", "train_loss", "val_acc", "mfu"]
    assert table[0]["mfu"] == "" and float(table[1]["val_acc"]) == 0.75
    log.write_rows(tmp_path, rows[:1])  # rewritten whole: never a stale or duplicated line
    assert len(log.read_rows(tmp_path)) == 1
    assert log.read_rows(tmp_path / "elsewhere") == []


def test_config_and_curves(tmp_path):
    log.write_config(tmp_path, {"train_config": {"lr": 0.1}, "model_config": None})
    assert json.loads((tmp_path / "config.json").read_text())["train_config"] == {"lr": 0.1}
    rows = [{"epoch": e, "train_loss": 1 / e, "val_loss": 2 / e, "val_acc": e / 4} for e in (1, 2)]
    path = log.save_curves(tmp_path, rows)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert log.save_curves(tmp_path / "none", []) is None


def test_progress_is_silent_when_quiet_off_rank_zero_or_without_a_tty(monkeypatch):
    class Tty:
        tty = True

        def isatty(self):
            return self.tty

        def write(self, text):
            return len(text)

        def flush(self):
            pass

    terminal = Tty()
    monkeypatch.setattr("sys.stderr", terminal)
    assert not log.progress(3, "epoch 1", quiet=False).disable
    assert log.progress(3, "epoch 1", quiet=True).disable
    assert log.progress(3, "epoch 1", quiet=False, position_rank=1).disable
    terminal.tty = False  # a pipe or a file: no bar
    assert log.progress(3, "epoch 1", quiet=False).disable


def test_mfu_is_three_forward_passes_over_the_measured_peak(monkeypatch):
    device = torch.device("cpu")
    peak = flops.measured_peak(device, size=256, repeats=2)
    assert peak > 1e6 and flops.measured_peak(device) == peak  # measured once, then cached
    monkeypatch.setitem(flops._PEAK, "cpu", 1e9)
    assert flops.mfu(1e6, 100.0, device) == pytest.approx(3 * 1e6 * 100 / 1e9)
    assert math.isfinite(flops.mfu(0.0, 0.0, device))
