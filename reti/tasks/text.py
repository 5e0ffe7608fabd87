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

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from reti.data.fetch import fetch
from reti.data.text import DECODE_ERRORS, load_text
from reti.errors import CheckpointError, ConfigError, DataError, DataNotFoundError, ParseError
from reti.generate import SamplingConfig, generate
from reti.io import META_FILE, ensure_dir
from reti.layers.position import check_pos
from reti.models.gpt import GPT, GPTConfig
from reti.runtime import make_generator, resolve_device
from reti.tokenize import (
    BPETokenizer,
    CharTokenizer,
    Tokenizer,
    WordTokenizer,
    load_gpt2,
    load_tokenizer,
)
from reti.train import History, TrainConfig, fit, load_weights
from reti.train.checkpoint import latest_checkpoint

TOKENIZER_FILE = "tokenizer.json"
KINDS = ("char", "word", "bpe", "gpt2")


def parse_tokenizer(spec: str) -> tuple[str, int | None]:
    """``"char"``, ``"word"``, ``"gpt2"``, ``"bpe:4096"`` (``"bpe"`` = bpe:4096) or a path to a
    saved tokenizer ``.json`` -> (kind or path, vocab size or None).

    Raises:
        ParseError: an unknown kind or a bad vocabulary size, with its column.
    """
    kind, _, size = spec.partition(":")
    if spec.endswith(".json"):
        return spec, None
    if kind not in KINDS:
        raise ParseError(f"tokenizer must be one of {', '.join(KINDS)} (bpe:N) or a .json", spec, 0)
    if not size:
        return kind, (4096 if kind == "bpe" else None)
    if kind != "bpe" or not size.isdigit() or int(size) < 257:
        raise ParseError("only bpe takes a vocabulary size, an integer >= 257", spec, len(kind) + 1)
    return kind, int(size)


