"""Series models: shapes of every head, causality of the whole model, option B refused."""

from __future__ import annotations

import pytest
import torch

from reti.errors import ConfigError
from reti.models.fcn import FCN, FCNConfig
from reti.models.series_transformer import SeriesTransformer, SeriesTransformerConfig
from reti.models.tcn import TCN, TCNConfig


@pytest.mark.parametrize(
    ("task", "shape"),
    [("forecast", (3, 5, 2)), ("sequence", (3, 40, 2)), ("classify", (3, 2))],
)
def test_tcn_heads_shapes(task, shape):
    model = TCN(TCNConfig(in_channels=2, out_features=2, task=task, horizon=5, channels=8))
    assert model(torch.randn(3, 40, 2)).shape == shape


def test_fcn_classify_and_forecast_shapes():
    cfg = FCNConfig(in_channels=1, out_features=4, filters=(8, 16, 8))
    assert FCN(cfg)(torch.randn(2, 30, 1)).shape == (2, 4)
    fc = FCN(FCNConfig(out_features=1, task="forecast", horizon=3, filters=(8, 8, 8)))
    assert fc(torch.randn(2, 30, 1)).shape == (2, 3, 1)


def test_whole_tcn_model_never_sees_the_future():
    torch.manual_seed(0)
    model = TCN(TCNConfig(in_channels=1, out_features=1, task="sequence", channels=8)).eval()
    x = torch.randn(2, 50, 1)
    y = x.clone()
    y[:, 30:] += torch.randn(2, 20, 1) * 10
    with torch.no_grad():
        a, b = model(x), model(y)
    torch.testing.assert_close(a[:, :30], b[:, :30], rtol=0, atol=0)
    assert not torch.allclose(a[:, 30:], b[:, 30:])


def test_fcn_is_not_causal_so_perturbation_reaches_the_past():
    torch.manual_seed(0)
    body = FCN(FCNConfig(filters=(4, 4, 4))).eval()
    x = torch.randn(1, 20, 1)
    y = x.clone()
    y[:, 15:] += 5.0
    with torch.no_grad():
        assert not torch.allclose(body.features(x)[:, :15], body.features(y)[:, :15])


def test_option_b_refused_for_non_causal_model_with_the_reason():
    with pytest.raises(ConfigError, match="needs a causal model.*sees x_\\(i\\+1\\)"):
        FCN(FCNConfig(task="sequence"))


def test_receptive_field_and_bad_options():
    assert TCN(TCNConfig(levels=4, kernel_size=3)).receptive_field == 1 + 2 * 2 * 15
    with pytest.raises(ConfigError, match="horizon must be an int >= 1, got 0"):
        TCN(TCNConfig(horizon=0))
    with pytest.raises(ConfigError, match="pool must be one of"):
        TCN(TCNConfig(pool="median"))
    with pytest.raises(ConfigError, match="TCN levels must be >= 1, got 0"):
        TCN(TCNConfig(levels=0))
    with pytest.raises(ConfigError, match="same non-zero length"):
        FCN(FCNConfig(filters=(8,), kernels=(3, 3)))


@pytest.mark.parametrize("pos", ["alibi", "sinusoidal", "learned", "relative"])
def test_series_transformer_is_causal_with_every_position_scheme(pos):
    torch.manual_seed(0)
    cfg = SeriesTransformerConfig(task="sequence", d_model=16, n_head=2, pos=pos, n_ctx=32)
    model = SeriesTransformer(cfg).eval()
    x = torch.randn(2, 24, 1)
    y = x.clone()
    y[:, 10:] += torch.randn(2, 14, 1) * 5
    with torch.no_grad():
        a, b = model(x), model(y)
    assert a.shape == (2, 24, 1)
    torch.testing.assert_close(a[:, :10], b[:, :10])
    assert not torch.allclose(a[:, 10:], b[:, 10:])


def test_series_transformer_heads_and_learned_positions_limit():
    model = SeriesTransformer(SeriesTransformerConfig(in_channels=3, task="forecast", horizon=4))
    assert model(torch.randn(2, 16, 3)).shape == (2, 4, 1)
    short = SeriesTransformer(SeriesTransformerConfig(pos="learned", n_ctx=8))
    with pytest.raises(ConfigError, match="longer than n_ctx=8"):
        short(torch.randn(1, 9, 1))
