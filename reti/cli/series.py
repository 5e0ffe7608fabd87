"""`reti series`: train forecasters, classifiers, anomaly detectors and filters on series.

reti series train            (forecasts co2, its gaps interpolated, into runs/series/co2-forecast)
reti series train --data co2 --task forecast --model tcn --horizon 12 --out runs/series/co2
reti series train --config runs/series/co2/config.json --out runs/series/co2-again
reti series forecast --checkpoint runs/series/co2 --steps 52
reti series classify --data GunPoint --model fcn --epochs 300
reti series anomalies --data kdd-tsad-135 --model tcn --epochs 5
reti series filter --data airline --noise 0.5
reti series data
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from reti.cli.args import add_pipeline_args, pipeline_from_args
from reti.cli.runkind import expect_run
from reti.data.series import ANOMALY_SETS, FORECAST_SETS, UCR_SETS
from reti.errors import ConfigError
from reti.io import atomic_write_text
from reti.runtime import world
from reti.tasks import series

SHORTCUTS = {"train": None, "classify": "classify", "anomalies": "anomaly", "filter": "filter"}
HELP = {
    "train": "train for any task (--task forecast|classify|anomaly|filter)",
    "classify": "classify UCR series (train --task classify)",
    "anomalies": "detect anomalies; PNG with the flagged points",
    "filter": "learn a 1D filter that denoises a noisy series",
}


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``reti series train|forecast|classify|anomalies|filter|data``."""
    parser = sub.add_parser("series", help="time series: forecast, classify, anomalies, filter")
    actions = parser.add_subparsers(dest="series_command", metavar="ACTION")
    parser.set_defaults(func=lambda args: _usage(parser))
    for name, task in SHORTCUTS.items():
        p = actions.add_parser(name, help=HELP[name])
        add_pipeline_args(
            p, series.SeriesConfig, group="series", skip=("task",) if task else (),
            train_defaults=series.SERIES_TRAIN_DEFAULTS[task or "forecast"],
        )  # fmt: skip
        p.set_defaults(func=_train, shortcut=task)
    fc = actions.add_parser("forecast", help="forecast from a trained run: CSV + PNG")
    fc.add_argument("--checkpoint", required=True, help="A forecast run folder or checkpoint.")
    fc.add_argument("--steps", type=int, default=12, help="Steps ahead. Default: 12.")
    fc.add_argument("--out", default=None, help="The folder for forecast.csv and forecast.png "
                    "(default: the run folder).")  # fmt: skip
    fc.add_argument("--device", default="auto",
                    help="Where to compute: auto (default), cpu, cuda, cuda:N or mps.")  # fmt: skip
    fc.set_defaults(func=_forecast)
    data = actions.add_parser("data", help="the built-in series data sets")
    data.set_defaults(func=_data)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _train(args: argparse.Namespace) -> int:
    extra = {"task": args.shortcut} if args.shortcut else {}
    cfg = pipeline_from_args(  # the task (a shortcut's, --task or the file's) picks the recipe
        series.SeriesConfig, args, section=series.SECTION,
        train_defaults=lambda first: series.SERIES_TRAIN_DEFAULTS[first.task], extra=extra,
    )  # fmt: skip
    if cfg.out is None:
        cfg.out = f"runs/series/{cfg.data.replace(':', '_').replace('/', '_')}-{cfg.task}"
    result = series.run(cfg, resume=args.resume, overwrite=args.overwrite)
    if world()[0] != 0:  # under torchrun only rank 0 prints
        return 0
    print(_table(result))
    print(f"run: {cfg.out}")
    if result.trace is not None:
        print(f"picture: {cfg.out}/anomalies.png")
    return 0


def _table(result: series.SeriesResult) -> str:
    """The model rows, then the baseline rows, one column per metric."""
    rows = {**result.models, **{f"{k} (baseline)": v for k, v in result.baselines.items()}}
    cols = list(next(iter(rows.values())))
    width = max(len(k) for k in rows) + 2
    lines = [f"{result.task} on {result.data}", " " * width + " | ".join(cols)]
    for name, scores in rows.items():
        cells = " | ".join(f"{_fmt(scores[c]):>{len(c)}}" for c in cols)
        lines.append(f"{name:<{width}}{cells}")
    return "\n".join(lines)


def _fmt(v: float) -> str:
    return "n/a" if isinstance(v, float) and math.isnan(v) else f"{v:.4g}"


def _forecast(args: argparse.Namespace) -> int:
    if args.steps < 1:
        raise ConfigError(f"--steps must be >= 1, got {args.steps}")
    expect_run(args.checkpoint, "series", "reti series forecast")
    fc = series.forecast_from_run(args.checkpoint, args.steps, device=args.device)
    out = Path(args.out or args.checkpoint)
    channels = fc["forecast"].shape[1]
    names = ["forecast", "truth", "seasonal_naive"]
    header = ["step"] + [n if channels == 1 else f"{n}_{c}" for n in names for c in range(channels)]
    lines = [",".join(header)]
    for i in range(args.steps):
        truth = fc["truth"][i].tolist() if i < len(fc["truth"]) else [""] * channels
        cells = fc["forecast"][i].tolist() + truth + fc["seasonal_naive"][i].tolist()
        lines.append(",".join([str(i + 1)] + [f"{v:.6g}" if v != "" else "" for v in cells]))
    csv_path = atomic_write_text(out / "forecast.csv", "\n".join(lines) + "\n")
    png = out / "forecast.png"
    series.forecast_figure(fc).savefig(png, dpi=110, bbox_inches="tight")
    print(f"forecast of {args.steps} steps ({fc['method']}): {csv_path}\npicture: {png}")
    return 0


def _data(args: argparse.Namespace) -> int:
    print("forecasting (season m): " + ", ".join(f"{k} ({v[3]})" for k, v in FORECAST_SETS.items()))
    print("classification (UCR): " + ", ".join(UCR_SETS))
    print("anomalies: " + ", ".join(ANOMALY_SETS))
    print("from a path: csv:PATH (--columns a,b --time-column t), ts:FOLDER (*_TRAIN/_TEST.ts)")
    return 0
