"""Claims 11 and 12 on text: ALiBi extrapolates past the training length; temperature trades
determinism for diversity.

notes: Positional Encoding (ALiBi); Output del Transformer (Temperature).

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

from reti.claims.base import FAILS, HOLDS, INCONCLUSIVE, Budget, Claim, Finding, mean_std
from reti.claims.figures import claim_figure
from reti.claims.power import FULL_PILOT, PILOT_SEEDS, QUICK_PILOT
from reti.claims.sequences import fewer_threads
from reti.claims.stats import Comparison, Effect, Pilot, combine, compare_arms
from reti.data.text import load_text, windows
from reti.errors import ConfigError
from reti.generate import SamplingConfig, generate
from reti.i18n import text as tr
from reti.models.gpt import GPT, GPTConfig
from reti.tasks.text import evaluate_text, lm_loss
from reti.tokenize.build import build_tokenizer, encode_text
from reti.train import TrainConfig, fit

CONTEXT = 64  # the training context of every model here
EVAL_CONTEXTS = (64, 128, 256)


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


RISE = Effect(
    "rise of the held-out loss from context 64 to 256", "sinusoidal", "ALiBi", 0.05,
    "0.05 nats/char, about 2% of the loss: more than the 0.02 nats that evaluation noise moves",
    quick_pilot=Pilot.from_diffs(range(5), (0.3261, 0.3743, 0.2785, 0.202, 0.3122), QUICK_PILOT),
    full_pilot=Pilot.from_interval(range(5), 0.536, 0.46, 0.611, FULL_PILOT),
)  # fmt: skip
FLAT = Effect(
    "ALiBi's held-out loss", "at context 256", "at context 64", 0.05,
    "extrapolating means no rise past the training length (a fall is fine: one-sided, the "
    "interval must stay below +0.05 nats/char)", kind="equivalence",
    quick_pilot=Pilot.from_diffs(range(5), (-6e-4, -1.1e-3, -3e-3, -3.1e-3, -5e-3), QUICK_PILOT),
    full_pilot=Pilot.from_interval(range(5), -0.001, -0.005, 0.003, FULL_PILOT),
)  # fmt: skip


def extrapolation_verdict(loss: dict[str, dict]) -> tuple[str, dict, list[Comparison]]:
    """The rule of the ALiBi claim, from {scheme: {context: [loss per seed]}} (a context a
    scheme cannot run at is missing or empty).

    Three parts, all must hold: (1) sinusoidal's rise (loss at 256 minus at 64, per seed) beats
    ALiBi's by more than ``RISE.smallest`` (paired t interval); (2) ALiBi's loss at 256 agrees
    with its loss at 64 within ``FLAT.smallest`` (or falls below it: extrapolation); (3)
    learned positions cannot run past 64 (or rise too).
    """
    short, long = EVAL_CONTEXTS[0], EVAL_CONTEXTS[-1]
    rises: dict[str, list[float] | None] = {}
    for scheme, by_ctx in loss.items():
        a, b = by_ctx.get(short), by_ctx.get(long)
        rises[scheme] = [y - x for x, y in zip(a, b)] if a and b else None
    comps = [compare_arms(RISE, rises["sinusoidal"], rises["alibi"], paired=True)]
    flat = compare_arms(FLAT, loss["alibi"][long], loss["alibi"][short], paired=True)
    # one-sided: a loss that falls with more context extrapolates all the more
    s = FLAT.smallest
    iv = flat.interval
    flat.verdict = HOLDS if iv.high <= s else (FAILS if iv.low > s else INCONCLUSIVE)
    comps.append(flat)
    learned = rises.get("learned")
    learned_ok = learned is None or statistics.fmean(learned) > RISE.smallest
    means = {k: None if v is None else statistics.fmean(v) for k, v in rises.items()}
    verdict = combine([*(c.verdict for c in comps), HOLDS if learned_ok else INCONCLUSIVE])
    return verdict, means, comps


def _alibi_panel(profiles: dict[str, torch.Tensor], lang):
    def draw(ax) -> None:
        for i, (scheme, curve) in enumerate(profiles.items()):
            smooth = curve.unflatten(0, (-1, 8)).mean(1)  # mean over buckets of 8 positions
            ax.plot(torch.arange(len(smooth)) * 8 + 4, smooth, marker="o", ms=3, color=f"C{i}",
                    label=scheme)  # fmt: skip
        ax.axvline(CONTEXT, color="k", ls="--", lw=1)
        ax.set_xlabel(tr("claims.alibi.xlabel", lang), fontsize=8)
        ax.set_ylabel(tr("claims.alibi.ylabel", lang), fontsize=8)
        ax.legend(fontsize=7)

    return draw


def alibi_run(budget: Budget, out: Path) -> Finding:
    """Claim 11: char GPTs trained at context 64, evaluated at 64 / 128 / 256."""
    seeds = budget.seeds_for(RISE, FLAT)  # the power rule's count (reti.claims.power)
    lm = lm_budget(budget)
    held_out = corpus()[1][: lm.eval_chars]
    schemes = ("alibi", "sinusoidal", "learned", *budget.pick((), ("relative",)))
    loss: dict[str, dict[int, list[float]]] = {s: {n: [] for n in EVAL_CONTEXTS} for s in schemes}
    profiles: dict[str, torch.Tensor] = {}
    with fewer_threads():
        for seed in seeds:
            for scheme in schemes:
                if scheme == "learned" and budget.quick and seed != seeds[0]:
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
    verdict, rises, comps = extrapolation_verdict(loss)
    numbers = [
        {"positions": s, **{f"loss @{n}": mean_std(v[n]) if v[n] else "cannot" for n in v},
         "rise 64→256": "cannot" if rises[s] is None else f"{rises[s]:+.3f}"}
        for s, v in loss.items()
    ]  # fmt: skip
    lang = budget.lang
    return Finding(
        verdict,
        tr("claims.alibi.rule", lang),
        numbers,
        ", ".join(f"{s} {'cannot run past 64' if r is None else f'{r:+.3f} nats/char'}"
                  for s, r in rises.items()),
        claim_figure(out / "alibi.png", [_alibi_panel(profiles, lang)], comps, lang),
        tr("claims.alibi.experiment", lang, layers=lm.n_layer, width=lm.d_model, ctx=CONTEXT,
           steps=lm.steps, batch=lm.batch_size, lr=lm.lr, chars=f"{lm.train_chars:,}",
           eval=f"{lm.eval_chars:,}", seeds=len(seeds))
        + (tr("claims.alibi.learned_one_seed", lang) if budget.quick else ""),
        comps,
    )  # fmt: skip


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
    labels = [_label(t) for t in TEMPERATURES]
    lang = budget.lang

    def draw(ax) -> None:
        for i, m in enumerate(metrics):
            for runs in per_seed[m]:
                ax.plot(labels, runs, marker="o", ms=3, color=f"C{i}", alpha=0.8,
                        label=m if runs is per_seed[m][0] else None)  # fmt: skip
        ax.set_xlabel(tr("claims.temperature.xlabel", lang), fontsize=8)
        ax.set_ylabel(tr("claims.temperature.ylabel", lang), fontsize=8)
        ax.legend(fontsize=7)

    numbers = [
        {"sampling": label, **{m: mean_std([r[j] for r in per_seed[m]]) for m in metrics},
         "sample (first seed)": examples[label]}
        for j, label in enumerate(labels)
    ]  # fmt: skip
    return Finding(
        verdict,
        tr("claims.temperature.rule", lang),
        numbers,
        "; ".join(f"{m}: {_trend(per_seed[m], labels)}" for m in metrics) + ".",
        claim_figure(out / "temperature.png", [draw], [], lang),
        tr("claims.temperature.experiment", lang, prompts=len(prompts), length=length,
           seeds=len(budget.seeds)),
    )  # fmt: skip


@torch.no_grad()
def limits_run(budget: Budget, out: Path) -> Finding:
    """T = 1 leaves softmax(z) as it is; as T -> 0 softmax(z / T) becomes one-hot on the
    argmax, and sampling at a tiny T generates exactly the greedy text."""
    g = torch.Generator().manual_seed(budget.seed)
    z = torch.randn(64, 50, generator=g, dtype=torch.float64) * 2
    same_at_one = torch.equal(torch.softmax(z / 1.0, -1), torch.softmax(z, -1))
    temps = (2.0, 1.0, 0.5, 0.1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6)
    top = [torch.softmax(z / t, -1).amax(-1).min().item() for t in temps]
    argmax_same = torch.equal(torch.softmax(z / temps[-1], -1).argmax(-1), z.argmax(-1))
    torch.manual_seed(budget.seed)
    model = GPT(GPTConfig(vocab_size=50, n_ctx=64, n_layer=1, n_head=2, d_model=32)).eval()
    prompt = [1, 2, 3]
    greedy = generate(model, prompt, SamplingConfig(max_tokens=40, greedy=True))
    cold = [generate(model, prompt, SamplingConfig(max_tokens=40, temperature=1e-4, seed=s))
            for s in range(5)]  # fmt: skip
    warm = generate(model, prompt, SamplingConfig(max_tokens=40, temperature=1.0, seed=0))
    ok = same_at_one and argmax_same and top[-1] > 0.999 and all(c == greedy for c in cold)
    ok = ok and warm != greedy  # control: at T = 1 sampling does depart from greedy
    ok = ok and all(a <= b + 1e-12 for a, b in zip(top, top[1:]))
    lang = budget.lang

    def draw(ax) -> None:
        ax.semilogx(temps, top, marker="o")
        ax.invert_xaxis()
        ax.set_xlabel(tr("claims.limits.xlabel", lang), fontsize=8)
        ax.set_ylabel(tr("claims.limits.ylabel", lang), fontsize=8)

    return Finding(
        HOLDS if ok else FAILS,
        tr("claims.limits.rule", lang),
        [{"T": t, "smallest top probability over 64 rows": f"{p:.6g}"} for t, p in zip(temps, top)]
        + [{"T": "1e-4 (5 sampling seeds)", "smallest top probability over 64 rows":
            f"same tokens as greedy: {all(c == greedy for c in cold)}; T=1 differs: "
            f"{warm != greedy}"}],
        tr("claims.limits.summary", lang, one=same_at_one, top=f"{top[-1]:.6g}",
           cold=all(c == greedy for c in cold)),
        claim_figure(out / "temperature_limits.png", [draw], [], lang),
        tr("claims.limits.experiment", lang),
    )  # fmt: skip


CLAIMS = [
    Claim(
        "ALiBi extrapolates",
        "Positional Encoding — Relative Positional Embeddings",
        824,
        "Considera la distanza relativa i-j tra i tokens, non la posizione assoluta. Es. ALiBi "
        "(Attention with Linear Biases): bᵢⱼ aggiunto basato sulla distanza relativa. In ALiBi "
        "non si usano positional embeddings all'inizio.",
        "ALiBi (a bias from the relative distance) works past the training length, where "
        "sinusoidal and learned absolute positions fail.",
        alibi_run,
        (RISE, FLAT),
        pilot_seeds=PILOT_SEEDS,
    ),
    Claim(
        "temperature limits",
        "Output del Transformer — Temperature",
        848,
        "Softmax: … si sceglie il token più probabile. … Temp = 1: nessun effetto. Temp < 1: "
        'distribuisce "sharper", più deterministico.',
        "T = 1 leaves the distribution as it is; as T goes to 0 sampling becomes the greedy "
        "choice of the most likely token.",
        limits_run,
    ),
    Claim(
        "temperature",
        "Output del Transformer — Temperature",
        851,
        'Temp = 1: nessun effetto. Temp < 1: distribuisce "sharper", più deterministico. '
        'Temp > 1: distribuisce "softer", più casuale, più creativa.',
        "Temperature trades determinism for diversity.",
        temperature_run,
        pilot_seeds=PILOT_SEEDS,  # a per-seed rule (no interval): it runs the default 3 / 5
    ),
]
