"""The text pipeline: corpus -> tokenizer -> GPT -> ``reti.train.fit``; eval, sampling, pictures.

notes: Text Embeddings (tokens: chars, words, byte-level BPE), Self-Attention, Positional
Encoding, Autoregressive Generation, Temperature.

A run folder holds what ``fit`` writes (checkpoints, metrics, curves) plus ``tokenizer.json``;
the checkpoint meta carries the GPT and text configs, so ``load_run`` rebuilds the model and
checks that the tokenizer's vocabulary is the one the model was trained with.

Bits per byte make tokenizers comparable: total nats over the predicted tokens, divided by the
UTF-8 bytes of those tokens, divided by ln 2 (a char model and a BPE model predict the same bytes
in a different number of steps, so per-token losses are not comparable; per-byte ones are).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from reti.config import BOOL, COUNT, FRACTION, OPTIONAL_COUNT, TEXT, check, one_of, option
from reti.data.fetch import fetch
from reti.data.text import DECODE_ERRORS, load_text, windows
from reti.errors import CheckpointError, ConfigError, DataError
from reti.generate import SamplingConfig, generate
from reti.guards import check_batch
from reti.io import ensure_dir
from reti.layers.position import POSITIONS
from reti.metrics import bits_per_byte
from reti.models.gpt import GPT, GPTConfig
from reti.runtime import make_generator, resolve_device, seeded, world
from reti.tasks.contract import LoadedRun, PipelineBase
from reti.tasks.runs import open_run, read_run, settings
from reti.tokenize import TOKENIZER_FILE, Tokenizer, load_tokenizer
from reti.tokenize.build import build_tokenizer, encode_text, parse_tokenizer
from reti.train import (
    Callback,
    History,
    RunControl,
    RunOptions,
    TrainConfig,
    fit,
    latest_checkpoint,
    load_weights,
)

_OPTIONAL_COUNT = OPTIONAL_COUNT.says(">= 1 or None")  # the wording the CLI has always used
SECTION = "text"  # where a run's config.json keeps the TextConfig (model_config["text"])
# Text runs are step-budgeted (one epoch of every window of Shakespeare would be ~70k steps at
# batch 64); an evaluation every 250 steps gives the 700-step demo GPT 3 validation points.
# Muon at lr 2e-2 reached nanoGPT's 1000-iteration loss in half the steps of AdamW at 3e-3
# (bench/time_to_quality.py, docs/performance.md "Time to a good model").
TEXT_TRAIN_DEFAULTS: dict[str, Any] = {
    "max_steps": 500, "batch_size": 32, "lr": 2e-2, "optimizer": "muon", "schedule": "cosine",
    "warmup_steps": 50, "grad_clip": 1.0, "eval_every": 250, "log_every": 10,
}  # fmt: skip


def text_train_config(**changes: Any) -> TrainConfig:
    """TrainConfig with the text defaults, then ``changes``."""
    return TrainConfig(**{**TEXT_TRAIN_DEFAULTS, **changes})


@dataclass
class TextConfig:
    """Data, tokenizer and model of a language-model run, and how it trains (``train``)."""

    data: str = option("shakespeare", "The corpus: shakespeare, file:PATH or a path.", TEXT)
    tokenizer: str = option(
        "char", "The tokenizer: char, word, bpe:N (bpe = bpe:4096), gpt2 or a saved .json.", TEXT
    )
    val_fraction: float = option(0.1, "Fraction of the corpus held out for validation.", FRACTION)
    max_chars: int | None = option(
        None, "Use at most this many characters of each split.", _OPTIONAL_COUNT
    )
    errors: str = option(
        "strict",
        "How to decode bytes that are not UTF-8: strict (an error), replace, ignore.",
        one_of(DECODE_ERRORS, f"one of {list(DECODE_ERRORS)}"),
    )
    n_ctx: int = option(64, "Context length in tokens.", COUNT)
    n_layer: int = option(4, "Transformer blocks.", COUNT)
    n_head: int = option(4, "Attention heads per block.", COUNT)
    d_model: int = option(128, "Width of the residual stream.", COUNT)
    dropout: float = option(0.0, "Dropout probability.", FRACTION)
    pos: str = option("learned", f"Positions: {', '.join(POSITIONS)}.", one_of(POSITIONS))
    tie_weights: bool = option(True, "Share the token embedding with the output layer.", BOOL)
    val_windows: int | None = option(
        256, "Validation windows per evaluation (none: all).", _OPTIONAL_COUNT
    )
    out: str | None = option(None, "The run folder (the CLI's default: runs/text).")
    train: TrainConfig = field(default_factory=text_train_config)

    def __post_init__(self) -> None:
        check(self)
        parse_tokenizer(self.tokenizer)

    def gpt_config(self, vocab_size: int) -> GPTConfig:
        """The model part; GPTConfig validates the sizes."""
        names = ("n_ctx", "n_layer", "n_head", "d_model", "dropout", "pos", "tie_weights")
        return GPTConfig(vocab_size=vocab_size, **{n: getattr(self, n) for n in names})


def _gpt2_files() -> Path:
    return fetch("gpt2")


def lm_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy (nats). Shape: (B, T, V), (B, T) -> ()."""
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten())


