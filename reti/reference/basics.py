"""The notes' first formulas written plainly, for readers: nothing trains through this file.

Each function spells out one formula of the notes with loops and indexing, so that a reader can
follow it line by line; ``tests/test_reference_basics.py`` proves each equal (values and
gradients) to the fast path that reti actually trains with (torch kernels and ``reti.layers``).

Conventions follow PyTorch, so that the two can be compared number for number:
* batch and layer norm divide by ``sqrt(var + eps)`` (the notes write ``sqrt(var) + eps``; with
  the usual tiny ``eps`` the two differ far below any visible effect);
* variances used for normalizing are biased (``1/n``), as in the notes' standard scaling.
"""

from __future__ import annotations

import torch

from reti.errors import ConfigError, ShapeError


def _pair(value: int | tuple[int, int], name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2:
        raise ConfigError(f"{name} must be an int or a pair of ints, got {value!r}")
    return pair[0], pair[1]


def pad2d(x: torch.Tensor, padding: tuple[int, int], value: float = 0.0) -> torch.Tensor:
    """Surround each (H, W) map with ``padding`` rows/columns of ``value``.

    Shape: (N, C, H, W) -> (N, C, H + 2 ph, W + 2 pw).
    """
    ph, pw = padding
    N, C, H, W = x.shape
    out = x.new_full((N, C, H + 2 * ph, W + 2 * pw), value)
    out[:, :, ph : ph + H, pw : pw + W] = x
    return out


def patches2d(
    x: torch.Tensor,
    kernel_size: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
) -> torch.Tensor:
    """Every (kh, kw) window of an already padded ``x``, gathered by plain slicing.

    Offset (a, b) of the kernel sees, for each output position (i, j), the input pixel
    ``x[..., i * sh + a * dh, j * sw + b * dw]``: one strided slice per offset.

    Shape: (N, C, H, W) -> (N, C, kh, kw, Hout, Wout).
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
    H, W = x.shape[-2:]
    Hout = (H - dh * (kh - 1) - 1) // sh + 1
    Wout = (W - dw * (kw - 1) - 1) // sw + 1
    if Hout < 1 or Wout < 1:
        raise ShapeError(
            f"kernel {kh}x{kw} (dilation {dh}x{dw}) does not fit the padded input {H}x{W}"
        )
    rows = []
    for a in range(kh):
        cols = []
        for b in range(kw):
            top, left = a * dh, b * dw
            bottom, right = top + sh * (Hout - 1) + 1, left + sw * (Wout - 1) + 1
            cols.append(x[..., top:bottom:sh, left:right:sw])  # (N, C, Hout, Wout)
        rows.append(torch.stack(cols, dim=2))  # (N, C, kw, Hout, Wout)
    return torch.stack(rows, dim=2)  # (N, C, kh, kw, Hout, Wout)


def conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> torch.Tensor:
    """Convolution as patches x weights (notes: CONV layer in Pytorch).

    ``out(N, Cout) = bias(Cout) + sum_k weight(Cout, k) * input(N, k)``: every window of the
    input becomes one row of a patch matrix, every filter one column of a weight matrix, and the
    output map is their product. With ``groups`` the channels split into independent groups.

    Shape: x (N, C, H, W), weight (Cout, C / groups, kh, kw) -> (N, Cout, Hout, Wout).
    """
    N, C, _, _ = x.shape
    Cout, Cg, kh, kw = weight.shape
    if C % groups or Cout % groups or Cg != C // groups:
        raise ShapeError(
            f"conv2d: {C} input channels, weight {tuple(weight.shape)} and groups={groups} "
            "do not fit (need C = groups * weight.shape[1], Cout divisible by groups)"
        )
    xp = pad2d(x, _pair(padding, "padding"))
    cols = patches2d(xp, (kh, kw), _pair(stride, "stride"), _pair(dilation, "dilation"))
    Hout, Wout = cols.shape[-2:]
    G, Coutg = groups, Cout // groups
    # (N, C, kh, kw, Hout, Wout) -> (N, G, Hout*Wout, Cg*kh*kw): one row per window and group
    cols = cols.reshape(N, G, Cg * kh * kw, Hout * Wout).transpose(2, 3)
    # (Cout, Cg, kh, kw) -> (G, Cg*kh*kw, Coutg): one column per filter
    w = weight.reshape(G, Coutg, Cg * kh * kw).transpose(1, 2)
    out = cols @ w  # (N, G, Hout*Wout, Coutg)
    out = out.permute(0, 1, 3, 2).reshape(N, Cout, Hout, Wout)
    if bias is not None:
        out = out + bias.view(1, Cout, 1, 1)
    return out


def max_pool2d(
    x: torch.Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
) -> torch.Tensor:
    """Max pooling (notes: Max Pooling): the largest value in each window; pads with -inf.

    Shape: (N, C, H, W) -> (N, C, Hout, Wout); ``stride`` defaults to ``kernel_size``.
    """
    k = _pair(kernel_size, "kernel_size")
    s = k if stride is None else _pair(stride, "stride")
    xp = pad2d(x, _pair(padding, "padding"), value=float("-inf"))
    cols = patches2d(xp, k, s, (1, 1))  # (N, C, kh, kw, Hout, Wout)
    return cols.flatten(2, 3).amax(dim=2)


def avg_pool2d(
    x: torch.Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
) -> torch.Tensor:
    """Average pooling (notes: Pooling): the mean of each window, zero padding counted.

    Shape: (N, C, H, W) -> (N, C, Hout, Wout); ``stride`` defaults to ``kernel_size``.
    """
    k = _pair(kernel_size, "kernel_size")
    s = k if stride is None else _pair(stride, "stride")
    xp = pad2d(x, _pair(padding, "padding"), value=0.0)
    cols = patches2d(xp, k, s, (1, 1))
    return cols.flatten(2, 3).mean(dim=2)


def dropout_inverted(x: torch.Tensor, mask: torch.Tensor, p: float) -> torch.Tensor:
    """Inverted dropout in training (notes: Dropout): ``h = (r * x) / (1 - p)``, r ~ B(1 - p).

    At inference inverted dropout is the identity: the scaling already happened in training.
    """
    return (mask * x) / (1.0 - p)


def dropout_standard(x: torch.Tensor, mask: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Standard dropout (notes: Dropout): ``h = r * x`` in training, ``(1 - p) x`` at inference."""
    if training:
        return mask * x
    return (1.0 - p) * x


def _feature_dims(x: torch.Tensor) -> list[int]:
    """The dims batch norm averages over: all but the feature/channel dim 1."""
    if x.dim() < 2:
        raise ShapeError(f"batch norm needs (N, F) or (N, C, ...), got shape {tuple(x.shape)}")
    return [0] + list(range(2, x.dim()))


def batch_stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-feature (N, F) or per-channel (N, C, H, W) mean and biased variance of a batch.

    ``mu_j = (1/n) sum_i H_ij``, ``var_j = (1/n) sum_i (H_ij - mu_j)^2`` (notes: Normalizzazione).
    """
    dims = _feature_dims(x)
    mean = x.mean(dim=dims)
    centred = x - mean.view(_channel_view(x))
    return mean, (centred * centred).mean(dim=dims)


def _channel_view(x: torch.Tensor) -> list[int]:
    return [1, x.shape[1]] + [1] * (x.dim() - 2)


def batch_norm(
    x: torch.Tensor,
    weight: torch.Tensor | None = None,
    bias: torch.Tensor | None = None,
    running_mean: torch.Tensor | None = None,
    running_var: torch.Tensor | None = None,
    training: bool = True,
    eps: float = 1e-5,
) -> torch.Tensor:
    """Batch normalization (notes: Batch Normalization): ``BN(H) = alpha H' + beta``.

    ``H' = (H - mu) / sqrt(var + eps)`` with the batch's own statistics in training, and with
    fixed statistics (moving average or post-training) at inference. Per feature for (N, F),
    per channel for (N, C, H, W) (notes: BN Convoluzioni).
    """
    if training:
        mean, var = batch_stats(x)
    else:
        if running_mean is None or running_var is None:
            raise ConfigError("batch_norm at inference needs running_mean and running_var")
        mean, var = running_mean, running_var
    view = _channel_view(x)
    h = (x - mean.view(view)) / torch.sqrt(var.view(view) + eps)
    if weight is not None:
        h = h * weight.view(view)
    if bias is not None:
        h = h + bias.view(view)
    return h


def layer_norm(
    x: torch.Tensor,
    normalized_dims: int = 1,
    weight: torch.Tensor | None = None,
    bias: torch.Tensor | None = None,
    eps: float = 1e-5,
) -> torch.Tensor:
    """Layer normalization (notes: Layer Normalization): normalize each sample across its features.

    Statistics come from the last ``normalized_dims`` dims of one sample only, never from the
    batch, so a batch of one works exactly like a batch of many.
    """
    dims = list(range(x.dim() - normalized_dims, x.dim()))
    mean = x.mean(dim=dims, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
    h = (x - mean) / torch.sqrt(var + eps)
    if weight is not None:
        h = h * weight
    if bias is not None:
        h = h + bias
    return h


def standard_scale(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Standard scaling (notes: Standard Scaling): ``X' = (X - mu) / sqrt(var)`` per column.

    Returns ``(X', mu, sigma)`` for ``x`` of shape (N, F); ``mu_j = (1/n) sum_i X_ij`` and
    ``var_j = (1/n) sum_i (X_ij - mu_j)^2``, exactly as in the notes.
    """
    n = x.shape[0]
    mu = x.sum(dim=0) / n
    var = ((x - mu) ** 2).sum(dim=0) / n
    sigma = torch.sqrt(var)
    return (x - mu) / sigma, mu, sigma


def softmax(logits: torch.Tensor, temperature: float = 1.0, dim: int = -1) -> torch.Tensor:
    """Softmax with temperature (notes: Temperature): ``p_i = exp(z_i / T) / sum_j exp(z_j / T)``.

    Low ``T`` sharpens towards the argmax, high ``T`` flattens towards uniform. The max is
    subtracted first; it cancels in the ratio and keeps ``exp`` from overflowing.
    """
    if not temperature > 0:
        raise ConfigError(f"temperature must be > 0, got {temperature!r}")
    z = logits / temperature
    z = z - z.amax(dim=dim, keepdim=True)
    e = torch.exp(z)
    return e / e.sum(dim=dim, keepdim=True)
