"""LocallyConnected2d: unshared weights, checked against a plain loop over output positions."""

from __future__ import annotations

import pytest
import torch

from reti.errors import ConfigError, ShapeError
from reti.layers import LocallyConnected2d, count_parameters, locally_connected_params


def _loop_reference(layer: LocallyConnected2d, x: torch.Tensor) -> torch.Tensor:
    """out[n, o, i, j] = b[o, i, j] + sum w[o, i, j, c, a, b] x_pad[n, c, iS + a d, jS + b d]."""
    (sh, sw), (ph, pw), (dh, dw) = layer.stride, layer.padding, layer.dilation
    kh, kw = layer.kernel_size
    xp = torch.nn.functional.pad(x, (pw, pw, ph, ph))
    Hout, Wout = layer.output_size
    out = torch.zeros(x.shape[0], layer.out_channels, Hout, Wout, dtype=x.dtype)
    for i in range(Hout):
        for j in range(Wout):
            patch = xp[
                :,
                :,
                i * sh : i * sh + dh * (kh - 1) + 1 : dh,
                j * sw : j * sw + dw * (kw - 1) + 1 : dw,
            ]
            out[:, :, i, j] = torch.einsum("ncab,ocab->no", patch, layer.weight[:, i, j])
            if layer.bias is not None:
                out[:, :, i, j] += layer.bias[:, i, j]
    return out


@pytest.mark.parametrize(
    "cin, cout, size, k, s, p, d, bias",
    [
        (1, 2, (5, 5), 3, 1, 0, 1, True),
        (3, 4, (7, 6), (3, 2), (2, 1), (1, 0), 1, False),
        (2, 1, (8, 8), 2, 3, 1, 2, True),
    ],
)
def test_equals_the_loop_reference_values_and_gradients(cin, cout, size, k, s, p, d, bias):
    torch.manual_seed(0)
    layer = LocallyConnected2d(cin, cout, size, k, s, p, d, bias).double()
    x = torch.randn(3, cin, *size, dtype=torch.float64, requires_grad=True)
    fast, slow = layer(x), _loop_reference(layer, x)
    torch.testing.assert_close(fast, slow)
    g = torch.randn_like(fast)
    params = [x, *layer.parameters()]
    for a, b in zip(torch.autograd.grad(fast, params, g), torch.autograd.grad(slow, params, g)):
        torch.testing.assert_close(a, b)


def test_weights_are_not_shared_and_the_count_matches_the_calculator():
    layer = LocallyConnected2d(3, 8, (10, 10), 3, bias=True)  # 8 x 8 x 8 hidden units
    hidden = 8 * 8 * 8
    expected = locally_connected_params((10, 10), hidden, 3, in_channels=3, bias=True)
    assert count_parameters(layer) == expected.total == hidden * 27 + hidden
    # moving one pixel changes only the outputs whose patch covers it, each by its own weight
    x = torch.zeros(1, 3, 10, 10)
    x2 = x.clone()
    x2[0, 0, 0, 0] = 1.0
    diff = layer(x2) - layer(x)
    assert diff[0, :, 0, 0].abs().sum() > 0 and diff[0, :, 1:, :].abs().sum() == 0


def test_learns_a_tiny_task():
    torch.manual_seed(0)
    layer = LocallyConnected2d(1, 1, (6, 6), 3)
    x = torch.randn(64, 1, 6, 6)
    target = x[:, :, 1:5, 1:5] * 2.0  # each output copies its patch centre, doubled
    opt = torch.optim.Adam(layer.parameters(), lr=0.05)
    first = None
    for _ in range(150):
        loss = ((layer(x) - target) ** 2).mean()
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.01 * first


def test_clear_errors():
    with pytest.raises(ConfigError, match="LocallyConnected2d: kernel_size 7"):
        LocallyConnected2d(1, 1, (5, 5), 7)
    with pytest.raises(ConfigError, match="in_channels must be a positive int, got 0"):
        LocallyConnected2d(0, 1, 5, 3)
    with pytest.raises(ShapeError, match=r"expects \(N, 2, 6, 6\), got shape \(1, 2, 7, 6\)"):
        LocallyConnected2d(2, 1, 6, 3)(torch.zeros(1, 2, 7, 6))
