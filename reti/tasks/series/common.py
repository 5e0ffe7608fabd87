"""What the four series tasks share: the config, the model wrapper, the networks, the result.

notes: Convoluzioni 1D (applications), Causal Model (options A and B). Every task scales its
data with a ``StandardScaler`` fit on the training part only (saved in the checkpoint with the
network), trains through ``reti.train.fit`` and scores the model beside simple baselines.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import nn

from reti.config import (
    BOOL,
    COUNT,
    FRACTION,
    NON_NEGATIVE,
    OPTIONAL_COUNT,
    check,
    integer,
    interval,
    one_of,
    option,
)
from reti.errors import ConfigError
from reti.guards import check_batch
from reti.layers import StandardScaler
from reti.models.registry import SERIES_MODELS, build_series_model
from reti.tasks.runs import settings
from reti.train import History, RunOptions, TrainConfig, fit

TASKS = ("forecast", "classify", "anomaly", "filter")
METHODS = ("direct", "rollout")  # option A multi-horizon head | option B + autoregressive rollout
MODELS = tuple(SERIES_MODELS)
DEFAULT_DATA = {"forecast": "co2", "classify": "GunPoint", "anomaly": "kdd-tsad-135",
                "filter": "airline"}  # fmt: skip
_AT_LEAST_1 = COUNT.says(">= 1")  # the wording the CLI has always used
SECTION = "series"  # where a run's config.json keeps the SeriesConfig (model_config["series"])
# Each task's training defaults (docs/performance.md "Time to a good model"). Series are small:
# many epochs of small batches. The trainer's generic 1 epoch of batch 64 at lr 1e-3 left
# airline's forecast at MASE 2.9, worse than seasonal naive's 1.77 (with these: 0.62), and
# GunPoint's classifier at 0.51 accuracy (with these: 0.87). Forecasting at lr 1e-2 meets
# seasonal naive's MASE in about half the steps of 3e-3; the classifier did worse at 1e-2 (0.73
# and 0.89 against 0.87 and 0.99, seeds 0 and 1). Anomalies keep the trainer's own (150 epochs
# took 12x longer for a mixed result).
SERIES_TRAIN_DEFAULTS: dict[str, dict[str, Any]] = {
    "forecast": {"epochs": 150, "batch_size": 16, "lr": 1e-2},
    "classify": {"epochs": 150, "batch_size": 16, "lr": 3e-3},
    "anomaly": {},
    "filter": {"epochs": 150, "batch_size": 16, "lr": 3e-3},
}


def series_train_config(task: str = "forecast", **changes: Any) -> TrainConfig:
    """TrainConfig with ``task``'s defaults, then ``changes``. A ``SeriesConfig`` made without
    ``train`` takes its task's: ``SeriesConfig(task="classify")`` trains as
    ``reti series classify`` does."""
    if task not in SERIES_TRAIN_DEFAULTS:
        raise ConfigError(f"task must be one of {list(SERIES_TRAIN_DEFAULTS)}, got {task!r}")
    return TrainConfig(**{**SERIES_TRAIN_DEFAULTS[task], **changes})


@dataclass
class SeriesConfig:
    """What to learn from which series, with which model, and how (``train``: the trainer's)."""

    task: str = option(
        "forecast", "The task: forecast, classify, anomaly or filter.", one_of(TASKS)
    )
    data: str | None = option(
        None,
        "The series (see reti series data) or csv:PATH / ts:FOLDER; none: co2 to forecast, "
        "GunPoint to classify, kdd-tsad-135 for anomalies, airline to filter.",
    )
    model: str = option("tcn", "The network: tcn, fcn or transformer.", one_of(MODELS))
    method: str = option(
        "direct",
        "Forecasting: direct (option A, a multi-step head) or rollout (option B, one step fed "
        "back).",
        one_of(METHODS),
    )
    compare: bool = option(False, "Forecasting: also train the other method and compare.", BOOL)
    horizon: int = option(12, "Steps ahead to forecast.", _AT_LEAST_1)
    window: int | None = option(
        None,
        "Input steps per sample (none: two seasons, at least 24 and the receptive field).",
        integer(2).or_none().says(">= 2 or None"),
    )
    stride: int = option(1, "Steps between the starts of two training windows.", _AT_LEAST_1)
    columns: str | None = option(None, "CSV value columns, comma-separated (none: all).")
    time_column: str | None = option(None, "The CSV column of time stamps.")
    missing: str = option(
        "interpolate",
        "Missing values: interpolate them (the built-in co2 record has gaps) or refuse.",
    )
    season: int | None = option(
        None, "Seasonal period m (none: the data set's own).", OPTIONAL_COUNT
    )
    relative: bool = option(
        True,
        "Forecast the change from the window's last value (a trend may leave the range).",
        BOOL,
    )
    channels: int = option(32, "Channels (width) of the network.", _AT_LEAST_1)
    levels: int = option(4, "Levels (blocks) of the network.", _AT_LEAST_1)
    kernel_size: int = option(3, "Kernel size of the convolutions.", _AT_LEAST_1)
    dropout: float = option(0.0, "Dropout probability inside the network.", FRACTION)
    val: float = option(0.15, "Fraction of the series (in time order) for validation.", FRACTION)
    test: float = option(0.15, "Fraction of the series (the end) for the test scores.", FRACTION)
    quantile: float = option(
        0.999,
        "Anomalies: flag errors above this quantile of the training errors.",
        interval(0, 1, "(]"),
    )
    noise: float = option(
        0.5, "Filtering: std of the noise added to the scaled series.", NON_NEGATIVE.says(">= 0")
    )
    filter_width: int = option(9, "Filtering: width of the learned filter (odd).", _AT_LEAST_1)
    out: str | None = option(None, "The run folder (none: runs/series/<data>-<task>).")
    train: TrainConfig | None = None  # None: the task's training defaults (set after init)

    def __post_init__(self) -> None:
        check(self)
        if self.data is None:
            self.data = DEFAULT_DATA[self.task]
        if self.train is None:  # SeriesConfig(task="classify") trains as `reti series classify`
            self.train = series_train_config(self.task)

    @property
    def column_list(self) -> list[str] | None:
        """``columns`` as a list (None: every column)."""
        return [c.strip() for c in self.columns.split(",")] if self.columns else None


@dataclass
class AnomalyTrace:
    """What the anomaly picture draws: the test series' first channel, flags and true labels."""

    values: torch.Tensor
    flags: torch.Tensor
    labels: torch.Tensor


@dataclass
class SeriesResult:
    """Scores of the trained model(s) and of the baselines on the test part, and the run."""

    task: str
    data: str
    models: dict[str, dict[str, float]]
    baselines: dict[str, dict[str, float]]
    history: History
    info: dict[str, Any] = field(default_factory=dict)  # season, window, classes, ...
    trace: AnomalyTrace | None = None

    @property
    def model(self) -> SeriesModel:
        """The trained model (network + scaler), on the CPU."""
        return self.history.model

    def as_dict(self) -> dict[str, Any]:
        """The JSON of ``results.json``."""
        return {"task": self.task, "data": self.data, **self.info, "models": self.models,
                "baselines": self.baselines}  # fmt: skip


class SeriesModel(nn.Module):
    """The network and its StandardScaler (fit on the training part) in one state dict.

    Shape: input already scaled, (B, T, C) -> the network's output.
    """

    def __init__(self, net: nn.Module, scaler: StandardScaler):
        super().__init__()
        self.net, self.scaler = net, scaler

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def build_net(
    cfg: SeriesConfig, in_ch: int, out: int, head: str, horizon: int, ctx: int
) -> nn.Module:
    """The network named by ``cfg.model`` (``reti.models.registry.SERIES_MODELS``) with a
    ``head`` ("forecast" | "sequence" | "classify")."""
    return build_series_model(
        cfg.model, in_ch, out, head, horizon, channels=cfg.channels, levels=cfg.levels,
        kernel_size=cfg.kernel_size, dropout=cfg.dropout, n_ctx=ctx,
    )  # fmt: skip


def base(x: torch.Tensor, relative: bool) -> torch.Tensor:
    """What a window is taken relative to: its last value, or zero. (B, W, C) -> (B, 1, C)."""
    return x[:, -1:] if relative else torch.zeros_like(x[:, -1:])


def model_config(cfg: SeriesConfig, channels: int, **extra: Any) -> dict[str, Any]:
    """The JSON ``model_config`` of every checkpoint: enough to rebuild the model and to re-run
    the whole pipeline (``--config RUN/config.json``)."""
    return {SECTION: settings(cfg), "channels": channels, **extra}


def fit_series(model, x, y, cfg: SeriesConfig, loss_fn, meta, opts: RunOptions, val=None,
               metrics=None) -> History:  # fmt: skip
    """``fit`` with a batch no larger than the data, watching the training loss when there is
    nothing to validate on; the trained model comes back on the CPU (beside the data)."""
    tc = replace(cfg.train, batch_size=min(cfg.train.batch_size, len(x)))
    # one batch's activations must fit (a copy of the model on the meta device: nothing allocated)
    check_batch(lambda: copy.deepcopy(model).to("meta"), tuple(x.shape[1:]), tc.batch_size,
                f"the {cfg.task} model")  # fmt: skip
    if val is None and tc.monitor.startswith("val_"):
        tc = replace(tc, monitor="train_loss")
    hist = fit(
        model, (x, y), tc, loss_fn=loss_fn, val=val, metrics=metrics, model_config=meta,
        progress_desc=f"series {cfg.task}", **vars(opts),
    )  # fmt: skip
    hist.model = hist.model.cpu()
    return hist