def _step_budget(xy: tuple[torch.Tensor, torch.Tensor], cfg: TrainConfig):
    """With ``max_steps``, only as many random windows as the steps will use (every window of
    a 5 MB corpus is millions of samples; the trainer would shuffle them all each epoch)."""
    if cfg.max_steps is None:
        return xy
    need = cfg.max_steps * cfg.batch_size * cfg.accumulate
    if need >= len(xy[0]):
        return xy
    pick = torch.randperm(len(xy[0]), generator=make_generator(cfg.seed))[:need]
    return xy[0][pick], xy[1][pick]


def train(
    cfg: TextConfig,
    *,
    resume: bool = False,
    overwrite: bool = False,
    callbacks: Sequence[Callback] = (),
    control: RunControl | None = None,
) -> History:
    """Load the corpus, make the tokenizer, train a GPT into ``cfg.out`` (with its
    ``tokenizer.json``). Seeded first: the same config gives the same weights (the global
    generators are put back after, see ``reti.runtime.seeded``). With ``resume``
    the run's own tokenizer is reused and ``fit`` goes on from its latest checkpoint. Every
    setting is checked against the data before anything is written.

    Raises:
        DataError: an empty corpus or one shorter than the context.
    """
    tc = cfg.train
    with seeded(tc.seed):  # the run owns the global generators; they are put back
        resolve_device(tc.device)  # a bad device fails before the run folder is made
        out = Path(cfg.out) if cfg.out is not None else None
        if out is not None:
            ensure_dir(out, create=False)
        data = load_text(cfg.data, val_fraction=cfg.val_fraction, seed=tc.seed, errors=cfg.errors)
        train_text, val_text = data.train[: cfg.max_chars], data.val[: cfg.max_chars]
        if not train_text.strip():
            raise DataError(f"the text {cfg.data!r} is empty: nothing to train on")
        saved = out / TOKENIZER_FILE if out is not None else None
        reuse = resume and saved is not None and saved.is_file()
        if resume and out is not None and not reuse and latest_checkpoint(out) is not None:
            raise CheckpointError(
                f"cannot resume {str(out)!r}: it has checkpoints but no {TOKENIZER_FILE}, "
                "so it is not a `reti text` run"
            )
        tok = load_tokenizer(saved, _gpt2_files) if reuse else build_tokenizer(
            cfg.tokenizer, train_text, _gpt2_files
        )  # fmt: skip
        gpt_cfg = cfg.gpt_config(tok.vocab_size)
        train_xy = _step_budget(windows(encode_text(tok, train_text), cfg.n_ctx, 1), tc)
        val_ids, val_xy = encode_text(tok, val_text), None
        if len(val_ids) > cfg.n_ctx:
            x, y = windows(val_ids, cfg.n_ctx, cfg.n_ctx)
            val_xy = (x[: cfg.val_windows], y[: cfg.val_windows])
        if val_xy is None and getattr(tc, "eval_every", None):  # no validation text: nothing to
            tc = replace(tc, eval_every=None)  # evaluate every N steps (the default asks for it)
        model = GPT(gpt_cfg)  # refuses weights that cannot fit
        # one batch's activations must fit too (measured on the meta device, nothing allocated)
        batch = min(tc.batch_size, len(train_xy[0]))
        check_batch(lambda: GPT(gpt_cfg), (cfg.n_ctx,), batch, "model 'gpt'", dtype=torch.long)
        opts = RunOptions(out, resume, overwrite, callbacks, control)
        with open_run(opts):  # all checked: now write
            if saved is not None and not reuse and world()[0] == 0:  # rank 0 writes shared files
                ensure_dir(out)
                tok.save(saved)
            return fit(
                model, train_xy, tc, loss_fn=lm_loss, val=val_xy,
                model_config={"gpt": asdict(gpt_cfg), SECTION: settings(cfg)},
                progress_desc=f"text {cfg.tokenizer} {cfg.pos}", **vars(opts),
            )  # fmt: skip


