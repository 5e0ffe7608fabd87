"""fit's events and step rows: what listeners hear, in which order, what a stop request does,
and that step rows survive a crash and a resume exactly."""

from __future__ import annotations

import csv
import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from reti.errors import ConfigError
from reti.train import (
    CheckpointSaved,
    EpochEnd,
    Evaluation,
    RunControl,
    RunEnd,
    RunStart,
    TrainConfig,
    TrainStep,
    fit,
    latest_checkpoint,
)

TIMING = {"samples_per_s", "tokens_per_s", "seconds", "mfu"}


def data(n=96, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 6, generator=g)
    return X, (X @ torch.randn(6, 3, generator=g)).argmax(-1)


def net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.Dropout(0.3), nn.ReLU(), nn.Linear(16, 3))


def noisy(x, y, generator):
    return x + 0.05 * torch.randn(x.shape, generator=generator), y


def cfg(**kw):
    base = {"device": "cpu", "quiet": True, "batch_size": 16, "lr": 1e-2, "schedule": "cosine"}
    return TrainConfig(**{**base, "epochs": 2, "ema_decay": 0.9, **kw})


def run(run_dir=None, callbacks=(), control=None, resume=False, transform=noisy, **kw):
    return fit(
        net(),
        data(),
        cfg(**kw),
        loss_fn=F.cross_entropy,
        val=data(32, 1),
        metrics={"acc": lambda out, y: (out.argmax(-1) == y).float()},
        batch_transform=transform,
        run_dir=run_dir,
        resume=resume,
        model_config={"hidden": 16},
        callbacks=callbacks,
        control=control,
    )


def untimed(rows):
    return [{k: v for k, v in r.items() if k not in TIMING} for r in rows]


