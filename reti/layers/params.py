"""The parameter calculator: fully connected vs locally connected vs convolutional (notes:
Fully Connected / Locally Connected / Convolutional Neural Net).

The notes' figures for a 1000x1000 image and 1M hidden units:
* fully connected: every hidden unit sees every pixel, 10^6 x 10^6 = 10^12 weights;
* locally connected, 10x10 patches: every hidden unit has its own 10x10 filter, 10^6 x 100 = 10^8;
* convolutional, 100 shared 10x10 filters: 100 x 100 = 10^4, whatever the image size.
The functions below give these counts for any sizes, with or without biases, and
``count_parameters`` counts a real model, so the two can be checked against each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from reti.errors import ConfigError
from reti.layers.conv import _as_tuple


@dataclass(frozen=True)
class LayerParams:
    """How many weights and biases one layer kind needs."""

    kind: str  # "fully connected", "locally connected", "convolutional"
    weights: int
    biases: int
    note: str = ""

    @property
    def total(self) -> int:
        return self.weights + self.biases


def _positive(name: str, value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{name} must be a positive int, got {value!r}")
    return value


def _image(image_size: int | tuple[int, int]) -> tuple[int, int]:
    H, W = _as_tuple(image_size, 2, "image_size")
    return _positive("image height", H), _positive("image width", W)


def fully_connected_params(
    image_size: int | tuple[int, int], hidden_units: int, in_channels: int = 1, bias: bool = False
) -> LayerParams:
    """Every hidden unit connected to every input value: ``H W C x hidden`` weights."""
    H, W = _image(image_size)
    hidden = _positive("hidden_units", hidden_units)
    inputs = H * W * _positive("in_channels", in_channels)
    return LayerParams(
        "fully connected",
        inputs * hidden,
        hidden if bias else 0,
        f"{hidden:,} units x {inputs:,} inputs",
    )


def locally_connected_params(
    image_size: int | tuple[int, int],
    hidden_units: int,
    kernel_size: int | tuple[int, int],
    in_channels: int = 1,
    bias: bool = False,
) -> LayerParams:
    """Every hidden unit sees only a ``k x k`` patch, with its own filter: ``hidden x k k C``."""
    H, W = _image(image_size)
    kh, kw = _as_tuple(kernel_size, 2, "kernel_size")
    _positive("kernel height", kh), _positive("kernel width", kw)
    if kh > H or kw > W:
        raise ConfigError(f"kernel_size {kh}x{kw} is larger than the image {H}x{W}")
    hidden = _positive("hidden_units", hidden_units)
    patch = kh * kw * _positive("in_channels", in_channels)
    return LayerParams(
        "locally connected",
        hidden * patch,
        hidden if bias else 0,
        f"{hidden:,} units x {patch:,} patch weights",
    )


def conv_params(
    kernel_size: int | tuple[int, int], filters: int, in_channels: int = 1, bias: bool = False
) -> LayerParams:
    """``filters`` filters of ``k x k x C`` shared over all positions: ``filters x k k C``.

    The count does not depend on the image size: that is the point of sharing (notes:
    Convolutional Neural Net).
    """
    kh, kw = _as_tuple(kernel_size, 2, "kernel_size")
    _positive("kernel height", kh), _positive("kernel width", kw)
    n = _positive("filters", filters)
    patch = kh * kw * _positive("in_channels", in_channels)
    how = f"{n:,} filters x {patch:,} weights"
    return LayerParams("convolutional", n * patch, n if bias else 0, how)


def compare_connectivity(
    image_size: int | tuple[int, int] = 1000,
    hidden_units: int = 1_000_000,
    kernel_size: int | tuple[int, int] = 10,
    filters: int = 100,
    in_channels: int = 1,
    bias: bool = False,
) -> list[LayerParams]:
    """The notes' FC / LC / CNN comparison for any sizes (defaults: the notes' own example)."""
    return [
        fully_connected_params(image_size, hidden_units, in_channels, bias),
        locally_connected_params(image_size, hidden_units, kernel_size, in_channels, bias),
        conv_params(kernel_size, filters, in_channels, bias),
    ]


def order_of_magnitude(n: int) -> str:
    """``10**12`` -> ``"10^12"``; other counts in scientific notation (``"2.5e+05"``)."""
    text = str(n)
    if text == "1" + "0" * (len(text) - 1):
        return f"10^{len(text) - 1}"
    return f"{n:.1e}"


def format_params_table(rows: list[LayerParams]) -> str:
    """A markdown table of ``rows``: kind, weights, biases, total, and how the count arises."""
    lines = [
        "| layer | weights | biases | total | order | how |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.kind} | {r.weights:,} | {r.biases:,} | {r.total:,} "
            f"| {order_of_magnitude(r.total)} | {r.note} |"
        )
    return "\n".join(lines)


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """The number of scalar parameters of ``model`` (``parameters()`` counts shared ones once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
