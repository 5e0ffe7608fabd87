"""CausalConv1d and the TCN blocks: equal to the notes' formulas, causal by perturbation."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from reti.errors import ConfigError, ShapeError
from reti.layers.causal import CausalConv1d, TemporalBlock, TemporalConvNet, receptive_field
from reti.reference.series import causal_conv1d, conv1d


def _as_reference_weight(conv: torch.nn.Conv1d) -> torch.Tensor:
    # PyTorch (C_out, C_in, K) with the current step last -> notes' W_j (j = steps back), (K, C, F)
    return conv.weight.flip(-1).permute(2, 1, 0)


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(1, 12),
    c=st.integers(1, 3),
    f=st.integers(1, 3),
    k=st.integers(1, 4),
    d=st.integers(1, 3),
    seed=st.integers(0, 1000),
)
def test_causal_conv_equals_reference_values_and_gradients(n, c, f, k, d, seed):
    torch.manual_seed(seed)
    conv = CausalConv1d(c, f, k, dilation=d).double()
    x = torch.randn(n, c, dtype=torch.float64, requires_grad=True)
    fast = conv(x.T.unsqueeze(0))[0].T  # (1, C, T) -> (T, F)
    w = _as_reference_weight(conv)
    slow = causal_conv1d(x, w, conv.bias, dilation=d, phi=torch.tanh)
    torch.testing.assert_close(torch.tanh(fast), slow)
    g = torch.randn(n, f, dtype=torch.float64)
    gx_fast, gw_fast = torch.autograd.grad((torch.tanh(fast) * g).sum(), (x, conv.weight))
    gx_slow, gw_slow = torch.autograd.grad((slow * g).sum(), (x, conv.weight))
    torch.testing.assert_close(gx_fast, gx_slow)
    torch.testing.assert_close(gw_fast, gw_slow)


def test_centred_conv_reference_equals_torch_same_padding():
    torch.manual_seed(0)
    conv = torch.nn.Conv1d(2, 3, 5, padding=2).double()
    x = torch.randn(9, 2, dtype=torch.float64)
    fast = conv(x.T.unsqueeze(0))[0].T
    slow = conv1d(x, conv.weight.permute(2, 1, 0), conv.bias)  # W_{j+k}: no flip, centred
    torch.testing.assert_close(fast, slow)


def test_reference_hand_computed_causal_example():
    # H_i = 1 * x_i + 10 * x_{i-1}: x = [1, 2, 3] -> [1, 12, 23]
    x = torch.tensor([[1.0], [2.0], [3.0]])
    w = torch.tensor([[[1.0]], [[10.0]]])
    assert causal_conv1d(x, w).flatten().tolist() == [1.0, 12.0, 23.0]


def test_reference_rejects_bad_shapes():
    with pytest.raises(ShapeError, match="odd number of taps"):
        conv1d(torch.zeros(4, 1), torch.zeros(2, 1, 1))
    with pytest.raises(ShapeError, match=r"\(n, c\)"):
        causal_conv1d(torch.zeros(4), torch.zeros(2, 1, 1))


def _future_does_not_move_past(module: torch.nn.Module, c: int, t: int, cut: int) -> None:
    torch.manual_seed(1)
    x = torch.randn(2, c, t)
    y = x.clone()
    y[..., cut:] = torch.randn(2, c, t - cut) * 100  # change only the future
    with torch.no_grad():
        a, b = module(x), module(y)
    torch.testing.assert_close(a[..., :cut], b[..., :cut], rtol=0, atol=0)
    assert not torch.allclose(a[..., cut:], b[..., cut:])  # the future itself does move


@pytest.mark.parametrize("cut", [1, 7, 19])
def test_causal_layer_block_and_stack_never_see_the_future(cut):
    _future_does_not_move_past(CausalConv1d(3, 4, 3, dilation=2), 3, 20, cut)
    _future_does_not_move_past(TemporalBlock(3, 5, 3, dilation=4), 3, 20, cut)
    _future_does_not_move_past(TemporalConvNet(3, [8, 8, 8], 3).eval(), 3, 20, cut)


def test_receptive_field_formula_matches_measured_dependency():
    net = TemporalConvNet(1, [4, 4, 4], kernel_size=3)
    assert net.receptive_field == receptive_field(3, [1, 2, 4]) == 1 + 2 * 2 * 7
    x = torch.zeros(1, 1, 60, requires_grad=True)
    net(x)[0, :, -1].sum().backward()
    seen = (x.grad[0, 0] != 0).nonzero().flatten()
    assert 60 - seen.min().item() <= net.receptive_field  # no gradient beyond the field


def test_output_shape_and_no_right_padding():
    conv = CausalConv1d(2, 6, 5, dilation=3)
    assert conv.left_pad == 12 and conv.padding == (0,)
    assert conv(torch.randn(4, 2, 17)).shape == (4, 6, 17)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kernel_size": 0}, "kernel_size must be a positive int, got 0"),
        ({"dilation": -1}, "dilation must be a positive int, got -1"),
    ],
)
def test_bad_hyper_parameters_name_the_parameter(kwargs, match):
    args = {"in_channels": 1, "out_channels": 1, "kernel_size": 3, **kwargs}
    with pytest.raises(ConfigError, match=match):
        CausalConv1d(**args)
    with pytest.raises(ConfigError, match="dropout"):
        TemporalBlock(1, 1, dropout=1.0)


def test_channels_last_2d_path_equals_plain_conv1d_path():
    torch.manual_seed(0)
    net = TemporalConvNet(2, [6, 6, 6], kernel_size=3).double()
    x = torch.randn(3, 2, 40, dtype=torch.float64)
    h = x
    for block in net.blocks:  # each block on (B, C, T) goes through F.conv1d
        h = block(h)
    torch.testing.assert_close(net(x), h)  # the stack runs 2D convs on (B, C, 1, T)


def test_temporal_block_gradients_are_exact_despite_in_place_relus():
    torch.manual_seed(0)
    block = TemporalBlock(2, 3, kernel_size=2, dilation=2).double()
    x = torch.randn(1, 2, 7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(block, (x,))
    stack = TemporalConvNet(2, [3, 3], kernel_size=2).double()
    assert torch.autograd.gradcheck(stack, (x,))
