"""StandardScaler and recompute_bn_stats against statistics computed directly over the data."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from reti.errors import ConfigError, DataError, ShapeError
from reti.layers import Dropout, StandardScaler, recompute_bn_stats


def test_scaler_fit_transform_inverse_round_trip_and_constant_feature():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(100, 3, generator=gen, dtype=torch.float64) * torch.tensor([1.0, 5.0, 0.0]) + 4
    scaler = StandardScaler().fit(x)
    z = scaler.transform(x)
    torch.testing.assert_close(z[:, :2].mean(0), torch.zeros(2, dtype=torch.float64))
    torch.testing.assert_close(z[:, :2].std(0, correction=0), torch.ones(2, dtype=torch.float64))
    assert torch.all(z[:, 2] == 0)  # constant feature: no division by zero
    torch.testing.assert_close(scaler.inverse_transform(z), x)
    torch.testing.assert_close(scaler.mean, x.mean(0))


def test_scaler_on_series_pools_time_steps_per_feature():
    x = torch.randn(4, 50, 2) * torch.tensor([1.0, 10.0]) - 3
    scaler = StandardScaler(2).fit(x)
    torch.testing.assert_close(scaler.mean, x.reshape(-1, 2).mean(0))
    torch.testing.assert_close(scaler.std, x.reshape(-1, 2).std(0, correction=0))
    assert scaler(x).shape == (4, 50, 2)


def test_scaler_state_dict_round_trip_into_an_unfitted_scaler():
    x = torch.randn(30, 4) * 3 + 1
    fitted = StandardScaler().fit(x)
    fresh = StandardScaler()
    fresh.load_state_dict(fitted.state_dict())
    assert bool(fresh.fitted) and fresh.num_features == 4
    torch.testing.assert_close(fresh.transform(x), fitted.transform(x))
    # and inside a model, so the statistics travel with its checkpoint
    model = nn.Sequential(StandardScaler().fit(x), nn.Linear(4, 1))
    copy = nn.Sequential(StandardScaler(), nn.Linear(4, 1))
    copy.load_state_dict(model.state_dict())
    torch.testing.assert_close(copy(x), model(x))


def test_scaler_errors():
    with pytest.raises(DataError, match="1 NaN/inf values"):
        StandardScaler().fit(torch.tensor([[1.0, float("nan")], [2.0, 3.0]]))
    with pytest.raises(DataError, match="empty data"):
        StandardScaler().fit(torch.zeros(0, 3))
    with pytest.raises(ConfigError, match="before fit"):
        StandardScaler().transform(torch.zeros(2, 3))
    scaler = StandardScaler().fit(torch.randn(5, 3))
    with pytest.raises(ShapeError, match="fitted on 3 features, got 2"):
        scaler.transform(torch.zeros(5, 2))
    with pytest.raises(ShapeError, match=r"expects \(N, F\)"):
        scaler.fit(torch.zeros(5))
    with pytest.raises(DataError, match="NaN"):
        scaler.transform(torch.full((1, 3), float("inf")))


def _bn_net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(),
        Dropout(0.5), nn.Linear(3 * 4 * 4, 5), nn.BatchNorm1d(5),
    )  # fmt: skip


def test_recompute_bn_stats_equals_the_population_statistics():
    model = _bn_net()
    data = torch.randn(70, 2, 4, 4) * 2 + 1
    # uneven, a tuple, and single samples (BN in training refuses those alone)
    batches = [data[:1], data[1:32], data[32:64], (data[64:69], torch.zeros(5)), data[69:]]
    model.train()
    seen = recompute_bn_stats(model, batches)
    assert seen == 70 and model.training and model[4].training  # modes restored
    bn2d = model[1]
    with torch.no_grad():
        h = model[0](data)  # inputs of the first BN: per channel over N, H, W
        torch.testing.assert_close(bn2d.running_mean, h.mean(dim=(0, 2, 3)), rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(
            bn2d.running_var, h.transpose(0, 1).flatten(1).var(dim=1), rtol=1e-5, atol=1e-5
        )
    # the second BN saw the first one normalizing with batch statistics, and no dropout
    model.eval()
    model[1].train()
    with torch.no_grad():
        merged = [data[:32], data[32:64], data[64:]]  # the single samples joined their neighbours
        h2 = torch.cat([model[:6](b) for b in merged])
    torch.testing.assert_close(model[6].running_mean, h2.mean(0), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(model[6].running_var, h2.var(0), rtol=1e-5, atol=1e-5)


def test_recompute_bn_stats_changes_inference_to_population_statistics():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    data = torch.randn(200, 3) * 4 + 2
    model.eval()
    before = model(data)
    recompute_bn_stats(model, data.split(50))
    after = model(data)
    assert not torch.allclose(before, after)
    # with population statistics, the inference output is standardized over the data set
    torch.testing.assert_close(after.mean(0), torch.zeros(4), atol=1e-4, rtol=0)
    torch.testing.assert_close(after.std(0), torch.ones(4), atol=1e-3, rtol=0)
    assert not model.training


def test_recompute_bn_stats_errors():
    with pytest.raises(ConfigError, match="no BatchNorm"):
        recompute_bn_stats(nn.Linear(2, 2), [torch.zeros(1, 2)])
    with pytest.raises(DataError, match="at least one batch"):
        recompute_bn_stats(nn.BatchNorm1d(2), [])
    with pytest.raises(DataError, match="at least 2 samples, got 1"):
        recompute_bn_stats(nn.BatchNorm1d(2), [torch.zeros(1, 2)])
