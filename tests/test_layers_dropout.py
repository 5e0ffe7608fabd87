"""Dropout(p, mode): the notes' two scalings, seeded masks, statistics, and the p check."""

from __future__ import annotations

import pytest
import torch

from reti.errors import ConfigError
from reti.layers import Dropout, dropout


@pytest.mark.parametrize("p", [1, 1.5, -0.1, float("nan"), "0.5", True])
def test_bad_p_is_a_config_error_naming_the_value(p):
    with pytest.raises(ConfigError, match=r"Dropout p must be in \[0, 1\), got"):
        Dropout(p)


def test_message_is_the_one_from_the_style_guide():
    with pytest.raises(ConfigError) as info:
        Dropout(1.5)
    assert str(info.value) == "Dropout p must be in [0, 1), got 1.5"
    with pytest.raises(ConfigError, match="mode must be one of inverted, standard, got 'sideways'"):
        Dropout(0.5, mode="sideways")


def test_inverted_scales_in_training_and_is_identity_at_inference():
    x = torch.ones(4000)
    layer = Dropout(0.25, generator=torch.Generator().manual_seed(0))
    h = layer(x)
    kept = h != 0
    assert torch.all(h[kept] == 1 / 0.75)  # h = (r x) / (1 - p)
    assert abs(kept.float().mean().item() - 0.75) < 0.03  # r ~ Bernoulli(1 - p)
    layer.eval()
    assert torch.equal(layer(x), x)


def test_standard_does_not_scale_in_training_and_scales_by_1_minus_p_at_inference():
    x = torch.full((4000,), 2.0)
    layer = Dropout(0.4, mode="standard", generator=torch.Generator().manual_seed(0))
    h = layer(x)
    assert set(h.unique().tolist()) == {0.0, 2.0}  # h = r x
    layer.eval()
    torch.testing.assert_close(layer(x), x * 0.6)  # h = (1 - p) x


@pytest.mark.parametrize("mode", ["inverted", "standard"])
def test_both_modes_keep_train_and_inference_activity_consistent(mode):
    # each mode puts its scaling where the notes say, so E[train output] = inference output
    x = torch.rand(20000) + 0.5
    layer = Dropout(0.3, mode, generator=torch.Generator().manual_seed(1))
    train_mean = layer(x).mean()
    layer.eval()
    infer_mean = layer(x).mean()
    assert abs((train_mean / infer_mean).item() - 1.0) < 0.02


def test_seeded_generator_gives_the_same_mask_and_dropped_units_pass_no_gradient():
    x = torch.randn(10, 10, requires_grad=True)
    a = Dropout(0.5, generator=torch.Generator().manual_seed(7))(x)
    b = Dropout(0.5, generator=torch.Generator().manual_seed(7))(x)
    assert torch.equal(a, b)
    (grad,) = torch.autograd.grad(a.sum(), x)
    assert torch.all(grad[a == 0] == 0) and torch.all(grad[a != 0] == 2.0)


def test_p_zero_is_the_identity_and_functional_form_matches():
    x = torch.randn(5, 3)
    assert torch.equal(Dropout(0.0)(x), x)
    assert torch.equal(dropout(x, 0.0, "standard", training=False), x)
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert torch.equal(dropout(x, 0.5, generator=g1), Dropout(0.5, generator=g2)(x))
