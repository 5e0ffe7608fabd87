"""A causal transformer for series: each time step is a token, attention masked to the past.

notes: Self-Attention (Masked Self-Attention), Positional Encoding, Causal Model. The same
pre-LN blocks and position schemes as the text GPT (``reti.layers.blocks``,
``reti.layers.position``); only the input differs: a linear embedding of the c features of a
step instead of a token table.

    h = W_in x_t (+ position)        # (B, T, C) -> (B, T, d_model)
    h = block_N(... block_1(h))      # causal: step t attends to steps <= t
    out = head(ln_f(h))              # option A, option B or classify (reti.models.tcn)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from reti.config import COUNT, FRACTION, check, one_of, option
from reti.errors import ConfigError
from reti.guards import check_model
from reti.layers.attention import causal_bias
from reti.layers.blocks import TransformerBlock
from reti.layers.position import POSITIONS, build_positions
from reti.models.tcn import SeriesHead, check_head

_AT_LEAST_1 = COUNT.says(">= 1")


@dataclass
class SeriesTransformerConfig:
    """Width, depth, heads and the position scheme; ``n_ctx`` only bounds learned positions."""

    in_channels: int = option(1, "Features per time step.", _AT_LEAST_1)
    out_features: int = option(1, "Outputs per forecast step, or classes.", _AT_LEAST_1)
    task: str = option("forecast", "forecast (option A), sequence (option B) or classify.")
    horizon: int = option(1, "Steps ahead to forecast.")
    d_model: int = option(64, "Width of the residual stream.", _AT_LEAST_1)
    n_layer: int = option(2, "Transformer blocks.", _AT_LEAST_1)
    n_head: int = option(4, "Attention heads per block.", _AT_LEAST_1)
    dropout: float = option(0.0, "Dropout probability.", FRACTION)
    pos: str = option("alibi", f"Positions: {', '.join(POSITIONS)}.", one_of(POSITIONS))
    n_ctx: int = option(1024, "Longest window learned positions allow.", _AT_LEAST_1)
    pool: str = option("last", "How the forecast head pools the steps: last, mean or max.")

    def __post_init__(self) -> None:
        check(self, "SeriesTransformer ")


class SeriesTransformer(nn.Module):
    """Causal masked-attention transformer over time steps with a series head.

    Shape: (B, T, in_channels) -> see ``SeriesHead``.
    Raises:
        ConfigError: bad widths, an unknown position scheme, or a window longer than ``n_ctx``
        with learned positions.
    """

    causal = True

    def __init__(self, config: SeriesTransformerConfig):
        super().__init__()
        c = config
        check_head(c.task, c.pool, c.horizon, self.causal, "transformer")
        check_model(lambda: SeriesTransformer(config), "SeriesTransformer")
        self.config = config
        self.embed = nn.Linear(c.in_channels, c.d_model)
        self.wpe, self.attn_bias = build_positions(c.pos, c.n_ctx, c.d_model, c.n_head)
        self.blocks = nn.ModuleList(
            TransformerBlock(c.d_model, c.n_head, dropout=c.dropout) for _ in range(c.n_layer)
        )
        self.ln_f = nn.LayerNorm(c.d_model)
        self.head = SeriesHead(c.d_model, c.out_features, c.task, c.horizon, c.pool)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Shape: (B, T, C) -> (B, T, d_model)."""
        t = x.shape[1]
        if self.config.pos == "learned" and t > self.config.n_ctx:
            raise ConfigError(
                f"window of {t} steps is longer than n_ctx={self.config.n_ctx} of learned "
                "positions; use pos='alibi' or 'sinusoidal' to go past it"
            )
        positions = torch.arange(t, device=x.device)
        h = self.embed(x)  # (B, T, C) -> (B, T, d_model)
        if self.wpe is not None:
            h = h + self.wpe(positions).to(h.dtype)
        bias = None
        if self.attn_bias is not None:  # (nh, T, T): distance bias plus the causal -inf
            bias = self.attn_bias(positions, positions) + causal_bias(t, t, x.device)
            bias = bias.to(h.dtype)
        for block in self.blocks:
            h = block(h, bias)
        return self.ln_f(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
