"""The registry's series and language tables: each name builds its model with the sizes asked
for, an unknown name is one clear error."""

from __future__ import annotations

import pytest
import torch

from reti.errors import ConfigError
from reti.models.fcn import FCN
from reti.models.gpt import GPT, GPTConfig
from reti.models.registry import (
    LANGUAGE_MODELS,
    SERIES_MODELS,
    build_language_model,
    build_series_model,
)
from reti.models.series_transformer import SeriesTransformer
from reti.models.tcn import TCN


@pytest.mark.parametrize(
    ("name", "kind"), [("tcn", TCN), ("fcn", FCN), ("transformer", SeriesTransformer)]
)
def test_each_series_name_builds_its_network_with_the_sizes_asked(name, kind):
    assert list(SERIES_MODELS) == ["tcn", "fcn", "transformer"]
    net = build_series_model(name, 2, 2, "forecast", 5, channels=8, levels=2, n_ctx=24)
    assert isinstance(net, kind)
    assert net(torch.randn(3, 24, 2)).shape == (3, 5, 2)  # (B, T, C) -> (B, horizon, C)
    classify = build_series_model(name, 1, 4, "classify", 1, channels=8, levels=2, n_ctx=24)
    assert classify(torch.randn(3, 24, 1)).shape == (3, 4)


def test_gpt_is_in_the_registry():
    assert LANGUAGE_MODELS["gpt"] == (GPT, GPTConfig)
    cfg = GPTConfig(vocab_size=11, n_ctx=8, n_layer=1, n_head=2, d_model=16)
    model = build_language_model("gpt", cfg)
    assert isinstance(model, GPT) and model(torch.zeros(2, 8, dtype=torch.long)).shape == (2, 8, 11)


def test_unknown_names_and_wrong_configs_are_one_clear_error():
    with pytest.raises(ConfigError, match=r"series model must be one of \('tcn', 'fcn', "):
        build_series_model("lstm", 1, 1, "forecast", 1)
    with pytest.raises(ConfigError, match="language model must be one of \\('gpt',\\), got 'rnn'"):
        build_language_model("rnn", GPTConfig(vocab_size=11))
    with pytest.raises(ConfigError, match="gpt needs a GPTConfig, got dict"):
        build_language_model("gpt", {"vocab_size": 11})
