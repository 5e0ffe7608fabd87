"""Claims 11 and 12 on text: ALiBi extrapolates past the training length; temperature trades
determinism for diversity.

notes: Positional Encoding (Relative Positional Embeddings, ALiBi; Output del Transformer,
Temperature).

Both use small GPTs (``reti.models.gpt``) trained on Shakespeare (``reti.data.text``, split by
work, so the held-out text is plays the model never saw) through ``reti.train.fit``. A trained
model is cached per (tokenizer, positions, seed, budget) in the process: claim 12 samples from
the ALiBi models of claim 11, and claim 13 (``reti.claims.tokens``) reuses its char model, when
they run together; each claim still runs alone (it then trains what it needs).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn.functional as F

from reti.claims.base import FAILS, HOLDS, INCONCLUSIVE, Budget, Claim, Finding, mean_std, spread
from reti.claims.sequences import fewer_threads
from reti.data.text import load_text, windows
from reti.errors import ConfigError
from reti.generate import SamplingConfig, generate
from reti.models.gpt import GPT, GPTConfig
from reti.tasks.text import evaluate_text, lm_loss
from reti.tokenize.build import build_tokenizer, encode_text
from reti.train import TrainConfig, fit
from reti.viz import save_figure

CONTEXT = 64  # the training context of every model here
EVAL_CONTEXTS = (64, 128, 256)
TOLERANCE = 0.02  # nats: the smallest loss change counted as a change (below: evaluation noise)


@dataclass(frozen=True)
class LMBudget:
    """Sizes of the small language models (hashable: it is part of the model cache key)."""

    steps: int = 300
    n_layer: int = 2
    d_model: int = 64
    batch_size: int = 32
    lr: float = 1e-3
    train_chars: int = 1_000_000
    tokenizer_chars: int = 300_000
    eval_chars: int = 16_384
    bpe_vocab: int = 1024


def lm_budget(budget: Budget) -> LMBudget:
    """Quick: 2 layers of width 64, 300 steps on 1M chars; full: 1000 steps on all the text
    (about 4.4M chars), a BPE of 2048 tokens, 4x the held-out text."""
    return budget.pick(
        LMBudget(), LMBudget(1000, 2, 64, 32, 1e-3, 5_000_000, 1_000_000, 65_536, 2048)
    )


@lru_cache(maxsize=1)
def corpus() -> tuple[str, str]:
    """(train, held-out) Shakespeare text, split by work."""
    data = load_text("shakespeare", val_fraction=0.1, seed=0)
    return data.train, data.val


@lru_cache(maxsize=8)
def tokenizer(spec: str, chars: int):
    """A tokenizer ("char", "word", "bpe:N") trained on the first ``chars`` training chars."""
    return build_tokenizer(spec, corpus()[0][:chars])


@lru_cache(maxsize=16)
def trained_lm(spec: str, pos: str, seed: int, lm: LMBudget, device: str = "cpu"):
    """(GPT in eval mode, tokenizer) trained for ``lm.steps`` steps at context 64."""
    tok = tokenizer(spec, lm.tokenizer_chars)
    ids = encode_text(tok, corpus()[0][: lm.train_chars])
    torch.manual_seed(seed)
    config = GPTConfig(
        vocab_size=tok.vocab_size, n_ctx=CONTEXT, n_layer=lm.n_layer, n_head=4,
        d_model=lm.d_model, pos=pos,
    )  # fmt: skip
    cfg = TrainConfig(
        max_steps=lm.steps, batch_size=lm.batch_size, lr=lm.lr, schedule="cosine",
        warmup_steps=lm.steps // 10, grad_clip=1.0, seed=seed, device=device, quiet=True,
    )  # fmt: skip
    history = fit(
        GPT(config), windows(ids, CONTEXT, 1), cfg, loss_fn=lm_loss, progress_desc=f"{spec} {pos}"
    )
    return history.model.eval(), tok


# -- claim 11: ALiBi extrapolates -------------------------------------------------------------


@torch.no_grad()
def position_losses(model: GPT, tok, text: str, length: int) -> torch.Tensor:
    """Mean next-token loss at each position 0..length-1 of windows cut from ``text``. (T,)"""
    x, y = windows(encode_text(tok, text), length, length)
    device = next(model.parameters()).device
    logits = model(x.to(device))  # (N, T) -> (N, T, V)
    return F.cross_entropy(logits.transpose(1, 2), y.to(device), reduction="none").mean(0).cpu()


def extrapolation_verdict(loss: dict[str, dict[int, list[float]]]) -> tuple[str, dict]:
    """The rule of claim 11, from the losses {scheme: {context: [loss per seed]}} (a context a
    scheme cannot run at is missing or empty).

    rise = mean loss at 256 - mean loss at 64; noise = max(seed spread at 64 and at 256,
    TOLERANCE). Holds if ALiBi's rise <= its noise while sinusoidal's rise > its noise and
    learned positions cannot run (or also rise); does not hold if ALiBi rises past its noise or
    sinusoidal's loss does not rise at all; else inconclusive.
    """
    rises: dict[str, float | None] = {}
    fails: dict[str, bool] = {}
    for scheme, by_ctx in loss.items():
        short, long = by_ctx.get(EVAL_CONTEXTS[0]), by_ctx.get(EVAL_CONTEXTS[-1])
        if not short or not long:
            rises[scheme], fails[scheme] = None, True  # cannot run past its length: a failure
            continue
        rise = statistics.fmean(long) - statistics.fmean(short)
        noise = max(spread(short), spread(long), TOLERANCE)
        rises[scheme], fails[scheme] = rise, rise > noise
    learned_fails = fails.get("learned", True)
    sin_rise = rises.get("sinusoidal")
    if fails["alibi"] or (sin_rise is not None and sin_rise <= 0):
        return FAILS, rises
    if fails["sinusoidal"] and learned_fails:
        return HOLDS, rises
    return INCONCLUSIVE, rises


def _alibi_figure(path: Path, profiles: dict[str, torch.Tensor]) -> Path:
    import matplotlib.pyplot as plt  # after reti.viz chose the Agg backend

    fig, ax = plt.subplots(figsize=(7, 3.4))
    for i, (scheme, curve) in enumerate(profiles.items()):
        smooth = curve.unflatten(0, (-1, 8)).mean(1)  # mean over buckets of 8 positions
        ax.plot(torch.arange(len(smooth)) * 8 + 4, smooth, marker="o", ms=3, color=f"C{i}",
                label=scheme)  # fmt: skip
    ax.axvline(CONTEXT, color="k", ls="--", lw=1)
    ax.text(CONTEXT + 3, ax.get_ylim()[1] * 0.98, "training length", fontsize=8, va="top")
    ax.set(xlabel="position in a 256-token window", ylabel="held-out loss (nats/char)",
           title="loss by position (first seed); learned stops at its length")  # fmt: skip
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def alibi_run(budget: Budget, out: Path) -> Finding:
    """Claim 11: char GPTs trained at context 64, evaluated at 64 / 128 / 256."""
    lm = lm_budget(budget)
    held_out = corpus()[1][: lm.eval_chars]
    schemes = ("alibi", "sinusoidal", "learned", *budget.pick((), ("relative",)))
    loss: dict[str, dict[int, list[float]]] = {s: {n: [] for n in EVAL_CONTEXTS} for s in schemes}
    profiles: dict[str, torch.Tensor] = {}
    with fewer_threads():
        for seed in budget.seeds:
            for scheme in schemes:
                if scheme == "learned" and budget.quick and seed != budget.seeds[0]:
                    continue  # quick: it cannot run past 64 whatever the seed; one is enough
                model, tok = trained_lm("char", scheme, seed, lm, budget.device)
                for n in EVAL_CONTEXTS:
                    try:
                        loss[scheme][n].append(evaluate_text(model, tok, held_out, n)["loss"])
                    except ConfigError:
                        pass  # learned positions refuse a context past n_ctx: "cannot"
                if scheme not in profiles:
                    length = EVAL_CONTEXTS[-1] if model.config.extrapolates else CONTEXT
                    profiles[scheme] = position_losses(model, tok, held_out, length)
    verdict, rises = extrapolation_verdict(loss)
    numbers = [
        {"positions": s, **{f"loss @{n}": mean_std(v[n]) if v[n] else "cannot" for n in v},
         "rise 64→256": "cannot" if rises[s] is None else f"{rises[s]:+.3f}"}
        for s, v in loss.items()
    ]  # fmt: skip
    return Finding(
        verdict,
        "rise = mean held-out loss at context 256 minus at 64; noise = max(seed-to-seed spread "
        f"at 64 and at 256, {TOLERANCE} nats). Holds if ALiBi's rise <= its noise while "
        "sinusoidal's rise > its noise and learned positions cannot run past 64 (or rise too); "
        "does not hold if ALiBi rises past its noise or sinusoidal does not rise at all; else "
        "inconclusive",
        numbers,
        "rise of the held-out loss from context 64 to 256: "
        + ", ".join(
            f"{s} {'cannot run past 64' if r is None else f'{r:+.3f} nats/char'}"
            for s, r in rises.items()
        )
        + ".",
        _alibi_figure(out / "alibi.png", profiles),
        f"Char-level GPTs ({lm.n_layer} layers, 4 heads, width {lm.d_model}) trained at context "
        f"{CONTEXT} for {lm.steps} steps of batch {lm.batch_size} (AdamW lr {lm.lr}, cosine) on "
        f"{lm.train_chars:,} chars of Shakespeare, one per position scheme; loss on "
        f"{lm.eval_chars:,} held-out chars (plays never trained on) in windows of 64, 128 and "
        f"256 chars; {len(budget.seeds)} seeds" + (" (learned: 1 seed)." if budget.quick else "."),
    )


# -- claim 12: temperature ---------------------------------------------------------------------

TEMPERATURES: tuple[float | None, ...] = (None, 0.5, 1.0, 1.5)  # None: greedy (argmax)


def _label(temperature: float | None) -> str:
    return "greedy" if temperature is None else f"T={temperature}"


def _trend(runs: list[list[float]], labels: list[str]) -> str:
    """``greedy 0.000, T=0.5 1.357, ...``: the seed means in temperature order."""
    return ", ".join(f"{lab} {statistics.fmean(col):.3f}" for lab, col in zip(labels, zip(*runs)))


@torch.no_grad()
def next_token_entropy(model: GPT, tok, text: str, temperature: float | None) -> float:
    """Mean entropy (nats) of softmax(logits / T) over the positions of ``text``; greedy picks
    one token with probability 1, entropy 0 (notes: Temperature)."""
    if temperature is None:
        return 0.0
    x, _ = windows(encode_text(tok, text), CONTEXT, CONTEXT)
    logp = torch.log_softmax(model(x.to(next(model.parameters()).device)) / temperature, -1)
    return -(logp.exp() * logp).sum(-1).mean().item()


def distinct_ngrams(samples: list[str], n: int = 4) -> float:
    """Distinct n-grams / all n-grams over the samples (1: nothing repeats)."""
    grams = [s[i : i + n] for s in samples for i in range(len(s) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def agreement(a: list[int], b: list[int]) -> float:
    """Share of positions where two samples from the same prompt hold the same token."""
    n = min(len(a), len(b))
    return sum(x == y for x, y in zip(a[:n], b[:n])) / n if n else 1.0


def monotonic_verdict(per_seed: dict[str, list[list[float]]]) -> str:
    """{metric: [values by temperature, one list per seed]}: holds if every metric rises
    strictly with temperature for every seed; does not hold if a metric's seed mean falls
    somewhere; else inconclusive."""
    every = all(
        all(a < b for a, b in zip(vals, vals[1:])) for runs in per_seed.values() for vals in runs
    )
    if every:
        return HOLDS
    for runs in per_seed.values():
        means = [statistics.fmean(col) for col in zip(*runs)]
        if any(a > b for a, b in zip(means, means[1:])):
            return FAILS
    return INCONCLUSIVE


def temperature_run(budget: Budget, out: Path) -> Finding:
    """Claim 12: entropy, distinct 4-grams and agreement of samples at each temperature."""
    lm = lm_budget(budget)
    held_out = corpus()[1][: lm.eval_chars]
    prompts = [held_out[k * len(held_out) // 3 :][:24] for k in range(3)]  # 3 spread-out prompts
    length = budget.pick(150, 400)
    metrics = ("entropy", "distinct 4-grams", "agreement")
    per_seed: dict[str, list[list[float]]] = {m: [] for m in metrics}
    examples: dict[str, str] = {}
    with fewer_threads():
        for seed in budget.seeds:
            model, tok = trained_lm("char", "alibi", seed, lm, budget.device)
            rows = {m: [] for m in metrics}
            for temperature in TEMPERATURES:
                texts, agree = [], []
                for i, prompt in enumerate(prompts):
                    ids = tok.encode(prompt)
                    pair = [
                        generate(model, ids, SamplingConfig(
                            max_tokens=length, greedy=temperature is None,
                            temperature=temperature or 1.0, seed=seed * 1000 + 2 * i + k))
                        for k in (0, 1)
                    ]  # fmt: skip
                    agree.append(agreement(*pair))
                    texts += [tok.decode(p) for p in pair]
                rows["entropy"].append(next_token_entropy(model, tok, held_out, temperature))
                rows["distinct 4-grams"].append(distinct_ngrams(texts))
                rows["agreement"].append(statistics.fmean(agree))
                examples.setdefault(_label(temperature), texts[0][:70].replace("\n", " / "))
            for m in metrics:
                per_seed[m].append(rows[m])
    verdict = monotonic_verdict({m: per_seed[m] for m in metrics[:2]})
    import matplotlib.pyplot as plt  # after reti.viz chose the Agg backend

    labels = [_label(t) for t in TEMPERATURES]
    fig, ax = plt.subplots(figsize=(7, 3.4))
    for i, m in enumerate(metrics):
        for runs in per_seed[m]:
            ax.plot(labels, runs, marker="o", ms=3, color=f"C{i}", alpha=0.8,
                    label=m if runs is per_seed[m][0] else None)  # fmt: skip
    ax.set(xlabel="sampling", ylabel="nats / share", title="temperature: determinism vs diversity")
    ax.legend(fontsize=8)
    numbers = [
        {"sampling": label, **{m: mean_std([r[j] for r in per_seed[m]]) for m in metrics},
         "sample (first seed)": examples[label]}
        for j, label in enumerate(labels)
    ]  # fmt: skip
    return Finding(
        verdict,
        "holds if the next-token entropy and the share of distinct 4-grams both rise strictly "
        "from greedy to T=0.5, 1, 1.5 for every seed; does not hold if a seed mean falls "
        "somewhere; else inconclusive (same-prompt agreement is shown, not judged)",
        numbers,
        "; ".join(f"{m}: {_trend(per_seed[m], labels)}" for m in metrics) + ".",
        save_figure(fig, out / "temperature.png"),
        f"The ALiBi char GPTs of claim 11 (one per seed). Entropy of softmax(logits / T) over "
        f"the held-out text (greedy: 0); {len(prompts)} held-out prompts, two samples of "
        f"{length} chars each per prompt and temperature (reti.generate, KV cache, different "
        "sampling seeds): distinct 4-grams over the six samples, and the share of positions "
        f"where the two samples of a prompt agree; {len(budget.seeds)} seeds.",
    )


CLAIMS = [
    Claim(
        "ALiBi extrapolates",
        "Positional Encoding — Relative Positional Embeddings",
        "Considera la distanza relativa i-j tra i tokens, non la posizione assoluta. Es. ALiBi "
        "(Attention with Linear Biases): bᵢⱼ aggiunto basato sulla distanza relativa. In ALiBi "
        "non si usano positional embeddings all'inizio.",
        "ALiBi (a bias from the relative distance) works past the training length, where "
        "sinusoidal and learned absolute positions fail.",
        alibi_run,
    ),
    Claim(
        "temperature",
        "Output del Transformer — Temperature",
        'Temp = 1: nessun effetto. Temp < 1: distribuisce "sharper", più deterministico. '
        'Temp > 1: distribuisce "softer", più casuale, più creativa.',
        "Temperature trades determinism for diversity.",
        temperature_run,
    ),
]
