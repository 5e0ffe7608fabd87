"""The convolutional layer and its output-size formula (notes: CONV layer in Pytorch).

``Conv2d`` is PyTorch's own kernel with PyTorch's exact signature; reti only adds checks that
turn a wrong input into a sentence naming the numbers, instead of a C++ stack trace.
Many filters give many activation maps, stacked as the output channels (notes: Layer
Convoluzionale Multiplo).
"""

from __future__ import annotations

import torch
from torch import nn

from reti.errors import ConfigError, ShapeError


def _as_tuple(value: int | tuple[int, ...], n: int, name: str) -> tuple[int, ...]:
    """``3`` -> ``(3, 3)``; checks that every entry is an int."""
    items = (value,) * n if isinstance(value, int) else tuple(value)
    if len(items) != n or not all(isinstance(v, int) and not isinstance(v, bool) for v in items):
        raise ConfigError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
    return items


def _out_size(size: int, k: int, s: int, p: int, d: int) -> int:
    """One dim of the notes' formula: ``floor((size + 2P - d (F - 1) - 1) / S) + 1``."""
    span = d * (k - 1) + 1  # the dilated kernel's extent
    if span > size + 2 * p:
        raise ShapeError(
            f"kernel_size {k} (dilation {d}: spans {span}) is larger than the padded input "
            f"{size + 2 * p} (size {size} + 2 * padding {p})"
        )
    return (size + 2 * p - span) // s + 1


def conv_output_size(
    size: int | tuple[int, ...],
    kernel_size: int | tuple[int, ...],
    stride: int | tuple[int, ...] = 1,
    padding: int | tuple[int, ...] = 0,
    dilation: int | tuple[int, ...] = 1,
) -> int | tuple[int, ...]:
    """Output size of a convolution or pooling window (notes: hyper-parameters F, S, P).

    ``out = floor((size + 2P - dilation (F - 1) - 1) / S) + 1`` per spatial dim. ``size`` may be
    an int (returns an int) or a tuple (returns a tuple of the same length; the other arguments
    are broadcast from ints or given per dim).

    Raises:
        ConfigError: a size, kernel, stride or dilation below 1, or a negative padding.
        ShapeError: the (dilated) kernel is larger than the padded input.
    """
    n = 1 if isinstance(size, int) else len(tuple(size))
    sizes = _as_tuple(size, n, "size")
    ks = _as_tuple(kernel_size, n, "kernel_size")
    ss = _as_tuple(stride, n, "stride")
    ps = _as_tuple(padding, n, "padding")
    ds = _as_tuple(dilation, n, "dilation")
    for name, values, low in (
        ("size", sizes, 1),
        ("kernel_size", ks, 1),
        ("stride", ss, 1),
        ("padding", ps, 0),
        ("dilation", ds, 1),
    ):
        if any(v < low for v in values):
            raise ConfigError(f"{name} must be >= {low}, got {values if n > 1 else values[0]}")
    out = tuple(_out_size(*args) for args in zip(sizes, ks, ss, ps, ds))
    return out[0] if isinstance(size, int) else out


class Conv2d(nn.Conv2d):
    """``torch.nn.Conv2d`` with clear errors (notes: CONV layer in Pytorch).

    ``out(N, Cout) = bias(Cout) + sum_k weight(Cout, k) * input(N, k)``; see
    ``reti.reference.conv2d`` for the same formula as patches x weights.

    Shape: (N, Cin, H, W) or (Cin, H, W) -> (N, Cout, Hout, Wout), Hout from
    ``conv_output_size``.

    Raises:
        ConfigError: non-positive channels/kernel/stride/dilation, negative padding, or channels
            not divisible by ``groups``.
        ShapeError: an input with the wrong number of dims or channels, or smaller than the kernel.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        for name, value in (
            ("in_channels", in_channels),
            ("out_channels", out_channels),
            ("groups", groups),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"Conv2d {name} must be a positive int, got {value!r}")
        if in_channels % groups or out_channels % groups:
            raise ConfigError(
                f"Conv2d in_channels ({in_channels}) and out_channels ({out_channels}) must both "
                f"be divisible by groups ({groups})"
            )
        for name, value, low in (
            ("kernel_size", kernel_size, 1),
            ("stride", stride, 1),
            ("dilation", dilation, 1),
        ):
            if any(v < low for v in _as_tuple(value, 2, name)):
                raise ConfigError(f"Conv2d {name} must be >= {low}, got {value!r}")
        if not isinstance(padding, str) and any(v < 0 for v in _as_tuple(padding, 2, "padding")):
            raise ConfigError(f"Conv2d padding must be >= 0, got {padding!r}")
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            bias=bias,
            padding_mode=padding_mode,
            device=device,
            dtype=dtype,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() not in (3, 4) or x.shape[-3] != self.in_channels:
            raise ShapeError(
                f"Conv2d expects (N, {self.in_channels}, H, W) or ({self.in_channels}, H, W), "
                f"got shape {tuple(x.shape)}"
            )
        if not isinstance(self.padding, str):
            (kh, kw), (ph, pw), (dh, dw) = self.kernel_size, self.padding, self.dilation
            H, W = x.shape[-2:]
            if dh * (kh - 1) >= H + 2 * ph or dw * (kw - 1) >= W + 2 * pw:  # cheap test first
                conv_output_size((H, W), self.kernel_size, self.stride, self.padding, self.dilation)
        return super().forward(x)
