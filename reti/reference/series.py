"""The notes' 1D and causal convolutions written plainly, one output step at a time.

notes: Convoluzioni 1D. A series is a matrix X of shape (n, c): one row per time step, one
column per feature. These loops are for reading and for tests (they prove the fast layers in
``reti.layers.causal`` compute the same thing); nothing trains through them.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from reti.errors import ShapeError

Activation = Callable[[torch.Tensor], torch.Tensor]


def _identity(h: torch.Tensor) -> torch.Tensor:
    return h


def _check(x: torch.Tensor, weight: torch.Tensor) -> None:
    if x.dim() != 2:
        raise ShapeError(f"series x must be (n, c), got shape {tuple(x.shape)}")
    if weight.dim() != 3 or weight.shape[1] != x.shape[1]:
        raise ShapeError(
            f"weight must be (taps, c={x.shape[1]}, filters), got shape {tuple(weight.shape)}"
        )


def conv1d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    phi: Activation = _identity,
) -> torch.Tensor:
    """Centred 1D convolution: H_i = phi(sum_{j=-k..k} sum_c W_{j+k,c} X_{i+j,c}).

    notes: Convoluzioni 1D. Steps outside the series count as zero ("same" padding).

    Shape: x (n, c), weight (2k+1, c, filters), bias (filters,) -> H (n, filters).
    """
    _check(x, weight)
    taps = weight.shape[0]
    if taps % 2 == 0:
        raise ShapeError(f"centred conv1d needs an odd number of taps 2k+1, got {taps}")
    k = taps // 2
    n = x.shape[0]
    rows = []
    for i in range(n):
        h = torch.zeros(weight.shape[2], dtype=x.dtype)
        for j in range(-k, k + 1):
            if 0 <= i + j < n:
                for c in range(x.shape[1]):
                    h = h + weight[j + k, c] * x[i + j, c]
        rows.append(h if bias is None else h + bias)
    return phi(torch.stack(rows))


def causal_conv1d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    dilation: int = 1,
    phi: Activation = _identity,
) -> torch.Tensor:
    """Causal 1D convolution: H_i = phi(sum_{j=0..k} sum_c W_{j,c} X_{i-j*d,c}).

    notes: Convoluzioni 1D, Causal Convolution (the notes write d = 1). The output at step i
    reads only steps <= i; steps before the start count as zero.

    Shape: x (n, c), weight (k+1, c, filters) with W_0 the weight of the current step,
    bias (filters,) -> H (n, filters).
    """
    _check(x, weight)
    n = x.shape[0]
    rows = []
    for i in range(n):
        h = torch.zeros(weight.shape[2], dtype=x.dtype)
        for j in range(weight.shape[0]):
            if i - j * dilation >= 0:
                for c in range(x.shape[1]):
                    h = h + weight[j, c] * x[i - j * dilation, c]
        rows.append(h if bias is None else h + bias)
    return phi(torch.stack(rows))
