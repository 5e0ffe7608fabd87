"""The transformer block: pre-LN self-attention and MLP, each wrapped in a residual connection.

notes: Self-Attention (MLPs, Transformer Block). "Layernorm applicato prima di MHA e MLP":

    x = x + attn(ln1(x))
    x = x + mlp(ln2(x))

The block repeats N times in :class:`reti.models.gpt.GPT`.
"""

from __future__ import annotations

import torch
from torch import nn

from reti.layers.attention import CausalSelfAttention, KVCache
from reti.layers.dropout import Dropout


def make_dropout(p: float, mode: str = "inverted") -> nn.Module:
    """reti's ``Dropout(p, mode)`` (notes: Dropout); identity when p == 0."""
    if p == 0.0:
        return nn.Identity()
    return Dropout(p, mode=mode)


class FeedForward(nn.Module):
    """The block's MLP: Linear(C, 4C) -> GELU -> Linear(4C, C) -> dropout.

    notes: Self-Attention (MLPs): the attention outputs are processed by a perceptron.

    Shape: (B, T, C) -> (B, T, C).
    """

    def __init__(
        self,
        d_model: int,
        hidden: int,
        dropout: float = 0.0,
        dropout_mode: str = "inverted",
        bias: bool = True,
    ):
        super().__init__()
        self.fc = nn.Linear(d_model, hidden, bias=bias)
        self.act = nn.GELU()
        self.out = nn.Linear(hidden, d_model, bias=bias)
        self.drop = make_dropout(dropout, dropout_mode)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.out(self.act(self.fc(x))))


class TransformerBlock(nn.Module):
    """Pre-LN block: x = x + attn(ln1(x)); x = x + mlp(ln2(x)).

    Args:
        mlp_ratio: hidden width of the MLP over d_model (GPT uses 4).
        dropout: on the attention weights, the attention output and the MLP output.
        dropout_mode: "inverted" (scale by 1/(1-p) in training) or "standard" (notes: Dropout).

    Shape: x (B, T, C), bias (nh, T, T_all) -> (B, T, C).
    """

    def __init__(
        self,
        d_model: int,
        n_head: int,
        mlp_ratio: int = 4,
        dropout: float = 0.0,
        dropout_mode: str = "inverted",
        bias: bool = True,
    ):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model, bias=bias)
        self.attn = CausalSelfAttention(d_model, n_head, dropout=dropout, bias=bias)
        self.drop = make_dropout(dropout, dropout_mode)
        self.ln2 = nn.LayerNorm(d_model, bias=bias)
        self.mlp = FeedForward(d_model, mlp_ratio * d_model, dropout, dropout_mode, bias)

    def forward(
        self, x: torch.Tensor, bias: torch.Tensor | None = None, cache: KVCache | None = None
    ) -> torch.Tensor:
        x = x + self.drop(self.attn(self.ln1(x), bias, cache))
        x = x + self.mlp(self.ln2(x))
        return x

    def attention_weights(
        self, x: torch.Tensor, bias: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Like forward, also returning this block's attention weights (B, nh, T, T)."""
        h, weights = self.attn(self.ln1(x), bias, return_weights=True)
        x = x + self.drop(h)
        return x + self.mlp(self.ln2(x)), weights