def _run_root(path: Path) -> Path:
    """The run folder of a run folder or of one of its checkpoint folders."""
    for folder in (path, path.parent, path.parent.parent):
        if (folder / TOKENIZER_FILE).is_file():
            return folder
    raise CheckpointError(f"{path} has no {TOKENIZER_FILE} beside it: not a `reti text` run")


def load_run(path: str | Path) -> tuple[GPT, Tokenizer, dict[str, Any]]:
    """(model in eval mode, tokenizer, text config dict) from a run or checkpoint folder.

    Raises:
        DataNotFoundError: no such path. CheckpointError: not a text run, a corrupt
        checkpoint, or a tokenizer whose vocabulary size is not the model's.
    """
    run = read_run(path)
    try:
        gpt_cfg = GPTConfig(**run.model_config["gpt"])
        text = dict(run.model_config[SECTION])
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{run.checkpoint} is not a `reti text` checkpoint ({exc})") from None
    text["seed"] = run.train_config.get("seed", 0)  # the seed that split the corpus
    tok = load_tokenizer(_run_root(run.checkpoint) / TOKENIZER_FILE, gpt2_files=_gpt2_files)
    if tok.vocab_size != gpt_cfg.vocab_size:
        raise CheckpointError(
            f"tokenizer vocab size {tok.vocab_size} does not match the model's "
            f"vocab_size={gpt_cfg.vocab_size} in {run.checkpoint}"
        )
    model = GPT(gpt_cfg)
    load_weights(model, run.checkpoint)
    return model.eval(), tok, text


@torch.no_grad()
def evaluate_text(
    model: GPT,
    tok: Tokenizer,
    text: str,
    context: int | None = None,
    max_windows: int | None = None,
) -> dict[str, float]:
    """Loss (nats/token), perplexity and bits per byte over non-overlapping windows of
    ``context`` tokens (default: the model's n_ctx).

    Raises:
        ConfigError: a context past n_ctx with learned positions. DataError: too little text.
    """
    n = model.config.n_ctx if context is None else context
    if n < 1 or (max_windows is not None and max_windows < 1):
        raise ConfigError(f"context and max_windows must be >= 1, got {n} and {max_windows}")
    if n > model.config.n_ctx and not model.config.extrapolates:
        raise ConfigError(
            f"context {n} > n_ctx={model.config.n_ctx}: learned positions cannot extrapolate"
        )
    x, y = windows(encode_text(tok, text), n, n)
    x, y = x[:max_windows], y[:max_windows]
    nbytes = torch.tensor([len(tok.token_bytes(i)) for i in range(tok.vocab_size)])
    device = next(model.parameters()).device
    nats, count, total_bytes = 0.0, 0, 0
    for xb, yb in zip(x.split(16), y.split(16)):
        logits = model(xb.to(device))
        loss = F.cross_entropy(
            logits.flatten(0, 1).float(), yb.flatten().to(device), reduction="sum"
        )
        nats += loss.item()
        count += yb.numel()
        total_bytes += int(nbytes[yb].sum())
    loss = nats / count
    return {
        "loss": loss,
        "perplexity": math.exp(loss),
        "bits_per_byte": bits_per_byte(nats, total_bytes),
        "tokens": count,
        "context": n,
    }


