"""Section 4 (notes: Self-Attention, Positional Encoding, Autoregressive Generation): a small
character-level GPT with ALiBi positions on Shakespeare, sampled at three temperatures."""

from __future__ import annotations

import math

from reti.demo.base import Context, SectionResult
from reti.generate import SamplingConfig
from reti.tasks import text

TEMPERATURES = (0.5, 1.0, 1.5)
# Muon (the text default) at lr 1e-2: 700 steps reach validation loss 1.792 (seed 0, 2 threads;
# 1.778 seed 1, one thread) where 2000 AdamW steps at 3e-3 reached 1.805 (docs/performance.md).
STEPS, LR = 700, 1e-2


def run(ctx: Context) -> SectionResult:
    """The GPT's validation loss beside a uniform guess, and samples (quick: 150 steps)."""
    steps = 150 if ctx.quick else STEPS
    train_cfg = text.text_train_config(
        max_steps=steps, batch_size=16, lr=LR, warmup_steps=20, quiet=True, seed=0,
        device=ctx.device,
    )  # fmt: skip
    cfg = text.TextConfig(
        n_layer=2 if ctx.quick else 4, d_model=64 if ctx.quick else 128, pos="alibi",
        out=str(ctx.out / "text-run"), train=train_cfg,
    )  # fmt: skip
    history = text.train(cfg, overwrite=True)  # a demo run again replaces its earlier run
    model, tok, _ = text.load_run(ctx.out / "text-run")
    loss = history.final.get("val_loss", float("nan")) if history.final else float("nan")
    uniform = math.log(tok.vocab_size)
    lines = [
        ctx.t("demo.s4.body", layers=cfg.n_layer, heads=cfg.n_head, width=cfg.d_model,
              context=cfg.n_ctx, steps=steps, batch=train_cfg.batch_size, loss=loss,
              uniform=uniform),
        "",
    ]  # fmt: skip
    for temperature in TEMPERATURES:
        sampled = text.sample(
            model, tok, "ROMEO:", SamplingConfig(max_tokens=120, temperature=temperature)
        )
        lines += [ctx.t("demo.s4.temperature", temperature=temperature), "", "```"]
        lines += [sampled.strip(), "```", ""]
    return SectionResult("\n".join(lines), ctx.t("demo.s4.headline", loss=loss, uniform=uniform))
