"""MLP: f = Wx, f = W2 max(0, W1 x) and deeper; norms and dropout per hidden layer; it learns."""

from __future__ import annotations

from dataclasses import asdict

import pytest
import torch
import torch.nn.functional as F

from reti.errors import ConfigError, ShapeError
from reti.layers import Dropout, count_parameters
from reti.models import MLP, MLPConfig, linear_classifier, two_layer_net
from reti.train import TrainConfig, fit


def test_linear_classifier_is_f_equals_Wx():
    model = linear_classifier(6, 3, bias=False)
    x = torch.randn(4, 2, 3)  # any per-sample shape is flattened
    torch.testing.assert_close(model(x), x.flatten(1) @ model.head.weight.T)
    assert count_parameters(model) == 18


def test_two_layer_net_is_W2_max_0_W1x():
    model = two_layer_net(5, 8, 3)
    x = torch.randn(7, 5)
    (l1,) = [m for m in model.hidden[0] if isinstance(m, torch.nn.Linear)]
    expected = model.head(torch.clamp(l1(x), min=0))
    torch.testing.assert_close(model(x), expected)
    assert count_parameters(model) == 5 * 8 + 8 + 8 * 3 + 3


def test_any_depth_with_norms_and_dropout_and_batch_of_one():
    cfg = MLPConfig(12, 4, hidden=(16, 16, 8), norm="layer", dropout=0.3, dropout_mode="standard")
    model = MLP(cfg)
    assert len(model.hidden) == 3
    assert all(isinstance(b[-1], Dropout) and b[-1].mode == "standard" for b in model.hidden)
    assert model(torch.randn(1, 12)).shape == (1, 4)  # layer norm: batch of one works
    bn = MLP(MLPConfig(12, 4, hidden=(16,), norm="batch"))
    assert isinstance(bn.hidden[0][1], torch.nn.BatchNorm1d)
    # the config rebuilds the same model (what a checkpoint's model_config is for)
    rebuilt = MLP(MLPConfig(**asdict(cfg)))
    rebuilt.load_state_dict(model.state_dict())
    model.eval(), rebuilt.eval()
    x = torch.randn(3, 12)
    torch.testing.assert_close(rebuilt(x), model(x))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(in_features=0, out_features=2), "in_features must be a positive int, got 0"),
        (dict(in_features=3, out_features=2, hidden=(4, -1)), "hidden sizes must be positive"),
        (dict(in_features=3, out_features=2, activation="swish"), "activation must be one of"),
        (dict(in_features=3, out_features=2, norm="group"), "norm must be one of"),
        (dict(in_features=3, out_features=2, dropout=1.0), r"Dropout p must be in \[0, 1\), got 1"),
        (dict(in_features=3, out_features=2, dropout_mode="x"), "dropout_mode must be one of"),
    ],
)
def test_config_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        MLPConfig(**kwargs)


def test_wrong_input_size_is_a_shape_error():
    with pytest.raises(ShapeError, match=r"784 values per sample, got shape \(2, 1, 8, 8\)"):
        two_layer_net(784, 10, 10)(torch.zeros(2, 1, 8, 8))


def _rings(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Two concentric rings: no line separates them, one hidden layer does."""
    gen = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=gen)
    angle = torch.rand(n, generator=gen) * 6.2832
    radius = 1.0 + 1.5 * y + 0.2 * torch.randn(n, generator=gen)
    return torch.stack([radius * angle.cos(), radius * angle.sin()], dim=1), y


def test_two_layer_net_learns_what_the_linear_classifier_cannot():
    train, val = _rings(512, 0), _rings(256, 1)
    cfg = TrainConfig(epochs=30, batch_size=64, lr=0.02, device="cpu", quiet=True)
    acc = {"accuracy": lambda out, y: (out.argmax(-1) == y).float()}
    results = {}
    for name, model in [("linear", linear_classifier(2, 2)), ("mlp", two_layer_net(2, 32, 2))]:
        torch.manual_seed(0)
        history = fit(model, train, cfg, loss_fn=F.cross_entropy, val=val, metrics=acc)
        results[name] = history.final["val_accuracy"]
        assert history.rows[-1]["train_loss"] < history.rows[0]["train_loss"]
    assert results["mlp"] > 0.95 and results["linear"] < 0.75
