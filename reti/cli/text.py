"""`reti text`: train a GPT on text, generate from it, evaluate it, draw its attention.

reti text train --data shakespeare --tokenizer char|word|bpe:4096|gpt2 --pos alibi --max-steps 500
reti text generate --checkpoint RUN --prompt "ROMEO:" --temperature 0.8 --top-p 0.95
reti text eval --checkpoint RUN [--context 128]
reti text attention --checkpoint RUN --prompt "To be" --out attn.png
reti text tokenizer train|encode|decode|export ...   (reti.cli.tokenizer)

Training flags come from ``TextConfig`` (data, tokenizer, model) and ``TrainConfig`` (the loop);
``--config FILE.json`` holds TrainConfig settings.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from reti.cli import tokenizer as tokenizer_cli
from reti.cli.args import add_config_args, config_from_args
from reti.data.text import load_text
from reti.generate import SamplingConfig
from reti.runtime import resolve_device
from reti.tasks import text as task
from reti.train import TrainConfig

# Text runs are step-budgeted: these replace TrainConfig's defaults unless a flag or --config
# sets them (one epoch of every window of Shakespeare would be ~70k steps at batch 64).
TEXT_TRAIN_DEFAULTS = {
    "max_steps": 500,
    "batch_size": 32,
    "lr": 3e-3,
    "schedule": "cosine",
    "warmup_steps": 50,
    "grad_clip": 1.0,
}


def _train_config(args: argparse.Namespace) -> TrainConfig:
    cfg = config_from_args(TrainConfig, args)
    in_file: dict = {}
    if getattr(args, "config", None):  # config_from_args has checked the file already
        in_file = json.loads(Path(args.config).read_text(encoding="utf-8"))
        in_file = in_file.get("train_config", in_file)  # a run's config.json works too
    given = vars(args)
    defaults = {k: v for k, v in TEXT_TRAIN_DEFAULTS.items() if k not in given and k not in in_file}
    return replace(cfg, **defaults)


def _text_config(args: argparse.Namespace) -> task.TextConfig:
    flags = {k: v for k, v in vars(args).items() if k != "config"}
    return config_from_args(task.TextConfig, argparse.Namespace(**flags))


def _train(args: argparse.Namespace) -> int:
    cfg, train_cfg = _text_config(args), _train_config(args)
    history = task.train(cfg, train_cfg, args.run_dir, resume=args.resume)
    row = history.final or {}
    shown = ", ".join(
        f"{k} {row[k]:.4g}" for k in ("train_loss", "val_loss", "tokens_per_s") if k in row
    )
    print(f"trained {row.get('step', 0)} steps: {shown}")
    print(f"run folder: {args.run_dir}")
    return 0


def _load(args: argparse.Namespace):
    model, tok, text_cfg = task.load_run(args.checkpoint)
    return model.to(resolve_device(args.device)), tok, text_cfg


def _sampling(args: argparse.Namespace, tok) -> SamplingConfig:
    return SamplingConfig(
        max_tokens=args.max_tokens,
        greedy=args.greedy,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        stop=task.stop_ids(tok, args.stop or []),
        seed=args.seed,
        use_cache=args.cache,
    )


def _generate(args: argparse.Namespace) -> int:
    model, tok, _ = _load(args)
    print(task.sample(model, tok, args.prompt, _sampling(args, tok)))
    return 0


def _eval(args: argparse.Namespace) -> int:
    model, tok, text_cfg = _load(args)
    if args.data is not None:
        text = load_text(args.data, val_fraction=0.0).train
    else:
        data = load_text(text_cfg["data"], val_fraction=text_cfg["val_fraction"])
        text = data.val or data.train
    scores = task.evaluate_text(model, tok, text, args.context, args.max_windows)
    print(
        f"context {scores['context']}: loss {scores['loss']:.4f} nats/token, perplexity "
        f"{scores['perplexity']:.3f}, {scores['bits_per_byte']:.4f} bits/byte "
        f"({scores['tokens']} tokens)"
    )
    return 0


def _attention(args: argparse.Namespace) -> int:
    model, tok, _ = _load(args)
    path = task.plot_attention(model, tok, args.prompt, args.out)
    print(f"wrote {path}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``reti text train|generate|eval|attention|tokenizer``."""
    parser = sub.add_parser("text", help="GPT language models: train, generate, eval, attention")
    text_sub = parser.add_subparsers(dest="text_command", metavar="ACTION", required=True)

    train = text_sub.add_parser("train", help="train a GPT on a text corpus")
    train.add_argument(
        "--out",
        "--run-dir",
        dest="run_dir",
        default="runs/text",
        help="run folder (default runs/text)",
    )
    train.add_argument(
        "--resume", action="store_true", help="after an interruption: the same command goes on"
    )
    add_config_args(train, task.TextConfig, group="data, tokenizer and model")
    add_config_args(train, TrainConfig, group="training", shown_defaults=TEXT_TRAIN_DEFAULTS)
    train.set_defaults(func=_train)

    gen = text_sub.add_parser("generate", help="sample text from a trained run")
    gen.add_argument("--checkpoint", required=True, help="run folder or checkpoint folder")
    gen.add_argument("--device", default="cpu", help="cpu (default), cuda, mps or auto")
    gen.add_argument("--prompt", required=True, help="the text to continue")
    gen.add_argument("--max-tokens", type=int, default=200, help="tokens to add (default 200)")
    gen.add_argument("--greedy", action="store_true", help="always the most likely token")
    gen.add_argument("--temperature", type=float, default=1.0, help="> 0; < 1 is sharper")
    gen.add_argument("--top-k", type=int, default=None, help="sample among the k likeliest")
    gen.add_argument("--top-p", type=float, default=None, help="in (0, 1]")
    gen.add_argument("--stop", action="append", metavar="TOKEN", help="a one-token stop string")
    gen.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    gen.add_argument(
        "--cache",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="reuse keys/values of past tokens (default on)",
    )
    gen.set_defaults(func=_generate)

    ev = text_sub.add_parser("eval", help="loss, perplexity and bits per byte")
    ev.add_argument("--checkpoint", required=True, help="run folder or checkpoint folder")
    ev.add_argument("--device", default="cpu", help="cpu (default), cuda, mps or auto")
    ev.add_argument("--context", type=int, default=None, help="default: the model's n_ctx")
    ev.add_argument("--data", default=None, help="another text (default: the run's validation)")
    ev.add_argument("--max-windows", type=int, default=None, help="evaluate at most N windows")
    ev.set_defaults(func=_eval)

    att = text_sub.add_parser("attention", help="PNG of the attention maps of a prompt")
    att.add_argument("--checkpoint", required=True, help="run folder or checkpoint folder")
    att.add_argument("--device", default="cpu", help="cpu (default), cuda, mps or auto")
    att.add_argument("--prompt", required=True, help="the text whose attention is drawn")
    att.add_argument("--out", default="attention.png", help="PNG file (default attention.png)")
    att.set_defaults(func=_attention)

    tokenizer_cli.register_under(text_sub)
