"""A GPT-style language model: token embedding, positions, N pre-LN blocks, projection to logits.

notes: Self-Attention (Transformer Block, "il blocco si ripete Nx volte"), Text Embeddings,
Positional Encoding (Output del Transformer: one logit per vocabulary entry).

    h = wte[idx] (+ positions)    # learned / sinusoidal (wte x sqrt(C)) at the input; none for
                                  # alibi, relative
    h = block_n(... block_1(h))   # each: h = h + attn(ln1(h)); h = h + mlp(ln2(h))
    logits = ln_f(h) W_vocab^T    # W_vocab may be tied to wte (GPT-2 does)

Shapes follow nanoGPT: idx (B, T) int64 -> logits (B, T, V).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from reti.config import BOOL, COUNT, FRACTION, check, one_of, option
from reti.errors import ConfigError, ShapeError
from reti.guards import check_model
from reti.layers.attention import KVCache, causal_bias
from reti.layers.blocks import TransformerBlock, make_dropout
from reti.layers.dropout import MODES
from reti.layers.position import EXTRAPOLATES, POSITIONS, build_positions
from reti.models.gpt_decode import Decoder

_POSITIVE_INT = COUNT.says("a positive integer")


@dataclass
class GPTConfig:
    """Sizes and options of a :class:`GPT`; ``asdict(config)`` goes into every checkpoint.

    ``n_ctx`` is the training context; ``pos`` picks the position scheme (see
    ``reti.layers.position``); ``rel_buckets`` / ``rel_max_distance`` shape the relative bias.
    """

    vocab_size: int = option(65, "Token ids the model reads and scores.", _POSITIVE_INT)
    n_ctx: int = option(64, "Training context length in tokens.", _POSITIVE_INT)
    n_layer: int = option(4, "Transformer blocks.", _POSITIVE_INT)
    n_head: int = option(4, "Attention heads per block.", _POSITIVE_INT)
    d_model: int = option(128, "Width of the residual stream.", _POSITIVE_INT)
    mlp_ratio: int = option(4, "Hidden width of each block's MLP, in d_model.", _POSITIVE_INT)
    dropout: float = option(0.0, "Dropout probability.", FRACTION)
    dropout_mode: str = option(
        "inverted", "Dropout scaling (notes: Dropout).", one_of(MODES, "'inverted' or 'standard'")
    )
    pos: str = option("learned", f"Positions: {', '.join(POSITIONS)}.", one_of(POSITIONS))
    tie_weights: bool = option(True, "Share the token embedding with the output layer.", BOOL)
    bias: bool = option(True, "Biases in the linear layers and norms.", BOOL)
    rel_buckets: int = option(32, "Buckets of the relative position bias.", COUNT)
    rel_max_distance: int = option(128, "Distance of the last relative bucket.", COUNT)

    def __post_init__(self) -> None:
        check(self, "GPTConfig ")
        if self.d_model % self.n_head:
            raise ConfigError(
                f"GPTConfig d_model={self.d_model} must be divisible by n_head={self.n_head}"
            )

    @property
    def extrapolates(self) -> bool:
        """Whether the position scheme is defined past ``n_ctx``."""
        return EXTRAPOLATES[self.pos]


class GPT(nn.Module):
    """Decoder-only transformer language model (notes: Self-Attention ... Temperature)."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        check_model(lambda: GPT(config), "GPT")  # its weights must fit before they are made
        self.config = c = config
        self.wte = nn.Embedding(c.vocab_size, c.d_model)
        self.wpe, self.attn_bias = build_positions(
            c.pos, c.n_ctx, c.d_model, c.n_head, c.rel_buckets, c.rel_max_distance
        )
        self.drop = make_dropout(c.dropout, c.dropout_mode)
        self.blocks = nn.ModuleList(
            TransformerBlock(c.d_model, c.n_head, c.mlp_ratio, c.dropout, c.dropout_mode, c.bias)
            for _ in range(c.n_layer)
        )
        self.ln_f = nn.LayerNorm(c.d_model, bias=c.bias)
        self.head = nn.Linear(c.d_model, c.vocab_size, bias=False)
        self.apply(self._init)
        for name, p in self.named_parameters():
            if name.endswith(("attn.proj.weight", "mlp.out.weight")):
                # GPT-2: residual projections scaled by 1/sqrt(2 N) so the stream's variance holds
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * c.n_layer))
        if c.tie_weights:
            self.head.weight = self.wte.weight

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, 0.0, 0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def new_cache(self, keep: int | None = None) -> list[KVCache]:
        """An empty KV cache: one :class:`KVCache` per block. With ``keep`` a rolling cache that
        holds the last ``keep`` tokens: the positions are then counted from the oldest kept
        token, which is exact only when they enter as distances (alibi, relative).

        Raises:
            ConfigError: ``keep`` with learned or sinusoidal positions.
        """
        if keep is not None and self.attn_bias is None:
            raise ConfigError(
                f"a rolling KV cache needs positions that depend only on distances "
                f"(pos='alibi' or 'relative'), got pos={self.config.pos!r}"
            )
        return [KVCache(keep) for _ in self.blocks]

    def decoder(self) -> Decoder:
        """A :class:`reti.models.gpt_decode.Decoder`: one token at a time with a KV cache,
        the same logits as ``forward`` without the per-module overhead (for generation)."""
        return Decoder(self)

    def _embed(self, idx: torch.Tensor, start: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        if idx.dim() != 2:
            raise ShapeError(f"GPT input must be token ids (B, T), got shape {tuple(idx.shape)}")
        n_new = idx.shape[1]
        positions = torch.arange(start, start + n_new, device=idx.device)
        x = self.wte(idx)
        if self.config.pos == "sinusoidal":
            # Vaswani et al. 2017, 3.4: embeddings times sqrt(C), else the unit-size sinusoids
            # drown the 0.02-sized token vectors (measured: no learning in 150 steps without it)
            x = x * math.sqrt(self.config.d_model)
        if self.wpe is not None:
            x = x + self.wpe(positions).to(x.dtype)  # (B, T, C) + (T, C)
        bias = None
        if self.attn_bias is not None:
            keys = torch.arange(0, start + n_new, device=idx.device)
            bias = self.attn_bias(positions, keys)
            if n_new > 1:  # one new token sees every key: nothing to mask
                bias = bias + causal_bias(n_new, len(keys), idx.device)
            bias = bias.to(x.dtype)  # (nh, T, T_all), shared by every block
        return self.drop(x), bias

    def forward(
        self,
        idx: torch.Tensor,
        targets: torch.Tensor | None = None,
        cache: list[KVCache] | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Logits (B, T, V); with ``targets`` (B, T) also the mean cross-entropy.

        With a ``cache`` (from :meth:`new_cache`) ``idx`` holds only the new tokens, which sit
        after the ``len(cache[0])`` tokens already seen.
        """
        start = len(cache[0]) if cache is not None else 0
        x, bias = self._embed(idx, start)
        for i, block in enumerate(self.blocks):
            x = block(x, bias, cache[i] if cache is not None else None)
        logits = self.head(self.ln_f(x))
        if targets is None:
            return logits
        return logits, F.cross_entropy(logits.flatten(0, 1), targets.flatten())

    @torch.no_grad()
    def attention_maps(self, idx: torch.Tensor) -> list[torch.Tensor]:
        """The attention weights of every block for a prompt: a list of (B, nh, T, T)."""
        x, bias = self._embed(idx, 0)
        maps = []
        for block in self.blocks:
            x, weights = block.attention_weights(x, bias)
            maps.append(weights)
        return maps

    def num_params(self, non_embedding: bool = True) -> int:
        """Parameter count; by default without the input embeddings (as GPT-2 counts)."""
        n = sum(p.numel() for p in self.parameters())
        if non_embedding:
            if not self.config.tie_weights:
                n -= self.wte.weight.numel()
            if isinstance(self.wpe, nn.Module):
                n -= sum(p.numel() for p in self.wpe.parameters())
        return n

    def flops_per_sample(self, seq_len: int | None = None) -> float:
        """Training FLOPs (forward + backward) for one sequence of ``seq_len`` (default n_ctx)
        tokens: 6 N per token for the matmul weights (N counts the vocabulary projection) plus
        12 L C T per token for the attention scores and weighted sums (PaLM appendix B, as in
        nanoGPT). Divide by the measured peak FLOP/s to get the MFU."""
        c = self.config
        t = seq_len or c.n_ctx
        n_matmul = sum(m.weight.numel() for m in self.modules() if isinstance(m, nn.Linear))
        per_token = 6 * n_matmul + 12 * c.n_layer * c.d_model * t
        return float(per_token * t)
