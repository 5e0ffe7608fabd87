"""bench/time_to_quality.py times reti's CLI defaults (not a recipe of its own), and reports a
peer that never meets the target as an upper bound, not as a ratio."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.fixture
def ttq(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))  # its own helpers (_ttq_peers, lm_train) sit beside it
    spec = importlib.util.spec_from_file_location("time_to_quality", BENCH / "time_to_quality.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ARGS = SimpleNamespace(quick=False, device="cpu", vision_eval=100, series_every=10)


def test_vision_side_trains_the_cli_default(ttq, monkeypatch):
    from reti.tasks import vision

    seen = []
    monkeypatch.setattr(vision, "train", lambda cfg, **kw: seen.append(cfg))
    ttq.vision_reti(3, ARGS, {})
    (cfg,) = seen
    measuring = {"seed": 3, "eval_every": 100, "quiet": True, "device": "cpu"}
    assert cfg == vision.VisionConfig(out=None, train=vision.vision_train_config(**measuring))
    ttq.vision_reti(3, ARGS, {"lr": 0.5, "model": "cnn"})  # a pilot's override, where it belongs
    assert (seen[1].train.lr, seen[1].model) == (0.5, "cnn")


def test_series_side_trains_the_cli_default(ttq):
    from reti.tasks.series import SeriesConfig, series_train_config

    cfg = ttq.series_config("airline", 2, ARGS, {})
    measuring = {"seed": 2, "quiet": True, "device": "cpu", "log_every": 10}
    assert cfg == SeriesConfig(data="airline", out=None, train=series_train_config(**measuring))
    # the peer's TCN takes the default's sizes: airline's window is the receptive field 61
    model = ttq.series_model("airline", ARGS, {})
    assert model == {"horizon": 12, "window": 61, "channels": 32, "levels": 4}


def test_text_side_trains_the_cli_default(ttq, monkeypatch):
    from reti.tasks import text

    seen = []
    monkeypatch.setattr(
        text, "train", lambda cfg, **kw: seen.append(cfg) or SimpleNamespace(rows=[])
    )
    ttq.text_reti(1, 2.0, ARGS, {})
    (cfg,) = seen
    measuring = {"seed": 1, "eval_every": 50, "quiet": True, "device": "cpu"}
    assert cfg == text.TextConfig(out=None, train=text.text_train_config(**measuring))


def test_a_peer_that_never_meets_the_target_bounds_the_ratio(ttq):
    rounds = [
        {"reti": {"seconds": 12.0}, "peer": {"seconds": None, "run_seconds": 600.0}},
        {"reti": {"seconds": 15.0}, "peer": {"seconds": None, "run_seconds": 500.0}},
    ]
    out = ttq._summary(rounds, 0.993)
    assert (
        out["ratio"] is None and out["reached"] == "0/2"
    )  # no ratio where the peer never got there
    assert (out["ratio_upper_bound_min"], out["ratio_upper_bound_max"]) == (0.02, 0.03)
    assert (out["reti_reached"], out["peer_reached"]) == ("2/2", "0/2")
    both = ttq._summary([{"reti": {"seconds": 1.0}, "peer": {"seconds": 4.0}}], 1.0)
    assert (both["ratio"], both["ratio_upper_bound"]) == (0.25, None)