def stop_ids(tok: Tokenizer, stops: list[str]) -> tuple[int, ...]:
    """Token ids of stop strings; each must be one token (a special token, or one piece).

    Raises:
        ConfigError: an unknown special token, or a string that is several tokens.
    """
    ids = []
    for stop in stops:
        if stop in tok.special_tokens:
            ids.append(tok.special_tokens[stop])
            continue
        if stop.startswith("<|") and stop.endswith("|>"):
            raise ConfigError(
                f"unknown special token {stop!r}; this tokenizer has {sorted(tok.special_tokens)}"
            )
        pieces = tok.encode(stop, allowed_special=(), disallowed_special=())
        if len(pieces) != 1:
            raise ConfigError(f"stop {stop!r} is {len(pieces)} tokens here; it must be exactly one")
        ids.append(pieces[0])
    return tuple(ids)


def encode_prompt(tok: Tokenizer, prompt: str) -> list[int]:
    """The prompt's ids; known special tokens are allowed, unknown ``<|...|>`` are an error."""
    if not prompt:
        raise ConfigError("prompt must not be empty")
    return tok.encode(prompt, allowed_special="all", disallowed_special=())


def sample(model: GPT, tok: Tokenizer, prompt: str, cfg: SamplingConfig) -> str:
    """The prompt followed by the generated text."""
    new = generate(model, encode_prompt(tok, prompt), cfg)
    return prompt + tok.decode(new)


def attention_figure(model: GPT, tok: Tokenizer, prompt: str) -> Figure:
    """One panel per (layer, head): who attends to whom for the prompt's tokens
    (``reti.viz.attention_maps_figure`` draws them)."""
    ids = encode_prompt(tok, prompt)
    if len(ids) > model.config.n_ctx and not model.config.extrapolates:
        raise ConfigError(
            f"prompt is {len(ids)} tokens, n_ctx={model.config.n_ctx}: learned positions "
            "cannot extrapolate"
        )
    device = next(model.parameters()).device
    maps = model.attention_maps(torch.tensor([ids], device=device))  # n_layer x (1, nh, T, T)
    labels = [tok.decode([i]).replace("\n", "\\n").replace(" ", "\u2423") for i in ids]
    from reti.viz import attention_maps_figure  # here: importing the pipeline loads no viz

    return attention_maps_figure(maps, labels, f"pos={model.config.pos}")


class TextPipeline(PipelineBase):
    """The pipeline contract (``reti.tasks.contract``) for language models."""

    name, config_type = SECTION, TextConfig

    train_function = staticmethod(train)

    def load_run(self, path: str | Path) -> LoadedRun:
        model, tok, _ = load_run(path)
        return LoadedRun(model, self.config_of_run(path), {"tokenizer": tok})

    def evaluate(self, path: str | Path) -> dict[str, float]:
        """Loss, perplexity and bits per byte on the run's validation text."""
        run = self.load_run(path)
        cfg = run.config
        data = load_text(cfg.data, val_fraction=cfg.val_fraction, seed=cfg.train.seed,
                         errors=cfg.errors)  # fmt: skip
        scores = evaluate_text(run.model, run.extras["tokenizer"], data.val[: cfg.max_chars])
        return {k: scores[k] for k in ("loss", "perplexity", "bits_per_byte")}

    def predict(self, path: str | Path, inputs: Sequence[str]) -> list[str]:
        """Prompts -> each prompt and 20 greedy tokens after it."""
        run = self.load_run(path)
        greedy = SamplingConfig(max_tokens=20, greedy=True)
        return [sample(run.model, run.extras["tokenizer"], p, greedy) for p in inputs]


PIPELINE = TextPipeline()
