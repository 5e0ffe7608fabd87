"""Checkpoints: in-process exact resume, keep-last-N, atomicity under a failed write, refusals."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import reti.io
from reti.errors import CheckpointError, DataNotFoundError, RunExistsError
from reti.io import save_checkpoint
from reti.train import TrainConfig, fit, latest_checkpoint, load_weights


def data(n=96, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 6, generator=g)
    return X, (X @ torch.randn(6, 3, generator=g)).argmax(-1)


def net(seed=0, hidden=16):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, hidden), nn.Dropout(0.3), nn.ReLU(), nn.Linear(hidden, 3))


def noisy(x, y, generator):
    return x + 0.05 * torch.randn(x.shape, generator=generator), y


def cfg(**kw):
    base = {"device": "cpu", "quiet": True, "batch_size": 16, "lr": 1e-2, "schedule": "cosine"}
    return TrainConfig(**{**base, "weight_decay": 0.01, "ema_decay": 0.9, **kw})


class Crash(Exception):
    pass


def crash_after(calls):
    """``noisy``, raising Crash on its ``calls``-th call (a stand-in for a killed process)."""
    seen = []

    def transform(x, y, generator):
        seen.append(1)
        if len(seen) == calls:
            raise Crash
        return noisy(x, y, generator)

    return transform


def train(run_dir, epochs, transform=noisy, overwrite=False, **kw):
    return fit(
        net(),
        data(),
        cfg(epochs=4, max_steps=kw.pop("max_steps", None), **kw),
        loss_fn=F.cross_entropy,
        val=data(32, 1),
        batch_transform=transform,
        run_dir=run_dir,
        model_config={"hidden": 16},
        resume=run_dir is not None and epochs == "resume",
        overwrite=overwrite,
    )


@pytest.mark.parametrize("optimizer", ["adamw", "muon"])
def test_resume_mid_epoch_is_bit_identical(tmp_path, optimizer):
    """A run crashed at step 11 (mid-epoch 2, last checkpoint at step 9) and resumed equals
    one never stopped: weights, EMA, per-epoch losses (cosine schedule, dropout, augmentation)."""
    whole = train(tmp_path / "whole", 4, optimizer=optimizer)
    stopped = tmp_path / "stopped"
    with pytest.raises(Crash):
        train(stopped, 4, transform=crash_after(11), checkpoint_every=3, optimizer=optimizer)
    assert latest_checkpoint(stopped).name == "step-0000009"
    resumed = train(stopped, "resume", checkpoint_every=3, optimizer=optimizer)
    for (name, a), b in zip(whole.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name
    assert [r["train_loss"] for r in resumed.rows] == [r["train_loss"] for r in whole.rows]
    assert resumed.rows[-1]["val_loss"] == whole.rows[-1]["val_loss"]


def test_keep_last_n_and_latest_pointer(tmp_path):
    train(tmp_path, 4, checkpoint_every=2, keep_last=3)
    folders = sorted(p.name for p in (tmp_path / "checkpoints").glob("step-*"))
    assert folders == ["step-0000020", "step-0000022", "step-0000024"]
    assert latest_checkpoint(tmp_path).name == "step-0000024"
    meta = load_weights(net(seed=1), tmp_path)
    assert meta["model_config"] == {"hidden": 16} and meta["train_config"]["keep_last"] == 3


def test_a_fresh_run_into_an_old_run_folder_needs_overwrite_and_then_replaces_it(tmp_path):
    train(tmp_path, 4, checkpoint_every=2, keep_last=3)  # steps up to 24
    with pytest.raises(RunExistsError, match="already holds a run; pass --overwrite"):
        train(tmp_path, 4, max_steps=4)
    h = train(tmp_path, 4, max_steps=4, overwrite=True)
    assert sorted(p.name for p in (tmp_path / "checkpoints").glob("step-*")) == ["step-0000004"]
    assert load_weights(net(seed=2), tmp_path)["step"] == 4 and len(h.rows) == 1


def test_a_crash_while_writing_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    train(tmp_path, 4, max_steps=6)
    before = latest_checkpoint(tmp_path)
    weights_before = (before / "tensors.safetensors").read_bytes()

    def half_written(tensors, filename, *args, **kw):
        with open(filename, "wb") as fh:
            fh.write(b"\x00" * 100)  # a partial file, then the "crash"
        raise OSError("disk full")

    monkeypatch.setattr(reti.io, "save_file", half_written)
    with pytest.raises(OSError, match="disk full"):
        train(tmp_path, "resume", checkpoint_every=1)
    assert latest_checkpoint(tmp_path) == before
    assert (before / "tensors.safetensors").read_bytes() == weights_before
    assert not [p for p in (tmp_path / "checkpoints").iterdir() if p.name.startswith(".")]
    assert load_weights(net(), tmp_path)["step"] == 6


def test_resume_refuses_another_model_config(tmp_path):
    train(tmp_path, 4, max_steps=2)
    with pytest.raises(CheckpointError, match="model config"):
        fit(
            net(),
            data(),
            cfg(),
            loss_fn=F.cross_entropy,
            run_dir=tmp_path,
            resume=True,
            model_config={"hidden": 32},
        )


def test_resume_refuses_a_foreign_checkpoint(tmp_path):
    ckpts = tmp_path / "checkpoints"
    save_checkpoint(ckpts / "step-0000001", {"w": torch.zeros(2)}, {"note": "not a run"})
    (ckpts / "latest").write_text("step-0000001\n")
    with pytest.raises(CheckpointError, match="not a reti training checkpoint"):
        train(tmp_path, "resume")


def test_resume_without_checkpoint_starts_fresh(tmp_path):
    h = train(tmp_path, "resume", max_steps=2)
    assert h.rows[-1]["step"] == 2


def test_load_weights_refusals(tmp_path):
    train(tmp_path, 4, max_steps=2)
    with pytest.raises(CheckpointError, match=r"shape: 0\.weight \(16, 6\) vs \(8, 6\)"):
        load_weights(net(hidden=8), tmp_path)
    with pytest.raises(CheckpointError, match="missing: 4.bias, 4.weight"):
        load_weights(nn.Sequential(*net(), nn.Linear(3, 3)), tmp_path)
    with pytest.raises(DataNotFoundError, match="does not exist"):
        load_weights(net(), tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="neither a reti checkpoint nor a run"):
        load_weights(net(), tmp_path / "empty")
    pickle = tmp_path / "model.pt"
    torch.save(net().state_dict(), pickle)
    with pytest.raises(CheckpointError, match="pickle"):
        load_weights(net(), pickle)
    tensors = latest_checkpoint(tmp_path) / "tensors.safetensors"
    tensors.write_bytes(tensors.read_bytes()[:-10])
    with pytest.raises(CheckpointError, match="truncated"):
        load_weights(net(), tmp_path)
    (tmp_path / "checkpoints" / "latest").write_text("step-9999999\n")
    with pytest.raises(CheckpointError, match="step-9999999"):
        load_weights(net(), tmp_path)
