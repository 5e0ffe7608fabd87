"""Locally connected layer (notes: Locally Connected Neural Net): local inputs, unshared weights.

Like a convolution, each output unit sees only a small patch of the input; unlike a convolution,
every output position has its own filter. The notes' example: a 1000x1000 image, 1M hidden units
and 10x10 patches need 10^8 weights (against 10^12 fully connected and 10^4 for 100 shared
filters). PyTorch has no such layer; it is computed here as ``F.unfold`` (all patches at once)
followed by one ``einsum`` that pairs each position's patch with that position's weights.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from reti.errors import ConfigError, ShapeError
from reti.layers.conv import _as_tuple, conv_output_size


class LocallyConnected2d(nn.Module):
    """A convolution whose filters are not shared across positions (notes: Locally Connected).

    ``out[n, o, i, j] = bias[o, i, j] + sum_{c, a, b} weight[o, i, j, c, a, b] *
    x_pad[n, c, i S + a d, j S + b d]``

    Shape: (N, Cin, H, W) -> (N, Cout, Hout, Wout) with ``(H, W) = input_size`` fixed at
    construction (one filter per output position needs the positions to be known).

    Raises:
        ConfigError: a non-positive size, or a kernel that does not fit the padded input.
        ShapeError: an input whose channels or (H, W) differ from the ones given here.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        input_size: int | tuple[int, int],
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        bias: bool = True,
    ) -> None:
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(
                    f"LocallyConnected2d {name} must be a positive int, got {value!r}"
                )
        self.in_channels, self.out_channels = in_channels, out_channels
        self.input_size = _as_tuple(input_size, 2, "input_size")
        self.kernel_size = _as_tuple(kernel_size, 2, "kernel_size")
        self.stride = _as_tuple(stride, 2, "stride")
        self.padding = _as_tuple(padding, 2, "padding")
        self.dilation = _as_tuple(dilation, 2, "dilation")
        try:
            self.output_size = conv_output_size(
                self.input_size, self.kernel_size, self.stride, self.padding, self.dilation
            )
        except ShapeError as exc:  # at construction time this is a bad hyper-parameter
            raise ConfigError(f"LocallyConnected2d: {exc}") from None
        Hout, Wout = self.output_size
        kh, kw = self.kernel_size
        self.weight = nn.Parameter(torch.empty(out_channels, Hout, Wout, in_channels, kh, kw))
        self.bias = nn.Parameter(torch.empty(out_channels, Hout, Wout)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform in +-1/sqrt(fan_in), PyTorch's default for Conv2d and Linear."""
        fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / math.sqrt(fan_in)
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels or tuple(x.shape[-2:]) != self.input_size:
            H, W = self.input_size
            raise ShapeError(
                f"LocallyConnected2d expects (N, {self.in_channels}, {H}, {W}), "
                f"got shape {tuple(x.shape)}"
            )
        N = x.shape[0]
        Hout, Wout = self.output_size
        cols = F.unfold(x, self.kernel_size, self.dilation, self.padding, self.stride)
        # (N, Cin*kh*kw, Hout*Wout): column l holds the patch seen by output position l
        w = self.weight.flatten(3).flatten(1, 2)  # (Cout, Hout*Wout, Cin*kh*kw)
        out = torch.einsum("nkl,olk->nol", cols, w)  # (N, Cout, Hout*Wout)
        out = out.view(N, self.out_channels, Hout, Wout)
        if self.bias is not None:
            out = out + self.bias
        return out

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, input_size={self.input_size}, "
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, bias={self.bias is not None}"
        )
