"""reti.tasks.series: forecast, classify, detect anomalies, filter; baselines beside the model.

notes: Convoluzioni 1D (applications), Causal Model (options A and B), Autoregressive Generation.
``train(cfg)`` is the pipeline contract (-> History); ``run(cfg)`` also gives the scores
(``SeriesResult``). One module per task; ``common`` holds what they share.
"""

from reti.tasks.series.anomaly import next_step_errors
from reti.tasks.series.common import (
    DEFAULT_DATA,
    METHODS,
    MODELS,
    SECTION,
    SERIES_TRAIN_DEFAULTS,
    TASKS,
    AnomalyTrace,
    SeriesConfig,
    SeriesModel,
    SeriesResult,
    build_net,
    series_train_config,
)
from reti.tasks.series.filter import LearnedFilter
from reti.tasks.series.forecast import forecast_from_run, load_run, predict, seasonal_naive
from reti.tasks.series.pipeline import PIPELINE, RESULTS_FILE, SeriesPipeline, run, train

__all__ = [
    "DEFAULT_DATA",
    "METHODS",
    "MODELS",
    "PIPELINE",
    "RESULTS_FILE",
    "SECTION",
    "SERIES_TRAIN_DEFAULTS",
    "TASKS",
    "AnomalyTrace",
    "LearnedFilter",
    "SeriesConfig",
    "SeriesModel",
    "SeriesPipeline",
    "SeriesResult",
    "anomaly_figure",
    "build_net",
    "forecast_figure",
    "forecast_from_run",
    "load_run",
    "next_step_errors",
    "predict",
    "run",
    "seasonal_naive",
    "series_train_config",
    "train",
]


def __getattr__(name: str):
    """``anomaly_figure`` and ``forecast_figure`` live in ``reti.viz``, loaded when asked for
    (importing the pipeline loads no figure code)."""
    if name in ("anomaly_figure", "forecast_figure"):
        from reti import viz

        return getattr(viz, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
