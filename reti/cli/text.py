"""`reti text`: train a GPT on text, generate from it, evaluate it, draw its attention.

reti text train --data shakespeare --tokenizer char|word|bpe:4096|gpt2 --pos alibi --max-steps 500
reti text generate --checkpoint RUN --prompt "ROMEO:" --temperature 0.8 --top-p 0.95
reti text eval --checkpoint RUN [--context 128]
reti text attention --checkpoint RUN --prompt "To be" --out pictures   (pictures/attention.png)
reti text tokenizer train|encode|decode|export ...   (reti.cli.tokenizer)

Training flags come from ``TextConfig`` (data, tokenizer, model) and ``TrainConfig`` (the loop);
``--config FILE.json`` holds settings of both, or is a run's own config.json (the same run again).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from reti.cli import tokenizer as tokenizer_cli
from reti.cli.args import add_pipeline_args, pipeline_from_args
from reti.cli.runkind import expect_run
from reti.data.text import load_text
from reti.generate import SamplingConfig
from reti.runtime import resolve_device, world
from reti.tasks import text as task

DEFAULT_OUT = "runs/text"
CHECKPOINT_HELP = "A run folder or one of its checkpoint folders."
DEVICE_HELP = "Where to compute: auto (default), cpu, cuda, cuda:N or mps."


def _train(args: argparse.Namespace) -> int:
    cfg = pipeline_from_args(
        task.TextConfig, args, section=task.SECTION, train_defaults=task.TEXT_TRAIN_DEFAULTS
    )
    if cfg.out is None:
        cfg.out = DEFAULT_OUT
    if args.fast:
        cfg.train = replace(cfg.train, precision="bf16")
    history = task.train(cfg, resume=args.resume, overwrite=args.overwrite)
    if world()[0] != 0:  # under torchrun only rank 0 prints
        return 0
    row = history.final or {}
    shown = ", ".join(
        f"{k} {row[k]:.4g}" for k in ("train_loss", "val_loss", "tokens_per_s") if k in row
    )
    print(f"trained {row.get('step', 0)} steps: {shown}")
    print(f"run folder: {cfg.out}")
    return 0


def _load(args: argparse.Namespace):
    expect_run(args.checkpoint, "text", f"reti text {args.text_command}")
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
        slide=args.slide,
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
        data = load_text(
            text_cfg["data"], val_fraction=text_cfg["val_fraction"], seed=text_cfg["seed"]
        )
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
    out = Path(args.out or args.checkpoint)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "attention.png"
    task.attention_figure(model, tok, args.prompt).savefig(path, dpi=110, bbox_inches="tight")
    print(f"wrote {path}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``reti text train|generate|eval|attention|tokenizer``."""
    parser = sub.add_parser("text", help="GPT language models: train, generate, eval, attention")
    text_sub = parser.add_subparsers(dest="text_command", metavar="ACTION", required=True)

    train = text_sub.add_parser("train", help="train a GPT on a text corpus")
    add_pipeline_args(
        train, task.TextConfig, group="data, tokenizer and model",
        train_defaults=task.TEXT_TRAIN_DEFAULTS,
    )  # fmt: skip
    train.add_argument(
        "--fast",
        action="store_true",
        help="Train under bf16 autocast (the same as --precision bf16): the matmuls in "
        "bfloat16, weights and optimizer in fp32. Helps where bf16 matmuls run well above fp32 "
        "ones (GPUs, CPUs with AVX512-BF16 or AMX) and more for wider models; measured figures "
        "with each machine's peaks in docs/performance.md.",
    )
    train.set_defaults(func=_train)

    gen = text_sub.add_parser("generate", help="sample text from a trained run")
    gen.add_argument("--checkpoint", required=True, help=CHECKPOINT_HELP)
    gen.add_argument("--device", default="auto", help=DEVICE_HELP)
    gen.add_argument("--prompt", required=True, help="The text to continue.")
    gen.add_argument("--max-tokens", type=int, default=200, help="Tokens to add. Default: 200.")
    gen.add_argument("--greedy", action="store_true", help="Always take the most likely token.")
    gen.add_argument("--temperature", type=float, default=1.0,
                     help="Sampling temperature, > 0; below 1 is sharper. "
                     "Default: 1.0.")  # fmt: skip
    gen.add_argument("--top-k", type=int, default=None, help="Sample among the k likeliest.")
    gen.add_argument("--top-p", type=float, default=None,
                     help="Sample from the smallest set of tokens with this much probability, "
                     "in (0, 1].")  # fmt: skip
    gen.add_argument("--stop", action="append", metavar="TOKEN",
                     help="Stop at this one-token string (repeatable).")  # fmt: skip
    gen.add_argument("--seed", type=int, default=0, help="Sampling seed. Default: 0.")
    gen.add_argument(
        "--cache",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Reuse the keys and values of past tokens. Default: on.",
    )
    gen.add_argument(
        "--slide",
        choices=("exact", "amortized", "rolling"),
        default="exact",
        help="Past the context window: exact (recompute the window each token), amortized "
        "(keep the last half, re-encode once; each token sees n_ctx/2..n_ctx tokens) or rolling "
        "(a KV cache over the last n_ctx tokens; alibi and relative positions only). "
        "Default: exact.",
    )
    gen.set_defaults(func=_generate)

    ev = text_sub.add_parser("eval", help="loss, perplexity and bits per byte")
    ev.add_argument("--checkpoint", required=True, help=CHECKPOINT_HELP)
    ev.add_argument("--device", default="auto", help=DEVICE_HELP)
    ev.add_argument("--context", type=int, default=None,
                    help="Tokens per window (default: the model's n_ctx).")  # fmt: skip
    ev.add_argument("--data", default=None,
                    help="Another text (default: the run's own validation text).")  # fmt: skip
    ev.add_argument("--max-windows", type=int, default=None, help="Evaluate at most N windows.")
    ev.set_defaults(func=_eval)

    att = text_sub.add_parser("attention", help="PNG of the attention maps of a prompt")
    att.add_argument("--checkpoint", required=True, help=CHECKPOINT_HELP)
    att.add_argument("--device", default="auto", help=DEVICE_HELP)
    att.add_argument("--prompt", required=True, help="The text whose attention is drawn.")
    att.add_argument("--out", default=None,
                     help="The folder for attention.png (default: the run folder).")  # fmt: skip
    att.set_defaults(func=_attention)

    tokenizer_cli.register_under(text_sub)
