"""Multi-head causal self-attention with an optional score bias and a per-layer KV cache.

notes: Self-Attention. Each token becomes a query, a key and a value (one ``nn.Linear`` makes
all three); scores Q K^T / sqrt(hs) plus an optional position bias (ALiBi, relative), the future
(upper triangle) at -inf, a softmax, a weighted sum of the values; the heads are concatenated and
projected. The fast path is ``F.scaled_dot_product_attention``; ``reti.reference.attention``
writes the same formula plainly, and the tests prove the two equal.

During generation a :class:`KVCache` keeps the keys and values of the tokens already seen, so
each step feeds only the new token: the cache changes what is fed back, not the loop. A rolling
cache (``keep``) forgets the oldest keys, so each new token sees at most ``keep + 1`` of them
(sliding-window attention; only meaningful for position biases that depend on distances alone).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from reti.errors import ConfigError, ShapeError


class KVCache:
    """Keys and values of one attention layer for the tokens seen so far; with ``keep``, only
    the last ``keep`` of them are kept for the next step (a rolling cache).

    The steps are written into a buffer with room to spare (no concatenation per token: a
    new buffer only when it is full, doubling, or for a rolling cache once per ``keep`` steps).

    Shape: k, v (B, nh, T_seen, hs).
    """

    def __init__(self, keep: int | None = None) -> None:
        if keep is not None and keep < 0:
            raise ConfigError(f"KVCache keep must be >= 0 or None, got {keep}")
        self.keep = keep
        self._kv: torch.Tensor | None = None  # the buffer (2, B, nh, capacity, hs): k, v
        self._lo = self._hi = 0  # the kept steps are _kv[:, :, :, _lo:_hi]

    def __len__(self) -> int:
        return self._hi - self._lo

    @property
    def k(self) -> torch.Tensor | None:
        return None if self._kv is None else self._kv[0, :, :, self._lo : self._hi]

    @property
    def v(self) -> torch.Tensor | None:
        return None if self._kv is None else self._kv[1, :, :, self._lo : self._hi]

    def _make_room(self, kv: torch.Tensor, n_new: int) -> None:
        kept = len(self)
        room = 2 * (self.keep + n_new) if self.keep is not None else 2 * (kept + n_new)
        buffer = kv.new_empty((*kv.shape[:3], max(room, 16), kv.shape[4]))
        if kept:
            buffer[:, :, :, :kept] = self._kv[:, :, :, self._lo : self._hi]
        self._kv, self._lo, self._hi = buffer, 0, kept

    def append(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Add the new steps' keys and values; return all of them (old first). A rolling
        cache then forgets all but the last ``keep`` (the returned ones are still complete)."""
        return self.append_kv(torch.stack((k, v)))

    def append_kv(self, kv: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``append`` for keys and values stacked as (2, B, nh, T_new, hs): one copy."""
        n_new = kv.shape[3]
        if self._kv is None or self._hi + n_new > self._kv.shape[3]:
            self._make_room(kv, n_new)
        lo, hi = self._lo, self._hi + n_new
        self._kv[:, :, :, self._hi : hi] = kv
        self._hi = hi
        if self.keep is not None:
            self._lo = max(lo, hi - self.keep)
        return self._kv[:, :, :, lo:hi].unbind(0)  # 2 x (B, nh, T_seen + T_new, hs)


def causal_bias(n_q: int, n_k: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """0 where query i may see key j (j <= i + n_k - n_q), -inf on the future.

    The queries are the last ``n_q`` of ``n_k`` positions (as with a KV cache).

    Shape: -> (n_q, n_k).
    """
    i = torch.arange(n_q, device=device)[:, None] + (n_k - n_q)
    j = torch.arange(n_k, device=device)[None, :]
    zero = torch.zeros((), device=device, dtype=dtype)
    return torch.where(j <= i, zero, torch.tensor(-math.inf, device=device, dtype=dtype))


class CausalSelfAttention(nn.Module):
    """Masked multi-head self-attention: softmax(Q K^T / sqrt(hs) + bias + mask) V, heads
    concatenated, then a linear projection.

    notes: Self-Attention (Masked Self-Attention, Multi-Head Attention).

    Args:
        d_model: the width C; n_head heads of size hs = C / n_head.
        dropout: dropout on the attention weights while training.

    Shape: x (B, T, C), bias (nh, T, T_all) or (B, nh, T, T_all) -> (B, T, C).
    """

    def __init__(self, d_model: int, n_head: int, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        if n_head < 1 or d_model % n_head:
            raise ConfigError(
                f"d_model must be divisible by n_head >= 1, got d_model={d_model}, n_head={n_head}"
            )
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"attention dropout must be in [0, 1), got {dropout}")
        self.n_head, self.head_size = n_head, d_model // n_head
        self.dropout = dropout
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=bias)
        self.proj = nn.Linear(d_model, d_model, bias=bias)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        qkv = self.qkv(x).unflatten(-1, (3, self.n_head, self.head_size))  # (B, T, 3, nh, hs)
        return qkv.permute(2, 0, 3, 1, 4)  # -> (3, B, nh, T, hs): q, k, v

    def forward(
        self,
        x: torch.Tensor,
        bias: torch.Tensor | None = None,
        cache: KVCache | None = None,
        return_weights: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """``bias`` holds the position bias of the scores and must already carry the causal
        -inf (see :func:`causal_bias`); without it the plain causal mask is used.

        With ``return_weights`` the scores go through the plain formula and the attention
        weights (B, nh, T, T_all) come back too (for plots).
        """
        if x.dim() != 3:
            raise ShapeError(f"attention input must be (B, T, C), got shape {tuple(x.shape)}")
        n_new = x.shape[1]
        qkv = self._heads(x)
        q = qkv[0]
        k, v = qkv[1:].unbind(0) if cache is None else cache.append_kv(qkv[1:])
        n_all = k.shape[2]
        p = self.dropout if self.training else 0.0
        # One query with a bias (a generation step of alibi / relative): the plain formula,
        # measured faster there than the kernel's general path on the CPU.
        if return_weights or (bias is not None and n_new == 1 and p == 0.0):
            if bias is None:
                bias = causal_bias(n_new, n_all, x.device, q.dtype)
            weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(self.head_size) + bias, -1)
            out = (F.dropout(weights, p, self.training) if p else weights) @ v
        elif bias is None:
            # One new token sees every key; otherwise PyTorch's causal kernel (Tq == Tk here).
            causal = n_new > 1
            if causal and n_new != n_all:
                bias = causal_bias(n_new, n_all, x.device, q.dtype)
                causal = False
            out = F.scaled_dot_product_attention(
                q, k, v, attn_mask=bias, dropout_p=p, is_causal=causal
            )
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias.to(q.dtype), dropout_p=p)
        out = out.transpose(1, 2).flatten(2)  # (B, nh, T, hs) -> (B, T, C)
        out = self.proj(out)
        return (out, weights) if return_weights else out
