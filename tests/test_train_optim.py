"""Optimizer groups, schedules and the weight EMA against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from reti.errors import ConfigError
from reti.train.optim import (
    MuonAdamW,
    WeightEMA,
    build_optimizer,
    muon_groups,
    orthogonalize,
    param_groups,
    schedule_factor,
)


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.norm = nn.LayerNorm(4)
        self.fc = nn.Linear(4, 2)
        self.conv = nn.Conv1d(4, 4, 3)


def test_weight_decay_only_on_matrices():
    model = Tiny()
    decay, no_decay = param_groups(model, 0.1)
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    ids = lambda ps: {id(p) for p in ps}  # noqa: E731
    assert ids(decay["params"]) == {id(model.fc.weight), id(model.conv.weight)}
    expected = {model.emb.weight, model.norm.weight, model.norm.bias, model.fc.bias}
    assert ids(no_decay["params"]) == {id(p) for p in expected} | {id(model.conv.bias)}


def test_tied_and_frozen_parameters_are_listed_once_or_not_at_all():
    model = Tiny()
    model.fc2 = nn.Linear(4, 10)
    model.fc2.weight = model.emb.weight  # tied (10, 4)
    model.norm.bias.requires_grad_(False)
    groups = param_groups(model, 0.1)
    listed = [id(p) for g in groups for p in g["params"]]
    assert len(listed) == len(set(listed))
    assert id(model.norm.bias) not in listed


def test_build_optimizer_kinds_and_errors():
    model = Tiny()
    sgd = build_optimizer(model, "sgd", 0.1, momentum=0.8, nesterov=True)
    assert isinstance(sgd, torch.optim.SGD)
    assert sgd.param_groups[0]["nesterov"] and sgd.param_groups[0]["momentum"] == 0.8
    assert isinstance(build_optimizer(model, "adamw", 0.1, weight_decay=0.1), torch.optim.AdamW)
    with pytest.raises(ConfigError, match="optimizer must be one of adamw, sgd, muon, got 'lamb'"):
        build_optimizer(model, "lamb", 0.1)
    frozen = nn.Linear(2, 2).requires_grad_(False)
    with pytest.raises(ConfigError, match="no trainable parameters"):
        build_optimizer(frozen, "adamw", 0.1)


def test_constant_with_warmup():
    f = schedule_factor("constant", 100, warmup_steps=4)
    assert [f(s) for s in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]


def test_step_schedule_drops_tenfold_at_half_and_three_quarters():
    f = schedule_factor("step", 100)
    assert f(0) == 1.0 and f(49) == 1.0
    assert f(50) == pytest.approx(0.1) and f(74) == pytest.approx(0.1)
    assert f(75) == pytest.approx(0.01) and f(99) == pytest.approx(0.01)


def test_cosine_after_warmup():
    f = schedule_factor("cosine", 110, warmup_steps=10)
    assert f(0) == pytest.approx(0.1) and f(9) == pytest.approx(1.0)
    assert f(10) == pytest.approx(1.0)
    assert f(60) == pytest.approx(0.5)  # half way through the cosine part
    assert f(35) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.25)))
    assert f(110) == pytest.approx(0.0, abs=1e-12)


def test_onecycle_rises_then_falls():
    f = schedule_factor("onecycle", 100)
    assert f(0) == pytest.approx(1 / 25)
    assert f(30) == pytest.approx(1.0)
    assert f(15) == pytest.approx(1 / 25 + (1 - 1 / 25) * 0.5)
    assert f(65) == pytest.approx(0.5)
    assert f(100) == pytest.approx(0.0)


def test_unknown_schedule():
    with pytest.raises(ConfigError, match="schedule must be one of .* got 'linear'"):
        schedule_factor("linear", 10)


def test_ema_follows_the_polyak_formula_and_swaps():
    model = nn.Linear(3, 1)
    start = model.weight.detach().clone()
    ema = WeightEMA(model, 0.9)
    with torch.no_grad():
        model.weight.add_(1.0)
    ema.update(model)
    expected = 0.9 * start + 0.1 * (start + 1.0)
    torch.testing.assert_close(ema.state_dict()["weight"], expected)
    live = model.weight.detach().clone()
    ema.swap(model)
    torch.testing.assert_close(model.weight.detach(), expected)
    ema.swap(model)
    torch.testing.assert_close(model.weight.detach(), live)
    with pytest.raises(ConfigError, match="ema_decay must be in"):
        WeightEMA(model, 1.0)


class Stack(nn.Module):
    """An embedding, two hidden layers (a conv kernel and a matrix) and an output layer."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 6)
        self.conv = nn.Conv1d(6, 8, 3)
        self.hidden = nn.Linear(8, 12)
        self.out = nn.Linear(12, 3)


