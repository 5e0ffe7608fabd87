"""Claim 10 on sequences: causal convolution never sees the future; forecasting options A and B.

notes: Causal Convolution ("L'output a un tempo i dipende solo dai passi precedenti"), Causal
Model (Opzioni: pool H + regressor, or the shifted target Y = [x_1 ... x_n]).

The causality half is a perturbation test, exact by construction: change every input after step
t, run the layer again, and the outputs at steps <= t must be bit-for-bit the same. A centered
(non-causal) convolution is the control that must move. The forecasting half trains the series
pipeline (``reti.tasks.series``) with both options on a real series and reports MASE beside the
naive and seasonal-naive forecasts.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn

from reti.claims.base import FAILS, HOLDS, Budget, Claim, Finding, mean_std
from reti.claims.common import paired
from reti.claims.figures import claim_figure
from reti.claims.power import FULL_PILOT, PILOT_SEEDS, QUICK_PILOT
from reti.claims.stats import Effect, Pilot, combine
from reti.i18n import text
from reti.layers.causal import CausalConv1d
from reti.models import TCN, SeriesTransformer, SeriesTransformerConfig, TCNConfig
from reti.tasks.series import SeriesConfig  # TODO(tasks): a lower-level forecasting entry point
from reti.tasks.series import run as run_series
from reti.train import TrainConfig

OPTION_A = "option A (pool + regressor)"  # the series task's "direct" method: last-position H
OPTION_B = "option B (shifted targets)"  # its "rollout" method: Y = [x_1 ... x_n], rolled out
QUICK_FORECAST = ("airline", 20)  # (series, epochs); airline: 144 months, season 12
FULL_FORECAST = ("co2", 10)  # weekly Mauna Loa CO2, 2284 weeks, season 52


@contextmanager
def fewer_threads(n: int = 1) -> Iterator[None]:
    """Run tiny models on ``n`` intra-op threads, then restore the setting.

    Small convolutions and matmuls gain little from a second thread and lose a lot when other
    processes share the cores (measured: a 2-layer GPT took ~10x longer on 2 busy threads).
    """
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# -- causality: the perturbation test ---------------------------------------------------------


@torch.no_grad()
def future_change(
    f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, t: int, generator: torch.Generator
) -> torch.Tensor:
    """|f(x') - f(x)| per time step, where x' = x with every step after ``t`` replaced by noise.

    Shape: x (B, T, C) time-major; f maps it to (B, T, ...) -> returns (T,), the largest change
    at each step. A causal f gives exactly 0 at steps 0..t.
    """
    moved = x.clone()
    moved[:, t + 1 :] = torch.randn(moved[:, t + 1 :].shape, generator=generator) * 3.0
    diff = (f(moved) - f(x)).abs()
    return diff.flatten(2).amax(dim=(0, 2)) if diff.dim() > 2 else diff.amax(dim=0)


def _channels_first(conv: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    """(B, T, C) in and out around a layer that works on PyTorch's (B, C, T)."""
    return lambda x: conv(x.transpose(1, 2)).transpose(1, 2)


def causal_models(seed: int, channels: int = 3) -> dict[str, Callable]:
    """The functions the test perturbs: three causal ones and the centered control."""
    torch.manual_seed(seed)
    tcn = TCN(TCNConfig(channels, channels, task="sequence", channels=16, levels=3)).eval()
    attn = SeriesTransformerConfig(channels, channels, "sequence", d_model=32, pos="alibi")
    return {
        "CausalConv1d (k=3, d=2)": _channels_first(CausalConv1d(channels, 8, 3, dilation=2)),
        "TCN (3 blocks, sequence head)": tcn,
        "causal transformer (ALiBi, 2 blocks)": SeriesTransformer(attn).eval(),
        "centered Conv1d (k=3, pad=1)": _channels_first(nn.Conv1d(channels, 8, 3, padding=1)),
    }


def causality_check(seeds: list[int], length: int = 48) -> dict[str, dict]:
    """For each model: the largest change at steps <= t over seeds and cut points t, and one
    change profile (T,) for the figure."""
    results: dict[str, dict] = {}
    with fewer_threads():  # tiny tensors: a second busy thread costs ~100x here (measured)
        for seed in seeds:
            g = torch.Generator().manual_seed(seed)
            x = torch.randn(4, length, 3, generator=g)
            for name, f in causal_models(seed).items():
                entry = results.setdefault(name, {"past_change": 0.0, "profile": None})
                for t in (0, length // 3, length // 2, length - 2):
                    change = future_change(f, x, t, g)
                    entry["past_change"] = max(entry["past_change"], change[: t + 1].max().item())
                    if t == length // 2 and entry["profile"] is None:
                        entry["profile"] = change
    return results


# -- forecasting: option A vs option B --------------------------------------------------------


def forecast_options(budget: Budget, data: str, epochs: int) -> dict[str, list[float]]:
    """MASE on the test part per seed for options A and B and the two baselines."""
    seeds = budget.seeds_for(FORECAST)  # the power rule's count (reti.claims.power)
    mase: dict[str, list[float]] = {}
    for seed in seeds:
        train = TrainConfig(
            epochs=epochs, batch_size=32, lr=3e-3, seed=seed, device=budget.device, quiet=True
        )
        cfg = SeriesConfig(
            task="forecast", data=data, compare=True, horizon=12, levels=3, channels=32,
            missing="interpolate", train=train,
        )  # fmt: skip
        torch.manual_seed(seed)
        result = run_series(cfg)
        for name, metrics in {**result.models, **result.baselines}.items():
            if name in result.models:  # "tcn (direct head)" / "tcn (autoregressive rollout)"
                name = OPTION_A if "direct" in name else OPTION_B
            mase.setdefault(name, []).append(metrics["mase"])
    return mase


def _profile_panel(causal: dict[str, dict], t: int, lang: str | None):
    def draw(ax) -> None:
        for i, (name, entry) in enumerate(causal.items()):
            ax.plot(entry["profile"].numpy(), marker="o", ms=2, color=f"C{i}", label=name)
        ax.axvline(t + 0.5, color="k", ls="--", lw=1)
        ax.set_xlabel(text("claims.causal.xlabel", lang), fontsize=8)
        ax.set_ylabel(text("claims.causal.ylabel", lang), fontsize=8)
        ax.set_title(text("claims.causal.title", lang), fontsize=9)
        ax.legend(fontsize=6)

    return draw


FORECAST = Effect(
    "test MASE", "naive forecast", "option B (shifted targets)", 0.1,
    "0.1 of the in-sample seasonal-naive error: a forecast that gains less than a tenth of "
    "that over the naive one is not a useful forecaster",
    quick_pilot=Pilot.from_diffs(range(5), (1.6992, 1.6232, 1.8333, 1.5897, 2.1026), QUICK_PILOT),
    full_pilot=Pilot.from_interval(range(5), 0.66, 0.61, 0.71, FULL_PILOT),
)  # fmt: skip


def causal_run(budget: Budget, out: Path) -> Finding:
    """Claim 10: the perturbation test, then options A and B against the baselines."""
    seeds = budget.seeds_for(FORECAST)  # the power rule's count (reti.claims.power)
    length = 48
    data, epochs = budget.pick(QUICK_FORECAST, FULL_FORECAST)
    with fewer_threads():
        causal = causality_check(seeds, length)
        mase = forecast_options(budget, data, epochs)
    causal_names = [n for n in causal if not n.startswith("centered")]
    leak = max(causal[n]["past_change"] for n in causal_names)
    control = causal["centered Conv1d (k=3, pad=1)"]["past_change"]
    exact_ok = leak == 0.0 and control > 0.0
    comp = paired(FORECAST, mase["naive"], mase[OPTION_B], seeds)
    verdict = combine([HOLDS if exact_ok else FAILS, comp.verdict])
    a_vs_b = statistics.fmean(mase[OPTION_A]) - statistics.fmean(mase[OPTION_B])
    numbers = [
        {"check": f"{n}: largest change at steps <= t", "value": f"{e['past_change']:.3g}"}
        for n, e in causal.items()
    ] + [{"check": f"test MASE, {n}", "value": mean_std(v)} for n, v in mase.items()]
    numbers.append({"check": "MASE option A - option B (reported, not judged)",
                    "value": f"{a_vs_b:+.3f}"})  # fmt: skip
    lang = budget.lang
    return Finding(
        verdict,
        text("claims.causal.rule", lang),
        numbers,
        text("claims.causal.summary", lang, leak=f"{leak:.3g}", control=f"{control:.3g}",
             data=data, a=mean_std(mase[OPTION_A]), b=mean_std(mase[OPTION_B]),
             naive=mean_std(mase["naive"])),
        claim_figure(out / "causal.png", [_profile_panel(causal, length // 2, lang)], [comp],
                     lang),
        text("claims.causal.experiment", lang, length=length, seeds=len(seeds),
             data=data, epochs=epochs),
        [comp],
    )  # fmt: skip


CLAIMS = [
    Claim(
        "causal convolution",
        "Causal Convolution; Causal Model",
        616,
        "L'output a un tempo i dipende solo dai passi precedenti (non futuri). … Definisce un "
        "target Y = [x₁, x₂,..., xₙ] … Quest'ultimo funziona solo con modelli causali.",
        "A causal convolution never sees the future, so a causal model can be trained on the "
        "shifted sequence (option B) and forecast.",
        causal_run,
        (FORECAST,),
        pilot_seeds=PILOT_SEEDS,
    ),
]
