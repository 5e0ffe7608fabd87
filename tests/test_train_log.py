"""Run files (CSV, JSONL, config, curves), the progress bar's quiet rules, the MFU arithmetic."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import warnings

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


def test_curves_are_drawn_against_steps_from_step_rows_and_epoch_rows():
    from reti.train import History

    steps = [{"step": s, "epoch": 1, "train_loss": 1.0 / s} for s in (10, 20, 30, 40)]
    steps += [{"step": 40, "epoch": 1, "val_loss": 0.5, "val_acc": 0.8}]
    epochs = [{"epoch": 1, "step": 40, "train_loss": 0.4, "val_loss": 0.5, "val_acc": 0.8}]
    fig = log.curves_figure(History(rows=epochs, steps=steps))
    loss, acc = fig.axes
    assert loss.get_xlabel() == "optimizer step" and loss.get_ylabel() == "loss"
    train, val = loss.lines
    assert list(train.get_xdata()) == [10, 20, 30, 40] and train.get_label() == "train"
    assert list(val.get_xdata()) == [40] and list(val.get_ydata()) == [0.5]
    assert acc.get_ylabel() == "acc" and list(acc.lines[0].get_ydata()) == [0.8]
    # no step-level train rows: the epoch rows give the train curve, still against steps
    only_eval = log.curves_figure(History(rows=epochs, steps=steps[-1:]))
    assert list(only_eval.axes[0].lines[0].get_xdata()) == [40]
    assert type(fig.canvas).__module__.startswith("matplotlib.backend_bases")  # no pyplot


class Terminal(io.StringIO):
    tty = True

    def isatty(self):
        return self.tty


def test_progress_bar_on_a_terminal_plain_lines_elsewhere_nothing_when_quiet():
    terminal = Terminal()
    bar = log.progress(3, "epoch 1", quiet=False, stream=terminal)
    assert type(bar).__module__.startswith("tqdm") and not bar.disable
    bar.close()
    assert log.progress(3, "epoch 1", quiet=True, stream=terminal).disable
    assert log.progress(3, "epoch 1", quiet=False, position_rank=1, stream=terminal).disable
    pipe = Terminal()
    pipe.tty = False  # a pipe or a file: lines every `every` steps and at the end, no \r
    lines = log.progress(7, "run", stream=pipe, every=3)
    assert isinstance(lines, log.LineProgress)
    for step in range(7):
        lines.set_postfix(loss=1.0 / (step + 1))
        lines.update(1)
    lines.close()
    assert pipe.getvalue() == (
        "run: step 3/7 loss 0.3333\nrun: step 6/7 loss 0.1667\nrun: step 7/7 loss 0.1429\n"
    )
    quiet = Terminal()
    quiet.tty = False
    silent = log.progress(7, "run", quiet=True, stream=quiet, every=1)
    silent.update(7)
    silent.close()
    assert quiet.getvalue() == ""


def test_progress_printer_listens_to_a_run():
    import torch.nn.functional as F

    from reti.train import TrainConfig, fit

    pipe = Terminal()
    pipe.tty = False
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(40, 3, generator=g), torch.randint(0, 2, (40,), generator=g)
    cfg = TrainConfig(epochs=2, batch_size=10, log_every=2, device="cpu", quiet=True)
    printer = log.ProgressPrinter("toy", stream=pipe, every=4)
    fit(torch.nn.Linear(3, 2), (X, y), cfg, loss_fn=F.cross_entropy, callbacks=[printer])
    lines = pipe.getvalue().splitlines()
    assert [line.split(" loss")[0] for line in lines] == [
        "toy: step 4/8 epoch 1",
        "toy: step 8/8 epoch 2",
    ]
    assert "\r" not in pipe.getvalue()


def test_importing_reti_train_loads_neither_notebook_tqdm_nor_matplotlib():
    # (torch itself imports tqdm.std; tqdm.auto would warn outside a notebook without widgets)
    names = "'tqdm.auto', 'tqdm.autonotebook', 'tqdm.notebook', 'matplotlib'"
    code = f"import sys, reti.train; print(any(m in ({names}) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_mfu_is_training_flops_over_the_best_peak_this_machine_has_measured(monkeypatch, tmp_path):
    monkeypatch.setenv("RETI_DATA", str(tmp_path))
    monkeypatch.setattr(flops, "_PEAK", {})
    device = torch.device("cpu")
    peak = flops.measured_peak(device, size=128, repeats=3)
    assert peak > 1e6 and flops.measured_peak(device) == peak  # measured once per process
    saved = json.loads((tmp_path / "peak_flops.json").read_text())
    assert saved == {flops.peak_key(device): peak}
    # a later process measuring in a busy moment keeps the cached best; a faster one raises it
    monkeypatch.setattr(flops, "_PEAK", {})
    monkeypatch.setattr(flops, "time_matmul", lambda *a: peak / 10)
    assert flops.measured_peak(device) == peak
    monkeypatch.setattr(flops, "_PEAK", {})
    monkeypatch.setattr(flops, "time_matmul", lambda *a: peak * 2)
    assert flops.measured_peak(device) == peak * 2
    assert json.loads((tmp_path / "peak_flops.json").read_text()) == {
        flops.peak_key(device): peak * 2
    }
    monkeypatch.setitem(flops._PEAK, flops.peak_key(device), 1e9)
    assert flops.mfu(3e6, 100.0, device) == pytest.approx(3e6 * 100 / 1e9)
    assert flops.mfu(0.0, 0.0, device) == 0.0


def test_an_mfu_above_one_is_dropped_with_a_warning(monkeypatch, tmp_path):
    monkeypatch.setenv("RETI_DATA", str(tmp_path))
    device = torch.device("cpu")
    monkeypatch.setattr(flops, "_PEAK", {flops.peak_key(device): 1e3})  # a tiny, "busy" peak
    monkeypatch.setattr(flops, "_WARNED", set())
    with pytest.warns(RuntimeWarning, match=r"MFU would be 3.00 .* MFU left out"):
        assert flops.mfu(3e3, 1.0, device) is None
    monkeypatch.setattr(flops, "_WARNED", set())

    import torch.nn.functional as F

    from reti.train import TrainConfig, fit

    class Declared(torch.nn.Linear):
        def flops_per_sample(self):
            return 2 * self.in_features * self.out_features

    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(40, 3, generator=g), torch.randint(0, 2, (40,), generator=g)
    cfg = TrainConfig(batch_size=10, log_every=2, device="cpu", quiet=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        h = fit(Declared(3, 2), (X, y), cfg, loss_fn=F.cross_entropy)
    left_out = [w for w in caught if "MFU left out" in str(w.message)]
    assert len(left_out) == 1  # one line, not one per row
    assert all("mfu" not in row for row in h.rows + h.steps)
    assert h.rows[0]["samples_per_s"] > 0