def test_muon_takes_the_hidden_kernels_and_matrices_only():
    model = Stack()
    groups = muon_groups(model, 0.1)
    ids = lambda ps: {id(p) for p in ps}  # noqa: E731
    muon = [g for g in groups if g["muon"]]
    assert len(muon) == 1 and ids(muon[0]["params"]) == ids(
        [model.conv.weight, model.hidden.weight]
    )
    adam = {id(p) for g in groups if not g["muon"] for p in g["params"]}
    rest = [model.emb.weight, model.out.weight, model.conv.bias, model.hidden.bias, model.out.bias]
    assert adam == ids(rest)
    decayed = {id(p) for g in groups if g["weight_decay"] == 0.1 for p in g["params"]}
    assert decayed == ids([model.conv.weight, model.hidden.weight, model.out.weight])


@pytest.mark.parametrize("shape", [(8, 20), (20, 8)])
def test_orthogonalize_brings_every_singular_value_near_one(shape):
    g = torch.randn(shape, generator=torch.Generator().manual_seed(0))
    g[:, 0] *= 30  # an ill-conditioned gradient: one direction dominates
    s = torch.linalg.svdvals(orthogonalize(g))
    assert orthogonalize(g).shape == shape
    assert s.min() > 0.5 and s.max() < 1.5  # Jordan's quintic: ~U(0.5, 1.5), not exactly 1
    assert torch.linalg.svdvals(g).max() / torch.linalg.svdvals(g).min() > 10


def test_muon_step_matches_torch_muon_and_adamw():
    """Two steps on a 2-D hidden weight equal torch.optim.Muon (Nesterov, 0.95, match-RMS
    scaling); the biases and output layer equal torch.optim.AdamW."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 2))
    twin = [p.detach().clone().requires_grad_() for p in model.parameters()]
    ours = build_optimizer(model, "muon", 0.02, weight_decay=0.1)
    assert isinstance(ours, MuonAdamW)
    ref_muon = torch.optim.Muon(
        [twin[0]], lr=0.02, weight_decay=0.1, adjust_lr_fn="match_rms_adamw"
    )
    ref_adam = torch.optim.AdamW(
        [
            {"params": [twin[2]], "weight_decay": 0.1},
            {"params": [twin[1], twin[3]], "weight_decay": 0},
        ],
        lr=0.02,
    )
    x = torch.randn(16, 5)
    for _ in range(2):
        model(x).square().mean().backward()
        w1, b1, w2, b2 = twin
        (torch.tanh(x @ w1.T + b1) @ w2.T + b2).square().mean().backward()
        for opt in (ours, ref_muon, ref_adam):
            opt.step()
            opt.zero_grad()
    for p, q in zip(model.parameters(), twin):
        torch.testing.assert_close(p, q, atol=2e-3, rtol=0)  # bf16 Newton-Schulz in both


def test_muon_state_survives_a_state_dict_round_trip():
    torch.manual_seed(0)
    model = Stack()
    opt = build_optimizer(model, "muon", 0.01)
    ids = torch.randint(0, 10, (4, 5))
    model.out(
        model.hidden(model.conv(model.emb(ids).transpose(1, 2)).transpose(1, 2))
    ).sum().backward()
    opt.step()
    copy = build_optimizer(model, "muon", 0.01)
    copy.load_state_dict(opt.state_dict())
    assert copy._adamw.state is copy.state  # still one state after loading
    buf = copy.state[model.conv.weight]["momentum_buffer"]
    assert torch.equal(buf, opt.state[model.conv.weight]["momentum_buffer"])
    assert torch.equal(copy.state[model.out.bias]["exp_avg"], opt.state[model.out.bias]["exp_avg"])
