"""Autoregressive generation: a short loop over logits, with a KV cache and the usual samplers.

notes: Autoregressive Generation (start from a prompt, predict the next step, append it, repeat)
and Positional Encoding (Temperature: T = 1 changes nothing, T < 1 sharpens the distribution).

Samplers, in the order they apply to the last logits: greedy (argmax: its own option, not a
temperature of 0), logits / temperature, top-k (keep the k largest), top-p (keep the smallest set
whose probability reaches p), then one draw from an explicit ``torch.Generator``.

The KV cache changes what is fed back, not the loop: with it each step feeds only the newest
token and the model reuses the keys and values it kept; without it each step feeds the whole
window again. Both give the same tokens (the tests prove it for every position scheme).

Long sequences. The model sees at most ``window`` tokens (default: its ``n_ctx`` for learned
positions, unlimited for the schemes that extrapolate, which then attend to the whole history).
A prompt longer than ``n_ctx`` with learned positions is an error (they cannot extrapolate).
Once a window is full it slides, and the cached path feeds the new window again from position 0
(a fresh cache): exactly what a full recompute of the window computes. Dropping only the oldest
cached keys would not be exact, even for ALiBi and relative bias: in the layers above the first,
the kept keys were computed from hidden states that had seen the dropped tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from reti.errors import ConfigError, ShapeError
from reti.runtime import make_generator


@dataclass
class SamplingConfig:
    """How to pick each next token. ``temperature`` > 0, ``top_p`` in (0, 1], ``top_k`` >= 1;
    ``stop`` are token ids that end the generation (not included in the output)."""

    max_tokens: int = 100
    greedy: bool = False
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    stop: tuple[int, ...] = ()
    seed: int = 0
    use_cache: bool = True
    window: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.max_tokens, int) or self.max_tokens < 0:
            raise ConfigError(f"max_tokens must be an integer >= 0, got {self.max_tokens!r}")
        if not self.temperature > 0:  # also catches NaN
            raise ConfigError(
                f"temperature must be > 0, got {self.temperature}; for the most likely token "
                "use greedy=True (--greedy)"
            )
        if self.top_k is not None and self.top_k < 1:
            raise ConfigError(f"top_k must be >= 1, got {self.top_k}")
        if self.top_p is not None and not 0.0 < self.top_p <= 1.0:
            raise ConfigError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.window is not None and self.window < 1:
            raise ConfigError(f"window must be >= 1, got {self.window}")
        self.stop = tuple(int(t) for t in self.stop)


def filter_logits(
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
) -> torch.Tensor:
    """logits / T, then -inf outside the top k and outside the top-p nucleus.

    Shape: (..., V) -> (..., V).
    """
    logits = logits / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
        probs = torch.softmax(sorted_logits, dim=-1)
        # drop a token when the tokens before it already reach p (the first one always stays)
        drop = probs.cumsum(-1) - probs >= top_p
        drop = drop.scatter(-1, order, drop)  # back to vocabulary order
        logits = logits.masked_fill(drop, float("-inf"))
    return logits


def next_token(logits: torch.Tensor, cfg: SamplingConfig, generator: torch.Generator) -> int:
    """Pick one token from the last logits (V,) by ``cfg``."""
    if cfg.greedy:
        return int(logits.argmax())
    probs = torch.softmax(filter_logits(logits.float(), cfg.temperature, cfg.top_k, cfg.top_p), -1)
    return int(torch.multinomial(probs.to(generator.device), 1, generator=generator))


def _window(model: nn.Module, cfg: SamplingConfig, n_prompt: int) -> int | None:
    config = model.config
    if not config.extrapolates:
        if n_prompt > config.n_ctx:
            raise ConfigError(
                f"prompt has {n_prompt} tokens but the model's learned positions cover only "
                f"n_ctx={config.n_ctx} and cannot extrapolate; shorten the prompt or train with "
                "pos='alibi'|'sinusoidal'|'relative'"
            )
        return min(cfg.window or config.n_ctx, config.n_ctx)
    return cfg.window


def _ids(tokens: list[int], device: torch.device) -> torch.Tensor:
    return torch.tensor([tokens], dtype=torch.long, device=device)  # (1, T)


@torch.no_grad()
def generate(
    model: nn.Module, prompt: Sequence[int] | torch.Tensor, cfg: SamplingConfig | None = None
) -> list[int]:
    """The new tokens after ``prompt`` (a list of ids), up to ``max_tokens`` or a stop token.

    ``model`` is a :class:`reti.models.gpt.GPT` (anything with ``config``, ``new_cache`` and
    ``forward(idx, cache=...)``). Runs on the model's device, in eval mode.

    Raises:
        ShapeError: an empty prompt. ConfigError: a prompt too long for learned positions.
    """
    cfg = cfg or SamplingConfig()
    tokens = [int(t) for t in (prompt.tolist() if torch.is_tensor(prompt) else prompt)]
    if not tokens:
        raise ShapeError("prompt must hold at least one token")
    vocab = model.config.vocab_size
    if min(tokens) < 0 or max(tokens) >= vocab:
        raise ShapeError(
            f"prompt token ids must be in [0, {vocab}), got {min(tokens)}..{max(tokens)}"
        )
    window = _window(model, cfg, len(tokens))
    device = next(model.parameters()).device
    generator = make_generator(cfg.seed, device if device.type == "cuda" else "cpu")
    was_training = model.training
    model.eval()
    out: list[int] = []
    cache, seen = None, 0  # seen: how many tokens of the context the cache holds
    try:
        for _ in range(cfg.max_tokens):
            context = tokens if window is None else tokens[-window:]
            if not cfg.use_cache:
                logits = model(_ids(context, device))[0, -1]
            else:
                if cache is not None and seen == len(context):
                    cache = None  # the window slid: feed it again from position 0
                if cache is None:
                    cache, seen = model.new_cache(), 0
                logits = model(_ids(context[seen:], device), cache=cache)[0, -1]
                seen = len(context)
            token = next_token(logits, cfg, generator)
            if token in cfg.stop:
                break
            tokens.append(token)
            out.append(token)
    finally:
        model.train(was_training)
    return out
