"""conv_output_size (the notes' formula), the checked Conv2d, and pooling helpers."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from reti.errors import ConfigError, ShapeError
from reti.layers import (
    Conv2d,
    GlobalAvgPool,
    GlobalMaxPool,
    avg_pool,
    conv_output_size,
    global_avg_pool,
    max_pool,
)


@pytest.mark.parametrize(
    "size, k, s, p, d",
    [(28, 3, 1, 1, 1), (32, 5, 2, 0, 1), (7, 3, 3, 2, 2), (10, 1, 4, 0, 1), (9, 4, 1, 0, 2)],
)
def test_conv_output_size_matches_torch(size, k, s, p, d):
    out = nn.Conv2d(1, 1, k, s, p, d)(torch.zeros(1, 1, size, size + 1))
    assert conv_output_size(size, k, s, p, d) == out.shape[-2]
    assert conv_output_size((size, size + 1), k, s, p, d) == tuple(out.shape[-2:])


def test_conv_output_size_hand_worked():
    # (224 + 2*1 - 3) / 1 + 1 = 224 ("same" 3x3); (224 - 2) / 2 + 1 = 112 (2x2 pool)
    assert conv_output_size(224, 3, padding=1) == 224
    assert conv_output_size(224, 2, stride=2) == 112
    assert conv_output_size((32, 16), (5, 3), stride=(1, 2), padding=(0, 1)) == (28, 8)


def test_kernel_larger_than_padded_input_names_the_numbers():
    with pytest.raises(ShapeError, match=r"kernel_size 5 .* larger than the padded input 4"):
        conv_output_size(2, 5, padding=1)
    with pytest.raises(ShapeError, match="dilation 3: spans 7"):
        conv_output_size(6, 3, dilation=3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(size=-3, kernel_size=2), "size must be >= 1, got -3"),
        (dict(size=8, kernel_size=0), "kernel_size must be >= 1, got 0"),
        (dict(size=8, kernel_size=2, stride=0), "stride must be >= 1, got 0"),
        (dict(size=8, kernel_size=2, padding=-1), "padding must be >= 0, got -1"),
        (dict(size=(8, 8), kernel_size=(2, 2, 2)), "kernel_size must be an int or a tuple of 2"),
    ],
)
def test_conv_output_size_bad_hyper_parameters(kwargs, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        conv_output_size(**kwargs)


def test_conv2d_is_torch_with_the_same_signature_and_numbers():
    torch.manual_seed(0)
    ours = Conv2d(4, 6, (3, 2), stride=2, padding=1, dilation=(1, 2), groups=2, bias=False)
    theirs = nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, dilation=(1, 2), groups=2, bias=False)
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(2, 4, 9, 8)
    torch.testing.assert_close(ours(x), theirs(x))
    assert isinstance(ours, nn.Conv2d)
    # many filters stacked as channels: 6 filters -> 6 activation maps
    assert ours(x).shape == (2, 6, *conv_output_size((9, 8), (3, 2), 2, 1, (1, 2)))


def test_conv2d_clear_errors():
    with pytest.raises(ConfigError, match="divisible by groups"):
        Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ConfigError, match="out_channels must be a positive int, got 0"):
        Conv2d(3, 0, 3)
    with pytest.raises(ConfigError, match="padding must be >= 0"):
        Conv2d(3, 4, 3, padding=-1)
    conv = Conv2d(3, 4, 5)
    with pytest.raises(ShapeError, match=r"expects \(N, 3, H, W\).*got shape \(2, 1, 8, 8\)"):
        conv(torch.zeros(2, 1, 8, 8))
    with pytest.raises(ShapeError, match="larger than the padded input 4"):
        conv(torch.zeros(2, 3, 4, 4))
    assert Conv2d(3, 4, 3, padding="same")(torch.zeros(1, 3, 5, 5)).shape == (1, 4, 5, 5)


def test_pool_helpers_and_global_pooling():
    x = torch.arange(16.0).view(1, 1, 4, 4)
    assert max_pool(x, 2).flatten().tolist() == [5, 7, 13, 15]
    assert avg_pool(x, 2).flatten().tolist() == [2.5, 4.5, 10.5, 12.5]
    assert global_avg_pool(x).tolist() == [[7.5]]
    assert GlobalMaxPool()(x).tolist() == [[15.0]]
    assert GlobalAvgPool(keepdim=True)(x).shape == (1, 1, 1, 1)
    assert GlobalAvgPool()(torch.ones(2, 3, 10)).shape == (2, 3)  # 1-D series work too
    with pytest.raises(ShapeError, match="larger than the padded input 4"):
        max_pool(x, 5)
    with pytest.raises(ShapeError, match="at least one spatial dim, got"):
        global_avg_pool(torch.zeros(2, 3))
