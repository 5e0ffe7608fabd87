"""Pooling (notes: Pooling, Pooling Layer, Max Pooling): smaller maps, robustness to position.

Pooling works on each activation map independently and has no learnable parameters. The window
poolers are PyTorch's own (``MaxPool2d``, ``AvgPool2d``: fused kernels, exact signatures); reti
adds checked functional helpers and global pooling, which squeezes each map to one number
(a whole-map average is what sits between the last conv and the classifier in ResNets).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn import AvgPool2d as AvgPool2d
from torch.nn import MaxPool2d as MaxPool2d

from reti.errors import ShapeError
from reti.layers.conv import conv_output_size


def _check_maps(x: torch.Tensor, what: str) -> None:
    if x.dim() < 3:
        raise ShapeError(
            f"{what} expects (N, C, ...) with at least one spatial dim, got {tuple(x.shape)}"
        )


def max_pool(
    x: torch.Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
) -> torch.Tensor:
    """Max pooling of (N, C, H, W) maps: the largest value in each window (224 -> 112 with 2/2).

    Raises:
        ShapeError: not a 4-D input, or a window larger than the padded map.
    """
    if x.dim() != 4:
        raise ShapeError(f"max_pool expects (N, C, H, W), got {tuple(x.shape)}")
    stride = kernel_size if stride is None else stride
    conv_output_size(tuple(x.shape[-2:]), kernel_size, stride, padding)
    return F.max_pool2d(x, kernel_size, stride, padding)


def avg_pool(
    x: torch.Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
) -> torch.Tensor:
    """Average pooling of (N, C, H, W) maps: the mean of each window, zero padding counted.

    Raises:
        ShapeError: not a 4-D input, or a window larger than the padded map.
    """
    if x.dim() != 4:
        raise ShapeError(f"avg_pool expects (N, C, H, W), got {tuple(x.shape)}")
    stride = kernel_size if stride is None else stride
    conv_output_size(tuple(x.shape[-2:]), kernel_size, stride, padding)
    return F.avg_pool2d(x, kernel_size, stride, padding)


def global_avg_pool(x: torch.Tensor, keepdim: bool = False) -> torch.Tensor:
    """Mean of each map over all spatial dims: (N, C, ...) -> (N, C) (or (N, C, 1, ...))."""
    _check_maps(x, "global_avg_pool")
    dims = tuple(range(2, x.dim()))
    return x.mean(dim=dims, keepdim=keepdim)


def global_max_pool(x: torch.Tensor, keepdim: bool = False) -> torch.Tensor:
    """Largest value of each map over all spatial dims: (N, C, ...) -> (N, C) (or keepdim)."""
    _check_maps(x, "global_max_pool")
    dims = tuple(range(2, x.dim()))
    return x.amax(dim=dims, keepdim=keepdim)


class GlobalAvgPool(nn.Module):
    """Global average pooling of 1-D or 2-D maps. Shape: (N, C, ...) -> (N, C)."""

    def __init__(self, keepdim: bool = False) -> None:
        super().__init__()
        self.keepdim = keepdim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return global_avg_pool(x, self.keepdim)

    def extra_repr(self) -> str:
        return f"keepdim={self.keepdim}"


class GlobalMaxPool(nn.Module):
    """Global max pooling of 1-D or 2-D maps. Shape: (N, C, ...) -> (N, C)."""

    def __init__(self, keepdim: bool = False) -> None:
        super().__init__()
        self.keepdim = keepdim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return global_max_pool(x, self.keepdim)

    def extra_repr(self) -> str:
        return f"keepdim={self.keepdim}"


# The names vision code tends to reach for; the modules work for any number of spatial dims.
GlobalAvgPool2d = GlobalAvgPool
GlobalMaxPool2d = GlobalMaxPool
