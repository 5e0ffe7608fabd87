"""Time to a good model: reti's default recipe against the strongest plain-PyTorch peer, per
pipeline, as the wall seconds from the start of a side's run until it first reaches the target.

What (each side starts from the data set on disk: loading, tokenizing, building, training and
evaluating all count; the two sides run one after the other in alternating rounds, A B, B A ...,
in one process, and the ratio reti / peer is taken per round, with its min-max over rounds):

* ``text``: the peer is the nanoGPT-equivalent (bench/_nanogpt.py) at nanoGPT's CPU recipe
  (4 layers, 4 heads, width 128, context 64, batch 12, AdamW lr 1e-3, 100 warm-up iterations,
  cosine to 1e-4, clip 1.0) for 1,000 iterations on reti's Shakespeare split and char tokenizer;
  its validation loss (the 256 non-overlapping windows reti validates on) is the target. reti
  trains the same model size with ``reti text train``'s defaults (``TEXT_TRAIN_DEFAULTS``),
  evaluating every 50 steps, and stops at the first evaluation at or below the target.
* ``vision``: MNIST test accuracy >= 99.3 %. The peer is PyTorch's examples/mnist as a user
  starts from it (conv32-conv64-maxpool-dropout-fc128-dropout-fc10, Adadelta lr 1.0, StepLR
  gamma 0.7 per epoch, batch 64, inputs normalised by 0.1307 / 0.3081), tested after each epoch
  as that script does, for its own 14 epochs (never more). reti trains ``reti vision train``'s
  defaults (``VisionConfig()``: fastcnn, label smoothing 0.1, ``VISION_TRAIN_DEFAULTS``)
  through ``reti.tasks.vision.train``, evaluating the whole test set every ``--vision-eval``
  steps. The peer ends near 99.1 %: it "never" reaches the target, and the bench then gives
  no ratio but an upper bound, reti's seconds to the target over the peer's whole run
  (``ratios["vision_upper_bound"]``), with the peer's last and best accuracy.
* ``series``: the TCN's test MASE (12 months ahead, every test origin) at or below seasonal
  naive's, on co2 and airline. The peer is a plain PyTorch TCN (Bai et al.'s design: pad both
  sides then chop, weight norm) on the same windows, ``torch.optim.Adam()`` at its defaults,
  scored after every epoch, built at the sizes of reti's default TCN (window, channels,
  levels). reti runs its forecasting pipeline's steps (``forecast.run``'s helpers: the same
  split, scaler, windows, TCN and ``fit``) with ``reti series train``'s defaults
  (``SeriesConfig()``, ``SERIES_TRAIN_DEFAULTS``), its test MASE scored every
  ``--series-every`` steps and after every epoch.

Timing: ``time.perf_counter`` wall seconds (each pipeline's data is loaded once before the
rounds, so no side pays alone for a cold cache), one thread per side (``--threads``), so two
sides never fight over the cores. On a shared machine the seconds are disturbed; the per-round
ratios are the figures to quote. The fp32 and bf16 matmul peaks of the machine (bench/lm_train.py's
``matmul_peak``) go into the JSON so a reader can place the figures.

    python bench/time_to_quality.py --quick                    # a smoke test of every pipeline
    python bench/time_to_quality.py --pipelines text --rounds 3
    python bench/time_to_quality.py --pipelines text --reti lr=3e-3 --reti optimizer=adamw
    python bench/time_to_quality.py --pipelines vision --reti-only --threads 2   # reti's seconds

Ends with one JSON line: {"bench": "time_to_quality", "ratios": {"text": ..., ...}, ...}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import _ttq_peers as peers
import torch
from lm_train import matmul_peak

from reti.train import Evaluation, RunControl

TEXT_PEER_ITERS = 1000
VISION_TARGET = 0.993
SERIES_DATA = ("co2", "airline")


def _parse_overrides(items: list[str]) -> dict[str, object]:
    """``key=value`` pairs, values read as JSON where they parse (numbers, true, null)."""
    out: dict[str, object] = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            out[key.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            out[key.replace("-", "_")] = value
    return out


class StopAt:
    """A ``fit`` listener: the wall time and step of the first evaluation meeting the target."""

    def __init__(self, key: str, target: float, better: str, start: float):
        self.key, self.target, self.better, self.start = key, target, better, start
        self.control = RunControl()
        self.seconds: float | None = None
        self.step: int | None = None
        self.last: float | None = None

    def __call__(self, event) -> None:
        if not isinstance(event, Evaluation) or self.key not in event.row:
            return
        value = event.row[self.key]
        self.last = value
        hit = value <= self.target if self.better == "min" else value >= self.target
        if hit and self.seconds is None:
            self.seconds, self.step = time.perf_counter() - self.start, event.step
            self.control.request_stop()


# ------------------------------------------------------------------ text
def text_reti(seed: int, target: float, args, overrides: dict) -> dict:
    from reti.tasks import text

    start = time.perf_counter()
    stop = StopAt("val_loss", target, "min", start)
    train = text.text_train_config(
        seed=seed, eval_every=50, quiet=True, device=args.device, **overrides
    )
    cfg = text.TextConfig(out=None, train=train)
    if args.quick:
        cfg = text.TextConfig(out=None, max_chars=200_000, train=train)
    history = text.train(cfg, callbacks=[stop], control=stop.control)
    steps = stop.step or (history.rows[-1]["step"] if history.rows else None)
    return {"seconds": stop.seconds, "step": steps, "val_loss": stop.last,
            "run_seconds": round(time.perf_counter() - start, 2)}  # fmt: skip


def _alternate(name: str, args, peer, reti, peer_first: bool = False) -> list[dict]:
    """``args.rounds`` rounds of ``peer(seed)`` and ``reti(seed)``, the order turning each round
    (peer first in odd rounds, or always with ``peer_first``); the 1-minute load is recorded
    when each round starts."""
    rounds = []
    for r in range(args.rounds):
        seed = args.seed + r if args.vary_seed else args.seed
        order = ("peer", "reti") if r % 2 == 0 or peer_first else ("reti", "peer")
        row = {"round": r + 1, "seed": seed, "load_avg_1m": round(_load(), 2)}
        if args.reti_only:  # reti's seconds alone (e.g. the MNIST <= 15 s goal), no ratio
            order, row["peer"] = ("reti",), {"seconds": None, "skipped": True}
        for side in order:
            row[side] = peer(seed) if side == "peer" else reti(seed)
        _report(name, row)
        rounds.append(row)
    return rounds


def run_text(args, overrides: dict) -> dict:
    iters = 100 if args.quick else TEXT_PEER_ITERS
    target = None

    def peer(seed: int) -> dict:
        nonlocal target
        side = peers.text_peer(seed, iters, args.device, args.quick)
        target = side["val_loss"]
        return side

    # the target is the peer's loss on this seed's split: with a new seed each round the peer
    # goes first; with one seed the target is known after round 1 and the order turns
    rounds = _alternate(
        "text", args, peer, lambda seed: text_reti(seed, target, args, overrides), args.vary_seed
    )
    return _summary(rounds, target)


# ------------------------------------------------------------------ vision
def vision_reti(seed: int, args, overrides: dict) -> dict:
    """``reti vision train``'s defaults (``VisionConfig()``: its model, label smoothing and
    ``VISION_TRAIN_DEFAULTS``), evaluating the whole test set every ``--vision-eval`` steps;
    ``overrides`` name VisionConfig or TrainConfig fields."""
    from dataclasses import fields

    from reti.demo.vision import QUICK_LIMIT
    from reti.tasks import vision

    start = time.perf_counter()
    stop = StopAt("val_accuracy", VISION_TARGET, "max", start)
    own = {f.name for f in fields(vision.VisionConfig)}
    changes = {k: v for k, v in overrides.items() if k not in own}
    if args.quick:
        changes["epochs"] = 1
    train = vision.vision_train_config(
        **changes, seed=seed, eval_every=args.vision_eval, quiet=True, device=args.device
    )
    limit = QUICK_LIMIT if args.quick else None
    cfg = vision.VisionConfig(
        out=None, limit=limit, train=train, **{k: v for k, v in overrides.items() if k in own}
    )
    vision.train(cfg, callbacks=[stop], control=stop.control)
    return {"seconds": stop.seconds, "step": stop.step, "accuracy": stop.last,
            "run_seconds": round(time.perf_counter() - start, 2)}  # fmt: skip


def run_vision(args, overrides: dict) -> dict:
    rounds = _alternate(
        "vision",
        args,
        lambda seed: peers.mnist_peer(seed, VISION_TARGET, args.device, args.quick),
        lambda seed: vision_reti(seed, args, overrides),
    )
    return _summary(rounds, VISION_TARGET)


# ------------------------------------------------------------------ series
class ForecastScore:
    """A ``fit`` listener: every ``log_every`` steps (``TrainStep``) and after each epoch, the
    test MASE of ``net`` from every origin, as ``reti.tasks.series.forecast.run`` scores it at
    the end; stops the run at the target."""

    def __init__(self, net, hist_z, truth, scaler, train_values, m, cfg, target, start):
        self.net, self.hist_z, self.truth, self.scaler = net, hist_z, truth, scaler
        self.train_values, self.m, self.cfg, self.target = train_values, m, cfg, target
        self.start, self.control = start, RunControl()
        self.seconds = self.epoch = self.step = self.mase = None
        self.scored_step = -1

    def __call__(self, event) -> None:
        from reti.tasks.series.forecast import _scores, predict
        from reti.train import EpochEnd, TrainStep

        if not isinstance(event, (TrainStep, EpochEnd)) or self.seconds is not None:
            return
        if event.step == self.scored_step:  # an epoch ending on a scored step
            return
        self.scored_step = event.step
        device = next(self.net.parameters()).device
        pred = predict(self.net, self.hist_z.to(device), self.cfg.horizon, "direct")
        self.net.train()
        pred = self.scaler.inverse_transform(pred.cpu())
        self.mase = _scores(self.truth, pred, self.train_values, self.m)["mase"]
        if self.mase <= self.target:
            self.seconds = time.perf_counter() - self.start
            self.epoch, self.step = event.epoch, event.step
            self.control.request_stop()


def series_config(data: str, seed: int, args, overrides: dict):
    """``reti series train --data DATA``'s config: SeriesConfig's defaults (the TCN, its
    window rule) and ``SERIES_TRAIN_DEFAULTS``, scored every ``--series-every`` steps."""
    from dataclasses import fields

    from reti.tasks.series import SeriesConfig, series_train_config

    own = {f.name for f in fields(SeriesConfig)}
    changes = {k: v for k, v in overrides.items() if k not in own}
    if args.quick:
        changes["epochs"] = 5
    train = series_train_config(
        **changes, seed=seed, quiet=True, device=args.device, log_every=args.series_every
    )
    mine = {k: v for k, v in overrides.items() if k in own}
    return SeriesConfig(data=data, out=None, train=train, **mine)


def series_model(data: str, args, overrides: dict) -> dict:
    """The sizes of reti's default forecasting TCN on ``data`` (horizon, the window its rule
    picks, channels, levels): the peer builds its TCN at the same sizes."""
    from reti.data.series import load_series
    from reti.tasks.series.forecast import window_for

    cfg = series_config(data, 0, args, overrides)
    season = cfg.season or load_series(data, missing=cfg.missing).season
    return {"horizon": cfg.horizon, "window": window_for(cfg, season),
            "channels": cfg.channels, "levels": cfg.levels}  # fmt: skip


def series_reti(data: str, seed: int, args, overrides: dict) -> dict:
    """reti's forecasting pipeline (``forecast.run``'s steps, its helpers) with a listener that
    scores the test MASE every ``--series-every`` steps and after each epoch, so reti too is
    timed to the target."""
    import torch.nn.functional as F

    from reti.data.series import load_series, make_windows, split_time
    from reti.layers import StandardScaler
    from reti.tasks.series.common import RunOptions, SeriesModel, base, build_net, fit_series
    from reti.tasks.series.forecast import _scores, seasonal_naive, window_for

    start = time.perf_counter()
    cfg = series_config(data, seed, args, overrides)
    torch.manual_seed(seed)
    series = load_series(cfg.data, missing=cfg.missing)
    values, m = series.values, cfg.season or series.season
    tr, va, te = split_time(len(values), cfg.val, cfg.test)
    window = window_for(cfg, m)
    scaler = StandardScaler().fit(values[tr])
    z = scaler.transform(values)
    origins = torch.arange(te.start, te.stop - cfg.horizon + 1)
    hist_z = torch.stack([z[o - window : o] for o in origins])
    truth = torch.stack([values[o : o + cfg.horizon] for o in origins])
    hist_v = torch.stack([values[o - max(window, m) : o] for o in origins])
    naive = _scores(truth, seasonal_naive(hist_v, cfg.horizon, m), values[tr], m)["mase"]
    net = build_net(cfg, values.shape[1], values.shape[1], "forecast", cfg.horizon, window)

    def pairs(part):
        x, y = make_windows(part, window, cfg.horizon, cfg.stride)
        return x - base(x, cfg.relative), y - base(x, cfg.relative)

    val = pairs(z[va.start - window : va.stop])
    score = ForecastScore(net, hist_z, truth, scaler, values[tr], m, cfg, naive, start)
    opts = RunOptions(callbacks=[score], control=score.control)
    x, y = pairs(z[tr])
    fit_series(SeriesModel(net, scaler), x, y, cfg, F.mse_loss, {}, opts, val)
    return {"seconds": score.seconds, "epoch": score.epoch, "step": score.step,
            "mase": score.mase, "target": naive,
            "run_seconds": round(time.perf_counter() - start, 2)}  # fmt: skip


def run_series(args, overrides: dict) -> dict:
    out = {}
    for data in SERIES_DATA:
        model = series_model(data, args, overrides)
        rounds = _alternate(
            f"series {data}",
            args,
            lambda seed, data=data, model=model: peers.tcn_peer(
                data, seed, args.device, model, args.quick, args.peer_every
            ),
            lambda seed, data=data: series_reti(data, seed, args, overrides),
        )
        out[data] = _summary(rounds, rounds[-1]["reti"]["target"]) | {"model": model}
    return out


# ------------------------------------------------------------------ summary
def _report(name: str, row: dict) -> None:
    def fmt(side: dict) -> str:
        s = side.get("seconds")
        if s is not None:
            return f"{s:.1f} s"
        if side.get("skipped"):
            return "not run"
        best = {k: side[k] for k in ("accuracy", "mase", "val_loss") if side.get(k) is not None}
        return f"never ({best}, whole run {side.get('run_seconds')} s)"

    print(f"{name} round {row['round']} (seed {row['seed']}): reti {fmt(row['reti'])}, "
          f"peer {fmt(row['peer'])}  {json.dumps(row)}", flush=True)  # fmt: skip


def _summary(rounds: list[dict], target: float) -> dict:
    """Median and min-max of reti / peer over the rounds where both met the target. Where the
    peer never met it within its own script's budget (examples/mnist's 14 epochs end near
    99.1 %), the ratio is bounded instead: reti's seconds to the target over the peer's whole
    run, an upper bound (the peer would need longer than that run, if it ever got there)."""
    reti = [r for r in rounds if r["reti"].get("seconds")]
    ratios = sorted(
        r["reti"]["seconds"] / r["peer"]["seconds"] for r in reti if r["peer"].get("seconds")
    )
    bounds = sorted(
        r["reti"]["seconds"] / r["peer"]["run_seconds"]
        for r in reti
        if r["peer"].get("seconds") is None and r["peer"].get("run_seconds")
    )

    def spread(values: list[float], name: str) -> dict:
        return {
            name: round(statistics.median(values), 3) if values else None,
            f"{name}_min": round(values[0], 3) if values else None,
            f"{name}_max": round(values[-1], 3) if values else None,
        }

    return {
        "target": round(target, 4) if target is not None else None,
        **spread(ratios, "ratio"),
        **spread(bounds, "ratio_upper_bound"),
        "reached": f"{len(ratios)}/{len(rounds)}",
        "reti_reached": f"{len(reti)}/{len(rounds)}",
        "peer_reached": f"{sum(1 for r in rounds if r['peer'].get('seconds'))}/{len(rounds)}",
        "rounds": rounds,
    }


RUNNERS = {"text": run_text, "vision": run_vision, "series": run_series}


def warm_up(name: str) -> None:
    """Load the pipeline's data and build an optimizer once before the timed rounds, so that
    the first side of round 1 does not pay alone for the cold file cache and the first imports
    (building the first optimizer of a process imports ``torch._dynamo``, seconds)."""
    torch.optim.AdamW([torch.zeros(1, requires_grad=True)])
    from reti.data.images import load_images
    from reti.data.series import load_series
    from reti.data.text import load_text
    from reti.tokenize.build import build_tokenizer

    if name == "text":
        build_tokenizer("char", load_text("shakespeare").train[:1000])
    elif name == "vision":
        load_images("mnist")
    else:
        for data in SERIES_DATA:
            load_series(data, missing="interpolate")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipelines", default="text,vision,series", help="comma-separated")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per pipeline")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first round")
    parser.add_argument("--vary-seed", action="store_true", help="round r uses seed + r")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (0: default)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--vision-eval", type=int, default=100, help="reti's eval interval")
    parser.add_argument("--series-every", type=int, default=10,
                        help="reti's series scoring interval (steps)")  # fmt: skip
    parser.add_argument("--reti", action="append", default=[], metavar="KEY=VALUE",
                        help="override a field of reti's recipe: its TrainConfig or the "
                        "pipeline config (pilots)")  # fmt: skip
    parser.add_argument("--peer-every", type=int, default=0,
                        help="also score the series peer every N steps (0: each epoch, as "
                        "its loop is written)")  # fmt: skip
    parser.add_argument("--reti-only", action="store_true",
                        help="time reti's side alone (vision, series: their targets are "
                        "fixed)")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="smoke test: tiny runs, 1 round")
    parser.add_argument("--out", help="also write the JSON result to this file")
    args = parser.parse_args()
    if args.quick:
        args.rounds = 1
    if args.threads:
        torch.set_num_threads(args.threads)
    overrides = _parse_overrides(args.reti)
    if args.reti_only and "text" in args.pipelines.split(","):
        parser.error("--reti-only: the text target is the peer's loss; run text with its peer")
    peaks = {"fp32": matmul_peak(), "bf16": matmul_peak(dtype=torch.bfloat16)}
    fp32, bf16 = peaks["fp32"] / 1e9, peaks["bf16"] / 1e9
    print(f"threads {torch.get_num_threads()}, device {args.device}; the CPU's matmul peak fp32 "
          f"{fp32:.1f}, bf16 {bf16:.1f} GFLOP/s", flush=True)  # fmt: skip
    results = {}
    for name in args.pipelines.split(","):
        if name not in RUNNERS:
            parser.error(f"unknown pipeline {name!r}; pick from {', '.join(RUNNERS)}")
        warm_up(name)
        results[name] = RUNNERS[name](args, overrides)
    ratios = {}
    for name, res in results.items():
        if name == "series":
            ratios |= {f"series_{k}": v["ratio"] for k, v in res.items()}
        else:
            ratios[name] = res["ratio"]
            if res["ratio_upper_bound"] is not None:  # the peer never met the target
                ratios[f"{name}_upper_bound"] = res["ratio_upper_bound"]
    result = {
        "bench": "time_to_quality",
        "ratios": ratios,
        "unit": "reti seconds / peer seconds to the target (lower is better); *_upper_bound: "
        "the peer never met the target, reti's seconds over the peer's whole run",
        "results": results,
        "overrides": overrides,
        "threads": torch.get_num_threads(),
        "device": args.device,
        "quick": args.quick,
        "peak_gflops": round(peaks["fp32"] / 1e9, 1),
        "peak_gflops_bf16": round(peaks["bf16"] / 1e9, 1),
        "peak_device": "cpu",  # lm_train.matmul_peak measures the CPU, whatever --device is
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "load_avg_1m": round(_load(), 2),  # at the end; each round has its own at its start
    }
    line = json.dumps(result)
    if args.out:
        Path(args.out).write_text(line + "\n", encoding="utf-8")
    print(line)


def _load() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return float("nan")


if __name__ == "__main__":
    main()
