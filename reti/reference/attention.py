"""The notes' masked multi-head self-attention and position formulas, written plainly.

notes: Self-Attention, Positional Encoding. Scores are dot products of queries and keys, the
future (upper triangle) is set to -inf, a softmax turns each row into weights, and the output is
the weighted sum of the values; several heads run side by side, their outputs are concatenated
and projected. These functions are for reading and for tests: they prove that
``reti.layers.attention`` (which calls ``F.scaled_dot_product_attention``) and
``reti.layers.position`` compute the same numbers. Nothing trains through them.
"""

from __future__ import annotations

import math

import torch

from reti.errors import ConfigError, ShapeError


def masked_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """One head: A = softmax(Q K^T / sqrt(d) + bias, future = -inf); out = A V.

    notes: Self-Attention (Masked Self-Attention). Query i may look at key j only if j <= i.
    When there are fewer queries than keys (a KV cache), the queries are the *last* Tq
    positions, so query i sits at absolute position Tk - Tq + i.

    Shape: q (Tq, d), k (Tk, d), v (Tk, dv), bias (Tq, Tk) -> out (Tq, dv), weights (Tq, Tk).
    """
    if q.dim() != 2 or k.dim() != 2 or v.dim() != 2:
        raise ShapeError(f"q, k, v must be 2-D, got {tuple(q.shape)}, {tuple(k.shape)}")
    n_q, d = q.shape
    n_k = k.shape[0]
    if n_q > n_k:
        raise ShapeError(f"more queries ({n_q}) than keys ({n_k})")
    scores = q @ k.T / math.sqrt(d)
    if bias is not None:
        scores = scores + bias
    offset = n_k - n_q
    for i in range(n_q):
        for j in range(n_k):
            if j > offset + i:  # a future token: blocked
                scores[i, j] = -math.inf
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights


def multi_head_attention(
    x: torch.Tensor,
    w_qkv: torch.Tensor,
    b_qkv: torch.Tensor | None,
    w_proj: torch.Tensor,
    b_proj: torch.Tensor | None,
    n_head: int,
    bias: torch.Tensor | None = None,
) -> torch.Tensor:
    """Multi-head masked self-attention: concat_h(head_h(x)) W_o^T + b_o, one head at a time.

    notes: Self-Attention (Multi-Head Attention). Weights follow ``nn.Linear``: ``w_qkv`` is
    (3C, C) with the query, key and value rows stacked; ``w_proj`` is (C, C).

    Shape: x (T, C), bias (n_head, T, T) or None -> (T, C).
    """
    if x.dim() != 2:
        raise ShapeError(f"x must be (T, C), got shape {tuple(x.shape)}")
    width = x.shape[1]
    if width % n_head:
        raise ConfigError(f"width {width} must be divisible by n_head={n_head}")
    qkv = x @ w_qkv.T + (b_qkv if b_qkv is not None else 0)
    q, k, v = qkv.split(width, dim=1)
    hs = width // n_head
    outs = []
    for h in range(n_head):
        cols = slice(h * hs, (h + 1) * hs)
        head_bias = bias[h] if bias is not None else None
        out, _ = masked_attention(q[:, cols], k[:, cols], v[:, cols], head_bias)
        outs.append(out)
    return torch.cat(outs, dim=1) @ w_proj.T + (b_proj if b_proj is not None else 0)


def sinusoidal_positions(n_positions: int, d: int) -> torch.Tensor:
    """p(t)_i = sin(w_k t) if i = 2k, cos(w_k t) if i = 2k+1, with w_k = 1 / 10000^(2k/d).

    notes: Positional Encoding (Sinusoidal Embeddings). Row t is the vector added at position t.

    Shape: -> (n_positions, d), float64.
    """
    table = torch.zeros(n_positions, d, dtype=torch.float64)
    for t in range(n_positions):
        for i in range(d):
            k = i // 2
            w_k = 1.0 / 10000 ** (2 * k / d)
            table[t, i] = math.sin(w_k * t) if i % 2 == 0 else math.cos(w_k * t)
    return table


def alibi_slopes(n_head: int) -> list[float]:
    """ALiBi head slopes (Press et al. 2022): the geometric sequence 2^(-8/n), 2^(-16/n), ...

    For a head count that is not a power of two, the paper takes the slopes of the closest
    smaller power of two, m = 2^floor(log2 n), then every other slope of 2m, until n are had.
    """
    if n_head < 1:
        raise ConfigError(f"n_head must be >= 1, got {n_head}")

    def power_of_two(n: int) -> list[float]:
        start = 2.0 ** (-8.0 / n)
        return [start ** (i + 1) for i in range(n)]

    closest = 2 ** int(math.floor(math.log2(n_head)))
    slopes = power_of_two(closest)
    if closest < n_head:
        slopes += power_of_two(2 * closest)[0::2][: n_head - closest]
    return slopes


def alibi_bias(n_head: int, n_positions: int) -> torch.Tensor:
    """b_ij = -m_h (i - j): a penalty linear in the distance from the query back to the key.

    notes: Positional Encoding (ALiBi). Entries above the diagonal (the future) are left at
    m_h (j - i) too; the causal mask blocks them anyway.

    Shape: -> (n_head, n_positions, n_positions), float64.
    """
    slopes = alibi_slopes(n_head)
    bias = torch.zeros(n_head, n_positions, n_positions, dtype=torch.float64)
    for h, m in enumerate(slopes):
        for i in range(n_positions):
            for j in range(n_positions):
                bias[h, i, j] = -m * (i - j)
    return bias