@dataclass
class TextConfig:
    """Data, tokenizer and model of a language-model run (the training loop is a TrainConfig)."""

    data: str = "shakespeare"
    tokenizer: str = "char"
    val_fraction: float = 0.1
    max_chars: int | None = None
    errors: str = "strict"
    n_ctx: int = 64
    n_layer: int = 4
    n_head: int = 4
    d_model: int = 128
    dropout: float = 0.0
    pos: str = "learned"
    tie_weights: bool = True
    val_windows: int | None = 256

    def __post_init__(self) -> None:
        parse_tokenizer(self.tokenizer)
        check_pos(self.pos)
        if self.errors not in DECODE_ERRORS:
            raise ConfigError(f"errors must be one of {list(DECODE_ERRORS)}, got {self.errors!r}")
        for name in ("max_chars", "val_windows"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be >= 1 or None, got {value}")

    def gpt_config(self, vocab_size: int) -> GPTConfig:
        """The model part; GPTConfig validates the sizes."""
        names = ("n_ctx", "n_layer", "n_head", "d_model", "dropout", "pos", "tie_weights")
        return GPTConfig(vocab_size=vocab_size, **{n: getattr(self, n) for n in names})


def build_tokenizer(spec: str, text: str) -> Tokenizer:
    """Train (char, word, bpe:N) on ``text``, or load (gpt2, a saved .json)."""
    kind, size = parse_tokenizer(spec)
    if kind == "char":
        return CharTokenizer.train(text)
    if kind == "word":
        return WordTokenizer.train(text, min_frequency=2)
    if kind == "bpe":
        return BPETokenizer.train(text, size)
    if kind == "gpt2":
        return load_gpt2(fetch("gpt2"))
    return load_tokenizer(kind, gpt2_files=lambda: fetch("gpt2"))


def encode_text(tok: Tokenizer, text: str) -> torch.Tensor:
    """Token ids of a corpus; special-token strings in it are read as ordinary text."""
    return torch.tensor(
        tok.encode(text, allowed_special=(), disallowed_special=()), dtype=torch.long
    )


def windows(ids: torch.Tensor, n_ctx: int, stride: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, y) pairs of length n_ctx, y = x shifted by one, as views of ``ids`` (no copy).

    Raises:
        DataError: fewer than n_ctx + 1 tokens.
    """
    if len(ids) < n_ctx + 1:
        raise DataError(f"the text has {len(ids)} tokens, fewer than n_ctx + 1 = {n_ctx + 1}")
    both = ids.unfold(0, n_ctx + 1, stride)  # (N, n_ctx + 1)
    return both[:, :-1], both[:, 1:]


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
    cfg: TextConfig, train_cfg: TrainConfig, run_dir: str | Path, resume: bool = False
) -> History:
    """Load the corpus, make the tokenizer, train a GPT; everything lands in ``run_dir``.
    With ``resume`` the run's own tokenizer is reused and ``fit`` goes on from its latest
    checkpoint.

    Raises:
        DataError: an empty corpus or one shorter than the context.
    """
    resolve_device(train_cfg.device)  # a bad device fails before the run folder is made
    ensure_dir(run_dir, create=False)
    data = load_text(
        cfg.data, val_fraction=cfg.val_fraction, seed=train_cfg.seed, errors=cfg.errors
    )
    train_text, val_text = data.train[: cfg.max_chars], data.val[: cfg.max_chars]
    if not train_text.strip():
        raise DataError(f"the text {cfg.data!r} is empty: nothing to train on")
    run_dir = Path(run_dir)
    saved = run_dir / TOKENIZER_FILE
    if resume and not saved.is_file() and latest_checkpoint(run_dir) is not None:
        raise CheckpointError(
            f"cannot resume {str(run_dir)!r}: it has checkpoints but no {TOKENIZER_FILE}, "
            "so it is not a `reti text` run"
        )
    if resume and saved.is_file():
        tok = load_tokenizer(saved, gpt2_files=lambda: fetch("gpt2"))
    else:
        tok = build_tokenizer(cfg.tokenizer, train_text)
    gpt_cfg = cfg.gpt_config(tok.vocab_size)  # checks the model settings before any writing
    if not (resume and saved.is_file()):
        ensure_dir(run_dir)
        tok.save(saved)
    train_xy = _step_budget(windows(encode_text(tok, train_text), cfg.n_ctx, 1), train_cfg)
    val_ids, val_xy = encode_text(tok, val_text), None
    if len(val_ids) > cfg.n_ctx:
        x, y = windows(val_ids, cfg.n_ctx, cfg.n_ctx)
        val_xy = (x[: cfg.val_windows], y[: cfg.val_windows])
    torch.manual_seed(train_cfg.seed)
    model = GPT(gpt_cfg)
    return fit(
        model,
        train_xy,
        train_cfg,
        loss_fn=lm_loss,
        val=val_xy,
        run_dir=run_dir,
        resume=resume,
        model_config={"gpt": asdict(gpt_cfg), "text": asdict(cfg)},
        progress_desc=f"text {cfg.tokenizer} {cfg.pos}",
    )


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
    path = Path(path)
    if not path.exists():
        raise DataNotFoundError(f"checkpoint {path} does not exist")
    folder = latest_checkpoint(path) if (path / "checkpoints").is_dir() else path
    if folder is None:
        raise CheckpointError(f"{path} holds no checkpoint yet")
    meta_file = folder / META_FILE
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        gpt_cfg = GPTConfig(**meta["model_config"]["gpt"])
        text = meta["model_config"]["text"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{folder} is not a `reti text` checkpoint ({exc})") from None
    tok = load_tokenizer(_run_root(folder) / TOKENIZER_FILE, gpt2_files=lambda: fetch("gpt2"))
    if tok.vocab_size != gpt_cfg.vocab_size:
        raise CheckpointError(
            f"tokenizer vocab size {tok.vocab_size} does not match the model's "
            f"vocab_size={gpt_cfg.vocab_size} in {folder}"
        )
    model = GPT(gpt_cfg)
    load_weights(model, folder)
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
        "bits_per_byte": nats / max(total_bytes, 1) / math.log(2),
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


def plot_attention(model: GPT, tok: Tokenizer, prompt: str, out: str | Path) -> Path:
    """One panel per (layer, head): who attends to whom for the prompt's tokens."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from reti.viz import save_figure

    ids = encode_prompt(tok, prompt)
    if len(ids) > model.config.n_ctx and not model.config.extrapolates:
        raise ConfigError(
            f"prompt is {len(ids)} tokens, n_ctx={model.config.n_ctx}: learned positions "
            "cannot extrapolate"
        )
    device = next(model.parameters()).device
    maps = model.attention_maps(torch.tensor([ids], device=device))  # n_layer x (1, nh, T, T)
    labels = [tok.decode([i]).replace("\n", "\\n").replace(" ", "\u2423") for i in ids]
    n_layer, n_head = len(maps), maps[0].shape[1]
    fig, axes = plt.subplots(n_layer, n_head, figsize=(2.6 * n_head, 2.6 * n_layer), squeeze=False)
    show_labels = len(ids) <= 24
    for layer, weights in enumerate(maps):
        for head in range(n_head):
            ax = axes[layer][head]
            ax.imshow(weights[0, head].float().cpu().numpy(), cmap="viridis", vmin=0.0, vmax=1.0)
            ax.set_title(f"layer {layer + 1} head {head + 1}", fontsize=8)
            ticks = range(len(ids)) if show_labels else []
            ax.set_xticks(ticks, [labels[i] for i in ticks], fontsize=6, rotation=90)
            ax.set_yticks(ticks, [labels[i] for i in ticks], fontsize=6)
    fig.suptitle(f"attention (rows: queries, columns: keys), pos={model.config.pos}")
    fig.tight_layout()
    return save_figure(fig, out)


def demo_section(out_dir: str | Path, quick: bool = True) -> str:
    """Markdown for ``reti demo``: a small char-level GPT on Shakespeare, samples at three
    temperatures (quick: a few hundred steps, well under a minute on 2 CPU cores)."""
    out_dir = Path(out_dir)
    steps = 150 if quick else 2000
    cfg = TextConfig(n_layer=2 if quick else 4, d_model=64 if quick else 128, pos="alibi")
    train_cfg = TrainConfig(
        max_steps=steps, batch_size=16, lr=3e-3, schedule="cosine", warmup_steps=20,
        grad_clip=1.0, quiet=True, seed=0,
    )  # fmt: skip
    history = train(cfg, train_cfg, out_dir / "text-run")
    model, tok, _ = load_run(out_dir / "text-run")
    val_loss = history.final.get("val_loss", float("nan")) if history.final else float("nan")
    lines = [
        f"A character-level GPT on Shakespeare: {cfg.n_layer} layers, {cfg.n_head} heads, "
        f"width {cfg.d_model}, context {cfg.n_ctx}, ALiBi positions, {steps} steps of batch "
        f"{train_cfg.batch_size}: validation loss {val_loss:.3f} nats/char (a uniform guess: "
        f"{math.log(tok.vocab_size):.3f}).", "",
    ]  # fmt: skip
    for temperature in (0.5, 1.0, 1.5):
        text = sample(model, tok, "ROMEO:", SamplingConfig(max_tokens=120, temperature=temperature))
        lines += [f"Temperature {temperature}:", "", "```", text.strip(), "```", ""]
    return "\n".join(lines)
