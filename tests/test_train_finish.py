"""fit's ``finish`` step (BN population statistics in the vision pipeline): it runs once, on
the weights the run is judged by (the EMA's when there is one), before the checkpoint that
completes the run, which then holds them; a run stopped to be resumed skips it."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from reti.io import load_checkpoint
from reti.train import RunControl, TrainConfig, TrainStep, fit, latest_checkpoint


def data(n=64):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 5, generator=g)
    return x, (x.sum(-1) > 0).long()


def train(run_dir, finish, ema=None, control=None, callbacks=()):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    cfg = TrainConfig(batch_size=16, epochs=2, device="cpu", quiet=True, log_every=1,
                      ema_decay=ema)  # fmt: skip
    return fit(model, data(), cfg, loss_fn=F.cross_entropy, run_dir=run_dir, finish=finish,
               control=control, callbacks=callbacks)  # fmt: skip


def marker(calls):
    """A finish step that records the weights it saw and sets the BN mean to 7."""

    def finish(model):
        calls.append(model[0].weight.detach().clone())
        model[1].running_mean.fill_(7.0)

    return finish


def test_finish_runs_once_before_the_final_checkpoint(tmp_path):
    calls = []
    h = train(tmp_path / "run", marker(calls))
    assert len(calls) == 1 and torch.equal(calls[0], h.model[0].weight)
    tensors, _ = load_checkpoint(latest_checkpoint(tmp_path / "run"))
    assert torch.equal(tensors["model/1.running_mean"], torch.full((8,), 7.0))
    assert h.model[1].running_mean.eq(7.0).all()


def test_with_ema_finish_sees_the_averaged_weights_and_they_are_saved(tmp_path):
    plain = train(None, None, ema=0.5)  # what fit returns without finish: the EMA weights
    calls = []
    h = train(tmp_path / "run", marker(calls), ema=0.5)
    assert torch.equal(calls[0], plain.model[0].weight) and torch.equal(h.model[0].weight,
                                                                          calls[0])  # fmt: skip
    tensors, _ = load_checkpoint(latest_checkpoint(tmp_path / "run"))
    assert torch.equal(tensors["model/0.weight"], calls[0])
    assert not any(k.startswith("ema/") for k in tensors)


def test_a_stopped_run_skips_finish_until_it_completes(tmp_path):
    calls, control = [], RunControl()

    def stop_at_2(event):
        if isinstance(event, TrainStep) and event.step == 2:
            control.request_stop()

    assert train(tmp_path / "run", marker(calls), control=control, callbacks=[stop_at_2]).stopped
    assert calls == []
    tensors, _ = load_checkpoint(latest_checkpoint(tmp_path / "run"))
    assert not tensors["model/1.running_mean"].eq(7.0).any()
