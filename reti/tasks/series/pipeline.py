"""The series pipeline: ``train(cfg)`` runs ``cfg.task`` into ``cfg.out`` and writes its scores.

A run folder holds what ``fit`` writes plus ``results.json`` (the model's and the baselines'
scores on the test part) and, for anomalies, ``anomalies.png``; both are written inside the
run folder's guard, so a failed run leaves the earlier one as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reti.io import atomic_write_json
from reti.runtime import seed_everything
from reti.tasks.runs import run_folder
from reti.tasks.series import anomaly, classify, filter, forecast
from reti.tasks.series.common import RunOptions, SeriesConfig, SeriesResult
from reti.tasks.series.plots import anomaly_figure, forecast_figure
from reti.train import Callback, History, RunControl, TrainConfig

RUNNERS = {"forecast": forecast.run, "classify": classify.run, "anomaly": anomaly.run,
           "filter": filter.run}  # fmt: skip
RESULTS_FILE = "results.json"
ANOMALY_PNG = "anomalies.png"


def run(
    cfg: SeriesConfig,
    *,
    resume: bool = False,
    overwrite: bool = False,
    callbacks: Sequence[Callback] = (),
    control: RunControl | None = None,
) -> SeriesResult:
    """Train ``cfg.task`` and score it beside its baselines; seeded first, so the same config
    gives the same weights and scores. With ``cfg.out`` the run lands there."""
    seed_everything(cfg.train.seed)
    out = Path(cfg.out) if cfg.out is not None else None
    opts = RunOptions(out, resume, overwrite, tuple(callbacks), control)
    with run_folder(out, resume=resume, overwrite=overwrite):
        result = RUNNERS[cfg.task](cfg, opts)
        if out is not None:
            if result.trace is not None:
                fig = anomaly_figure(result.trace, result.data)
                fig.savefig(out / ANOMALY_PNG, dpi=110, bbox_inches="tight")
            atomic_write_json(out / RESULTS_FILE, result.as_dict())
    return result


def train(
    cfg: SeriesConfig,
    *,
    resume: bool = False,
    overwrite: bool = False,
    callbacks: Sequence[Callback] = (),
    control: RunControl | None = None,
) -> History:
    """The pipeline contract: ``run`` and return the History of the (first) trained model."""
    kw = {"resume": resume, "overwrite": overwrite, "callbacks": callbacks, "control": control}
    return run(cfg, **kw).history


def demo_section(out_dir: str | Path, quick: bool = True) -> str:
    """Markdown for ``reti demo``: a TCN forecast of the airline series beside seasonal naive."""
    out_dir = Path(out_dir)
    cfg = SeriesConfig(
        data="airline", horizon=12, window=24, channels=32, levels=2,
        out=str(out_dir / "series-run"),
        train=TrainConfig(epochs=40 if quick else 150, batch_size=16, lr=3e-3, quiet=True, seed=0),
    )  # fmt: skip
    res = run(cfg, overwrite=True)
    fc = forecast.forecast_from_run(cfg.out, 24)
    picture = out_dir / "series-forecast.png"
    forecast_figure(fc, "airline: TCN forecast").savefig(picture, dpi=110, bbox_inches="tight")
    ours = next(iter(res.models.values()))["mase"]
    theirs = res.baselines["seasonal naive (m=12)"]["mase"]
    rows = [f"| {k} | {v['mase']:.3f} | {v['smape']:.2f} |"
            for k, v in {**res.models, **res.baselines}.items()]  # fmt: skip
    return "\n".join([
        "Airline passengers, monthly. A causal TCN (option A, direct 12-step head) trained on "
        f"the first 70% of the series; "
        f"test forecasts from {res.info['test_origins']} origins (MASE: test MAE over the "
        "in-sample seasonal-naive MAE, m = 12).", "",
        "| forecaster | MASE | sMAPE % |", "|---|---|---|", *rows, "",
        f"Beats seasonal naive on the test part: {'yes' if ours < theirs else 'no'}.", "",
        f"![forecast]({picture.name})", "",
    ])  # fmt: skip
