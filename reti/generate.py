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
What happens once the window is full is ``slide``:

* ``"exact"`` (default): the window slides by one token and the cached path feeds the new window
  again from position 0 (a fresh cache): exactly nanoGPT's crop-and-recompute, and as slow (a full
  forward of the window per token).
* ``"amortized"``: when the window is full, keep its last half, re-encode it once into a fresh
  cache, then go on one token per step until it is full again. Each new token sees between
  ``window // 2`` and ``window`` tokens (exact sees always ``window``), so the text differs from
  exact mode past the first window; the cost is one half-window forward per ``window / 2``
  tokens. Any position scheme.
* ``"rolling"``: the cache forgets its oldest keys, each step feeds only the new token, and each
  token attends to the last ``window`` tokens at every layer (sliding-window attention, as in
  Mistral). Only for alibi / relative, which see distances only, so counting positions from the
  oldest kept token changes nothing. It equals a full forward of the whole sequence with that
  banded mask, and with one layer also the exact mode; with more layers it does not: the kept
  keys of the upper layers came from hidden states that had seen the forgotten tokens, while a
  recompute of the window has not (the tests prove both statements). A prompt longer than the
  window is cropped to it first.

``"amortized"`` and ``"rolling"`` use ``window`` or else ``n_ctx``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from reti.config import BOOL, COUNT, NON_NEGATIVE_INT, check, interval, one_of, option
from reti.errors import ConfigError, ShapeError
from reti.runtime import make_generator

SLIDES = ("exact", "amortized", "rolling")
_OPTIONAL_K = COUNT.or_none().says(">= 1")  # the wording the CLI has always used
_TOP_P = interval(0, 1, "(]").or_none().says("in (0, 1]")
_WINDOW = COUNT.or_none().says(">= 1")


@dataclass
class SamplingConfig:
    """How to pick each next token. ``temperature`` > 0, ``top_p`` in (0, 1], ``top_k`` >= 1;
    ``stop`` are token ids that end the generation (not included in the output); ``slide`` is
    what happens when the window is full (``exact``, ``amortized``, ``rolling``: see above)."""

    max_tokens: int = option(100, "Tokens to generate at most.", NON_NEGATIVE_INT)
    greedy: bool = option(False, "Always the most likely token (no sampling).", BOOL)
    temperature: float = option(1.0, "Divide the logits by this (notes: Temperature).")
    top_k: int | None = option(None, "Sample among the k most likely tokens only.", _OPTIONAL_K)
    top_p: float | None = option(
        None, "Sample among the most likely tokens that hold p of the mass.", _TOP_P
    )
    stop: tuple[int, ...] = option((), "Token ids that end the generation (not output).")
    seed: int = option(0, "Seed of the sampling generator.")
    use_cache: bool = option(True, "Keep the keys and values of past tokens (KV cache).", BOOL)
    window: int | None = option(None, "Context tokens the model sees (None: its n_ctx).", _WINDOW)
    slide: str = option("exact", "What happens when the window is full.", one_of(SLIDES))

    def __post_init__(self) -> None:
        if not self.temperature > 0:  # also catches NaN; worded with the way out
            raise ConfigError(
                f"temperature must be > 0, got {self.temperature}; for the most likely token "
                "use greedy=True (--greedy)"
            )
        check(self)
        if self.slide == "rolling" and not self.use_cache:
            raise ConfigError("slide='rolling' is a KV cache: it needs use_cache=True")
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
    if temperature != 1.0:
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
    if cfg.slide == "rolling" and config.pos not in ("alibi", "relative"):
        raise ConfigError(
            "slide='rolling' needs positions that depend only on distances "
            f"(pos='alibi' or 'relative'), got pos={config.pos!r}; use slide='amortized'"
        )
    if not config.extrapolates:
        if n_prompt > config.n_ctx:
            raise ConfigError(
                f"prompt has {n_prompt} tokens but the model's learned positions cover only "
                f"n_ctx={config.n_ctx} and cannot extrapolate; shorten the prompt or train with "
                "pos='alibi'|'sinusoidal'|'relative'"
            )
        return min(cfg.window or config.n_ctx, config.n_ctx)
    if cfg.slide != "exact":
        return cfg.window or config.n_ctx
    return cfg.window


def _ids(tokens: list[int], device: torch.device) -> torch.Tensor:
    return torch.tensor([tokens], dtype=torch.long, device=device)  # (1, T)


@torch.inference_mode()
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
    # the context is tokens[start:]; the cache holds tokens[cache_start : cache_start + seen]
    start = 0 if window is None else max(0, len(tokens) - window)
    cache, cache_start, seen = None, 0, 0
    rolling = cfg.slide == "rolling"
    decoder = model.decoder() if hasattr(model, "decoder") else None
    try:
        for _ in range(cfg.max_tokens):
            if window is not None and len(tokens) - start > window:  # the window is full
                keep = max(1, window // 2) if cfg.slide == "amortized" else window
                start = len(tokens) - keep
            if not cfg.use_cache:
                logits = model(_ids(tokens[start:], device))[0, -1]
            else:
                if cache is None or (start != cache_start and not rolling):
                    # a fresh cache fed from the window's first token (a rolling one only once)
                    cache = model.new_cache(window - 1 if rolling else None)
                    cache_start, seen = start, 0
                if decoder is not None and len(tokens) - cache_start - seen == 1:
                    logits = decoder.step(tokens[-1], cache)  # one token: the lean path
                else:
                    new = _ids(tokens[cache_start + seen :], device)
                    logits = model(new, cache=cache)[0, -1]
                seen = len(tokens) - cache_start
            token = next_token(logits, cfg, generator)
            if token in cfg.stop:
                break
            tokens.append(token)
            out.append(token)
    finally:
        model.train(was_training)
    return out
