"""The series pipeline: ``train(cfg)`` runs ``cfg.task`` into ``cfg.out`` and writes its scores.

A run folder holds what ``fit`` writes plus ``results.json`` (the model's and the baselines'
scores on the test part) and, for anomalies, ``anomalies.png``; both are written inside the
run folder's guard, so a failed run leaves the earlier one as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from reti.io import atomic_write_json
from reti.runtime import seeded, world
from reti.tasks.contract import LoadedRun, PipelineBase
from reti.tasks.runs import open_run
from reti.tasks.series import anomaly, classify, filter, forecast
from reti.tasks.series.common import SECTION, SeriesConfig, SeriesResult
from reti.train import Callback, History, RunControl, RunOptions

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
    gives the same weights and scores (the global generators are put back after, see
    ``reti.runtime.seeded``). With ``cfg.out`` the run lands there."""
    with seeded(cfg.train.seed):  # the run owns the global generators; they are put back
        out = Path(cfg.out) if cfg.out is not None else None
        opts = RunOptions(out, resume, overwrite, callbacks, control)
        with open_run(opts):
            result = RUNNERS[cfg.task](cfg, opts)
            # under torchrun, rank 0 writes the shared files
            if out is not None and world()[0] == 0:
                if result.trace is not None:
                    from reti.viz import anomaly_figure  # here: importing series loads no viz

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


class SeriesPipeline(PipelineBase):
    """The pipeline contract (``reti.tasks.contract``) for series; ``load_run``, ``evaluate``
    and ``predict`` read forecasting runs (the other tasks keep their scores in results.json)."""

    name, config_type = SECTION, SeriesConfig

    train_function = staticmethod(train)

    def load_run(self, path: str | Path) -> LoadedRun:
        model, cfg, info = forecast.load_run(path)
        extras = {k: info[k] for k in ("window", "season", "method")}
        return LoadedRun(model.eval(), self.config_of_run(path), extras)

    def evaluate(self, path: str | Path) -> dict[str, float]:
        """MAE and RMSE of the forecast ``horizon`` steps past the end of the training and
        validation parts, against the truth (in the data's units)."""
        horizon = self.config_of_run(path).horizon
        fc = forecast.forecast_from_run(path, horizon, device="cpu")
        n = len(fc["truth"])
        err = fc["forecast"][:n] - fc["truth"]
        return {"mae": err.abs().mean().item(), "rmse": err.pow(2).mean().sqrt().item()}

    def predict(self, path: str | Path, inputs: Sequence[int]) -> list[torch.Tensor]:
        """Horizons -> the forecasts (steps, C) from the start of the test part."""
        return [
            forecast.forecast_from_run(path, steps, device="cpu")["forecast"] for steps in inputs
        ]


PIPELINE = SeriesPipeline()
