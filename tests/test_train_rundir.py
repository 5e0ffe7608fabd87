"""run_folder and fit: a failed or interrupted run never loses the run that was there before,
leftovers of a killed process are cleaned, file-system failures are one-line errors."""

from __future__ import annotations

import errno
import math
import os
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import reti.io
from reti.errors import ConfigError, RetiError, RunExistsError, TrainingError
from reti.train import TrainConfig, TrainStep, fit, latest_checkpoint, load_weights, run_folder
from reti.train.rundir import FAILED


def data(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 6, generator=g)
    return X, (X @ torch.randn(6, 3, generator=g)).argmax(-1)


def net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))


def train(run_dir, loss_fn=F.cross_entropy, max_steps=None, checkpoint_every=None, **kw):
    cfg = TrainConfig(epochs=2, batch_size=16, device="cpu", quiet=True, log_every=1,
                      max_steps=max_steps, checkpoint_every=checkpoint_every)  # fmt: skip
    return fit(net(), data(), cfg, loss_fn=loss_fn, val=data(16, 1), run_dir=run_dir,
               model_config={"hidden": 16}, **kw)  # fmt: skip


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def nan_at_step(n):
    calls = []

    def loss(out, y):
        calls.append(1)
        value = F.cross_entropy(out, y)
        return value * math.nan if len(calls) == n else value

    return loss


@pytest.fixture
def good_run(tmp_path):
    run = tmp_path / "run"
    train(run)
    return run, tree(run)


def test_a_run_folder_is_refused_before_anything_is_written(good_run):
    run, before = good_run
    with pytest.raises(RunExistsError) as refused:
        train(run, loss_fn=nan_at_step(2))
    assert str(refused.value) == (
        f"{run} already holds a run; pass --overwrite to replace it or --resume to continue it"
    )
    assert isinstance(refused.value, FileExistsError) and tree(run) == before


def test_a_failed_overwrite_leaves_the_earlier_run_bit_identical_and_loadable(good_run):
    run, before = good_run
    with pytest.raises(TrainingError) as failed:
        train(run, loss_fn=nan_at_step(2), overwrite=True)
    assert "at step 2" in str(failed.value)
    assert str(failed.value).endswith(f"the earlier run in {run} is kept as it was")
    assert tree(run) == before
    assert sorted(p.name for p in run.parent.iterdir()) == ["run"]  # nothing set aside is left
    assert load_weights(net(), run)["step"] == 8


def test_ctrl_c_during_an_overwrite_puts_the_earlier_run_back(good_run):
    run, before = good_run

    def interrupt(event):
        if isinstance(event, TrainStep) and event.step == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(run, overwrite=True, callbacks=[interrupt], checkpoint_every=1)
    assert tree(run) == before


def test_a_successful_overwrite_replaces_the_run_and_leaves_nothing_beside_it(good_run):
    run, before = good_run
    h = train(run, overwrite=True, max_steps=3)
    assert load_weights(net(), run)["step"] == 3 and h.final["step"] == 3
    assert sorted(p.name for p in run.parent.iterdir()) == ["run"]
    with pytest.raises(ConfigError, match="exclude each other"):
        train(run, overwrite=True, resume=True)


def test_a_disk_that_fills_up_is_one_error_and_the_earlier_run_is_kept(good_run, monkeypatch):
    run, before = good_run

    def full(tensors, filename, *args, **kw):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), filename)

    monkeypatch.setattr(reti.io, "save_file", full)
    with pytest.raises(TrainingError) as failed:
        train(run, overwrite=True)
    message = str(failed.value)
    assert message.startswith("cannot write ") and "No space left on device" in message
    assert "is the disk full?" in message and "\n" not in message
    assert message.endswith("is kept as it was") and tree(run) == before


def test_leftovers_of_a_killed_process_are_cleaned_on_resume(good_run):
    run, _ = good_run
    ckpts = run / "checkpoints"
    (ckpts / ".latest.k3j2.tmp").write_text("step-")  # killed while replacing the pointer
    (ckpts / ".step-0000099.a8f.tmp").mkdir()  # killed while writing a checkpoint folder
    (ckpts / ".step-0000099.a8f.tmp" / "tensors.safetensors").write_bytes(b"\0" * 10)
    (run / ".metrics.csv.zz1.tmp").write_text("epoch,")
    latest = latest_checkpoint(run)
    os.replace(latest, latest.with_name(f".{latest.name}.old"))  # killed mid atomic_dir swap
    h = train(run, resume=True)  # the run had ended: nothing to train, only cleaning
    assert h.final["step"] == 8
    assert not [p for p in run.rglob(".*")], "hidden leftovers remain"
    assert latest_checkpoint(run) == latest and load_weights(net(), run)["step"] == 8


def test_an_overwrite_killed_midway_is_undone_on_the_next_entry(good_run):
    run, before = good_run
    os.replace(run, run.with_name(".run.replaced"))  # what run_folder(overwrite) does first
    run.mkdir()
    (run / "config.json").write_text("{}")  # the new run's start, then kill -9
    with run_folder(run, resume=True):
        pass
    assert tree(run) == before and sorted(p.name for p in run.parent.iterdir()) == ["run"]


def test_a_failed_fresh_run_leaves_a_failed_note_or_nothing(tmp_path):
    run = tmp_path / "fresh"
    with pytest.raises(TrainingError, match="at step 3"):
        train(run, loss_fn=nan_at_step(3))
    assert (run / FAILED).read_text().startswith("TrainingError: training loss became nan")
    h = train(run, resume=True)  # a failed run can be continued; success removes the note
    assert h.final["step"] == 8 and not (run / FAILED).exists()
    empty = tmp_path / "empty"
    with pytest.raises(ValueError, match="nothing written"), run_folder(empty):
        raise ValueError("nothing written")
    assert not empty.exists()


def test_a_task_holding_the_folder_open_lets_fit_write_without_moving_it_twice(good_run):
    run, before = good_run
    with run_folder(run, overwrite=True) as folder:
        assert not (folder / "config.json").exists()  # the old run is set aside
        h = train(folder, max_steps=2)  # fit's own run_folder is a no-op inside
        (folder / "results.json").write_text("{}")
    assert h.final["step"] == 2 and (run / "results.json").exists()
    assert load_weights(net(), run)["step"] == 2
    assert sorted(p.name for p in run.parent.iterdir()) == ["run"]


def test_a_file_where_the_folder_must_go_and_an_unwritable_folder(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("keep me")
    with pytest.raises(ConfigError, match="must be a folder, got the file"):
        train(blocker / "run")
    assert blocker.read_text() == "keep me"

    def refused(self, data):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))

    monkeypatch.setattr(Path, "write_bytes", refused)  # what a read-only folder answers
    with pytest.raises(ConfigError) as failed:
        train(tmp_path / "locked")
    message = str(failed.value)
    assert message.startswith("cannot write ") and "Permission denied" in message
    assert message.endswith("choose another output folder") and isinstance(failed.value, RetiError)
