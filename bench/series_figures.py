"""Series figures to reach: UCR accuracy, MASE against seasonal naive, anomaly F1.

What, on the built-in data (fetched on first use):
  * UCR test accuracy of the FCN (Wang et al. 2017) on GunPoint, ItalyPowerDemand, ArrowHead,
    mean over 3 seeds, each run capped in epochs so it stays under a minute on a laptop CPU;
    the published FCN numbers (100, 96.1, 84.3) are printed beside it. Our FCN is narrower
    (--channels, default 64: filters 64-128-64 instead of 128-256-128) and trains for far fewer
    epochs than the paper's 2000, to fit the time cap. The recipe that reaches the paper's
    GunPoint and ArrowHead figures within 60 s (CPU) is bench/ucr_recipe.py.
  * Forecasting MASE of a TCN (direct multi-horizon head) on co2, airline and taylor, beside
    naive and seasonal naive on the same test origins (rolling origin over the last 15%).
  * Anomaly precision/recall/F1 (and the point-adjusted variant, named as such) of the TCN
    next-step error detector on KDD-TSAD #135 and the ECG set, beside a z-score detector.

How: one process, torch threads as given (default 1), wall-clock seconds per run. Other
processes shared the CPU when these numbers were first taken: rerun on a quiet machine.

    python bench/series_figures.py [--quick] [--only ucr|forecast|anomaly]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import replace

import torch

from reti.tasks.series import SeriesConfig, run
from reti.train import TrainConfig

PUBLISHED_FCN = {"GunPoint": 100.0, "ItalyPowerDemand": 96.1, "ArrowHead": 84.3}
UCR_EPOCHS = {"GunPoint": 120, "ItalyPowerDemand": 150, "ArrowHead": 200}
FORECASTS = {  # data -> (horizon, epochs, extra SeriesConfig fields)
    "co2": (12, 15, {"missing": "interpolate"}),
    "airline": (12, 60, {"window": 24, "levels": 2}),
    "taylor": (48, 8, {}),
}
ANOMALIES = {"kdd-tsad-135": 10, "ecg": 4}


def timed(cfg: SeriesConfig, train: TrainConfig) -> tuple[dict, float]:
    start = time.perf_counter()
    result = run(replace(cfg, train=train)).as_dict()  # the run's scores, as results.json has them
    return result, time.perf_counter() - start


def ucr(quick: bool, channels: int) -> dict:
    out = {}
    print(f"\n{'UCR (FCN)':<18} {'acc % (3 seeds)':>22} {'mean':>6} {'FCN paper':>9} "
          f"{'majority':>8} {'s/run':>6}")  # fmt: skip
    for name, epochs in UCR_EPOCHS.items():
        accs, secs = [], []
        for seed in range(1 if quick else 3):
            cfg = SeriesConfig(task="classify", data=name, model="fcn", channels=channels)
            tc = TrainConfig(epochs=epochs // (3 if quick else 1), batch_size=16, lr=3e-3,
                             schedule="cosine", warmup_steps=20,
                             seed=seed, quiet=True, device="cpu")  # fmt: skip
            res, s = timed(cfg, tc)
            accs.append(100 * res["models"]["fcn"]["accuracy"])
            secs.append(s)
        major = 100 * res["baselines"]["majority class"]["accuracy"]
        mean = statistics.mean(accs)
        print(f"{name:<18} {' '.join(f'{a:6.1f}' for a in accs):>22} {mean:6.1f} "
              f"{PUBLISHED_FCN[name]:9.1f} {major:8.1f} {max(secs):6.1f}")  # fmt: skip
        out[name] = {"accuracy": mean, "runs": accs, "published": PUBLISHED_FCN[name],
                     "majority": major, "seconds": max(secs)}  # fmt: skip
    return out


def forecast(quick: bool) -> dict:
    out = {}
    print(
        f"\n{'forecast (TCN)':<18} {'MASE model':>10} {'seasonal naive':>15} {'naive':>8} {'s':>6}"
    )
    for name, (horizon, epochs, extra) in FORECASTS.items():
        cfg = SeriesConfig(data=name, horizon=horizon, **extra)
        tc = TrainConfig(epochs=max(epochs // (3 if quick else 1), 1), batch_size=32, lr=3e-3,
                         quiet=True, device="cpu")  # fmt: skip
        res, s = timed(cfg, tc)
        model = next(iter(res["models"].values()))["mase"]
        seasonal = next(v["mase"] for k, v in res["baselines"].items() if k.startswith("seasonal"))
        naive = res["baselines"]["naive"]["mase"]
        print(f"{name:<18} {model:>10.3f} {seasonal:>15.3f} {naive:>8.3f} {s:>6.1f}")
        out[name] = {"mase": model, "seasonal_naive": seasonal, "naive": naive, "seconds": s}
    return out


def anomaly(quick: bool) -> dict:
    out = {}
    print(f"\n{'anomaly':<14} {'detector':<24} {'P':>6} {'R':>6} {'F1':>6} {'PA-F1':>6} {'s':>6}")
    for name, epochs in ANOMALIES.items():
        cfg = SeriesConfig(task="anomaly", data=name, window=64, channels=32, levels=3)
        tc = TrainConfig(epochs=max(epochs // (3 if quick else 1), 1), batch_size=32, lr=3e-3,
                         quiet=True, device="cpu")  # fmt: skip
        res, s = timed(cfg, tc)
        for det, sc in {**res["models"], **res["baselines"]}.items():
            print(f"{name:<14} {det:<24} {sc['precision']:6.3f} {sc['recall']:6.3f} "
                  f"{sc['f1']:6.3f} {sc['point-adjusted f1']:6.3f} {s:6.1f}")  # fmt: skip
        model = next(iter(res["models"].values()))
        out[name] = {"f1": model["f1"], "pa_f1": model["point-adjusted f1"],
                     "zscore_f1": res["baselines"]["z-score"]["f1"], "seconds": s}  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, a third of the epochs")
    parser.add_argument("--only", choices=("ucr", "forecast", "anomaly"), default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--channels", type=int, default=64, help="FCN width (paper: 128)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    parts = {"ucr": lambda: ucr(args.quick, args.channels),
             "forecast": lambda: forecast(args.quick),
             "anomaly": lambda: anomaly(args.quick)}  # fmt: skip
    figures = {k: f() for k, f in parts.items() if args.only in (None, k)}
    accs = [v["accuracy"] for v in figures.get("ucr", {}).values()]
    ucr_mean = round(statistics.mean(accs), 2) if accs else None  # None: UCR part not run
    paper = round(statistics.mean(PUBLISHED_FCN.values()), 2)
    seconds = sum(v.get("seconds", 0) for part in figures.values() for v in part.values())
    summary = {"bench": "series_figures", "reti": ucr_mean, "peer": paper,
               "unit": "mean UCR test accuracy % (peer: published FCN)",
               "ratio": round(ucr_mean / paper, 3) if accs else None, "accuracy": ucr_mean,
               "seconds": round(seconds, 1), "figures": figures}  # fmt: skip
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
