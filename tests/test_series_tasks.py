"""The series tasks learn on small series: forecasts beat naive, classes beat the majority."""

from __future__ import annotations

import math

import pytest
import torch

from reti.models.tcn import TCN, TCNConfig
from reti.tasks.series import (
    SeriesConfig,
    forecast_from_run,
    load_run,
    next_step_errors,
    predict,
    run,
    seasonal_naive,
)
from reti.train import TrainConfig

FAST = TrainConfig(epochs=8, batch_size=32, lr=3e-3, quiet=True, device="cpu")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # two cores shared by many processes: one thread is faster than two fighting ones
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def seasonal_csv(tmp_path, n=240, spike=None, trend=0.02):
    g = torch.Generator().manual_seed(0)
    t = torch.arange(n, dtype=torch.float64)
    y = 10 + trend * t + 3 * torch.sin(2 * math.pi * t / 12) + 0.2 * torch.randn(n, generator=g)
    labels = torch.zeros(n, dtype=torch.long)
    if spike is not None:
        y[spike] += 8.0
        labels[spike] = 1
    rows = "".join(f"{i},{v:.5f},{lab}\n" for i, (v, lab) in enumerate(zip(y.tolist(), labels)))
    path = tmp_path / "s.csv"
    path.write_text("t,value,label\n" + rows, encoding="utf-8")
    return path


def test_seasonal_naive_hand_computed():
    history = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0]).reshape(1, 5, 1)
    assert seasonal_naive(history, 4, 2).flatten().tolist() == [4.0, 5.0, 4.0, 5.0]
    assert seasonal_naive(history, 3, 1).flatten().tolist() == [5.0, 5.0, 5.0]


def test_forecast_direct_and_rollout_beat_naive_and_reload(tmp_path):
    path = seasonal_csv(tmp_path)
    cfg = SeriesConfig(data=f"csv:{path}", columns="value", time_column="t", horizon=6,
                       window=24, channels=16, levels=2, compare=True, train=FAST,
                       out=str(tmp_path / "run"))  # fmt: skip
    result = run(cfg)
    naive = result.baselines["naive"]["mase"]
    for name, scores in result.models.items():
        assert scores["mase"] < naive, (name, scores, naive)
    assert set(result.models) == {"tcn (direct head)", "tcn (autoregressive rollout)"}
    # the checkpoint holds network + scaler: the reloaded model predicts exactly the same
    model, cfg2, info = load_run(tmp_path / "run")
    x = torch.randn(3, 24, 1)
    torch.testing.assert_close(model.scaler.mean, result.model.scaler.mean)
    torch.testing.assert_close(predict(model.net, x, 6, "direct"),
                               predict(result.model.net, x, 6, "direct"))  # fmt: skip
    fc = forecast_from_run(tmp_path / "run", 10)
    assert fc["forecast"].shape == (10, 1) and fc["truth"].shape == (10, 1)


def test_scaler_is_fit_on_the_training_part_only(tmp_path):
    path = seasonal_csv(tmp_path)
    cfg = SeriesConfig(data=f"csv:{path}", columns="value", horizon=3, window=24, channels=8,
                       levels=1, val=0.2, test=0.2,
                       train=TrainConfig(epochs=1, quiet=True, device="cpu"))  # fmt: skip
    result = run(cfg)
    values = torch.tensor(
        [float(r.split(",")[1]) for r in path.read_text().splitlines()[1:]], dtype=torch.float32
    )
    expected = values[: len(values) - 2 * round(0.2 * len(values))].mean()
    torch.testing.assert_close(result.model.scaler.mean, expected.reshape(1))


def test_anomaly_spike_found_and_filter_denoises(tmp_path):
    path = seasonal_csv(tmp_path, n=300, spike=250, trend=0.0)
    cfg = SeriesConfig(task="anomaly", data=f"csv:{path}", columns="value", window=24,
                       channels=16, levels=2, quantile=1.0,
                       train=TrainConfig(epochs=40, batch_size=16, lr=3e-3, quiet=True,
                                         device="cpu"))  # fmt: skip
    res = run(cfg)
    assert res.info["anomalies"] == 1
    assert res.models["tcn next-step error"]["recall"] == 1.0
    flagged = res.trace.flags.nonzero().flatten().tolist()
    assert 250 - 90 in flagged and len(flagged) < 10  # the test part starts at 30% = step 90
    filt = SeriesConfig(task="filter", data=f"csv:{path}", columns="value", noise=0.5,
                        train=TrainConfig(epochs=30, batch_size=32, lr=1e-2, quiet=True,
                                          device="cpu"))  # fmt: skip
    out = run(filt)
    learned = out.models["learned filter (width 9)"]["rmse"]
    assert learned < 0.7 * out.baselines["noisy input"]["rmse"]


@pytest.mark.network
def test_italy_power_demand_classification_beats_majority_class(tmp_path):
    train = TrainConfig(epochs=40, batch_size=16, lr=3e-3, quiet=True, device="cpu")
    cfg = SeriesConfig(task="classify", data="ItalyPowerDemand", model="fcn", channels=16,
                       train=train)  # fmt: skip
    result = run(cfg)
    acc = result.models["fcn"]["accuracy"]
    majority = result.baselines["majority class"]["accuracy"]
    assert majority < 0.55 and acc > 0.85, (acc, majority)


def test_chunked_next_step_errors_equal_one_causal_pass():
    torch.manual_seed(0)
    net = TCN(TCNConfig(task="sequence", channels=8, levels=2)).eval()  # receptive field 13
    z = torch.randn(100, 1)
    with torch.no_grad():
        full = net(z[None])[0]  # position i predicts step i + 1
    expected = (full[:-1] - z[1:]).abs().sum(-1)
    got = next_step_errors(net, z, window=16, relative=False)
    torch.testing.assert_close(got[16:], expected[15:])
    assert got[0] == 0