def test_listeners_hear_every_row_evaluation_checkpoint_in_order(tmp_path):
    heard = []
    h = run(tmp_path, [heard.append], log_every=2, eval_every=4)  # 6 steps per epoch, 12 in all
    assert isinstance(heard[0], RunStart) and isinstance(heard[-1], RunEnd)
    assert heard[0].step == 0 and heard[0].total_steps == 12 and heard[0].run_dir == tmp_path
    assert heard[0].config["train_config"]["log_every"] == 2
    kinds = [(e.kind, e.step) for e in heard[1:-1]]
    expected = []
    for step in range(1, 13):
        if step % 2 == 0:
            expected.append(("train", step))
        if step % 4 == 0 or step % 6 == 0:  # every 4 steps, and at each epoch's end
            expected.append(("eval", step))
        if step % 6 == 0:
            expected += [("epoch", step), ("checkpoint", step)]
    assert kinds == expected
    assert [e.epoch for e in heard if isinstance(e, TrainStep)] == [1, 1, 1, 2, 2, 2]
    assert [e.row for e in heard if isinstance(e, EpochEnd)] == h.rows
    assert all(e.path.is_dir() for e in heard if isinstance(e, CheckpointSaved))
    assert heard[-1].final == h.final and not heard[-1].stopped and not h.stopped
    # History.steps: every train and evaluation row, in the order they were heard
    rows = [e.row for e in heard if isinstance(e, TrainStep | Evaluation)]
    assert h.steps == rows
    lines = (tmp_path / "steps.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == rows
    with open(tmp_path / "steps.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert [int(r["step"]) for r in table] == [r["step"] for r in rows]
    assert float(table[0]["train_loss"]) == rows[0]["train_loss"] and table[0]["val_loss"] == ""
    # the epoch's train loss is the sample-weighted mean of its train rows (equal batches here)
    for epoch in (1, 2):
        means = [r["train_loss"] for r in rows if "train_loss" in r and r["epoch"] == epoch]
        assert sum(means) / 3 == pytest.approx(h.rows[epoch - 1]["train_loss"], rel=1e-12)
    # the epoch's evaluation is the same pass as the epoch row's validation columns
    assert rows[-1]["val_loss"] == h.final["val_loss"] and rows[-1]["val_acc"] == h.final["val_acc"]


def test_stop_request_ends_after_the_step_with_an_evaluation_and_a_checkpoint(tmp_path):
    whole = run(tmp_path / "whole", log_every=2)
    control = RunControl()
    heard = []

    def stop_at_step_3(event):
        heard.append(event)
        if isinstance(event, TrainStep) and event.step == 3:
            control.request_stop()

    stopped = tmp_path / "stopped"
    h = run(stopped, [stop_at_step_3], control, log_every=1)
    assert h.stopped and not h.stopped_early and h.rows == [] and h.final is None
    assert [(e.kind, e.step) for e in heard[-3:]] == [("eval", 3), ("checkpoint", 3), ("end", 3)]
    assert heard[-1].stopped and latest_checkpoint(stopped).name == "step-0000003"
    # resumed, it ends exactly where the uninterrupted run ends
    resumed = run(stopped, resume=True, log_every=1)
    for (name, a), b in zip(whole.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name
    assert untimed(resumed.rows) == untimed(whole.rows)
    trains = [r for r in resumed.steps if "train_loss" in r]
    assert [r["step"] for r in trains] == list(range(1, 13))


def test_a_stop_asked_before_the_run_starts_takes_one_step():
    control = RunControl()
    control.request_stop()
    h = run(control=control)
    assert h.stopped and [r["step"] for r in h.steps] == [1]  # the evaluation at the stop


def test_step_rows_survive_a_crash_and_resume_across_row_boundaries(tmp_path):
    """Rows every 4 steps, checkpoints every 3: a crash at step 7 (checkpoint 6, half a row's
    losses summed) resumed gives the same rows as a run never stopped."""
    whole = run(tmp_path / "whole", log_every=4, eval_every=5, checkpoint_every=3)
    calls = []

    def crash_at_7(x, y, generator):
        calls.append(1)
        if len(calls) == 7:
            raise KeyboardInterrupt
        return noisy(x, y, generator)

    crashed = tmp_path / "crashed"
    with pytest.raises(KeyboardInterrupt):
        run(crashed, transform=crash_at_7, log_every=4, eval_every=5, checkpoint_every=3)
    with open(crashed / "steps.jsonl", "a") as fh:
        fh.write('{"step": 9, "train_lo')  # a killed process's half line
    resumed = run(crashed, resume=True, log_every=4, eval_every=5, checkpoint_every=3)
    assert untimed(resumed.steps) == untimed(whole.steps)
    assert untimed(resumed.rows) == untimed(whole.rows)
    lines = (crashed / "steps.jsonl").read_text().splitlines()
    assert untimed([json.loads(line) for line in lines]) == untimed(whole.steps)


def test_eval_every_without_validation_data_and_odd_listeners_are_refused():
    with pytest.raises(ConfigError, match="eval_every=5 needs val data"):
        fit(net(), data(), cfg(eval_every=5), loss_fn=F.cross_entropy)
    with pytest.raises(ConfigError, match="callbacks must be a list of callables"):
        fit(net(), data(), cfg(), loss_fn=F.cross_entropy, callbacks=print)
    with pytest.raises(ConfigError, match="control must be a RunControl or None, got bool"):
        fit(net(), data(), cfg(), loss_fn=F.cross_entropy, control=True)


def test_a_failing_listener_stops_the_run_with_its_error():
    def boom(event):
        if isinstance(event, TrainStep):
            raise RuntimeError("listener broke")

    with pytest.raises(RuntimeError, match="listener broke"):
        run(callbacks=[boom], log_every=1)


def test_a_stop_on_a_checkpoint_step_writes_that_checkpoint_once(tmp_path):
    control = RunControl()
    heard = []

    def stop_at_step_3(event):
        heard.append(event)
        if isinstance(event, TrainStep) and event.step == 3:
            control.request_stop()

    h = run(tmp_path / "stopped", [stop_at_step_3], control, log_every=1, checkpoint_every=3)
    assert h.stopped
    saved = [e.step for e in heard if isinstance(e, CheckpointSaved)]
    assert saved == [3] and latest_checkpoint(tmp_path / "stopped").name == "step-0000003"
