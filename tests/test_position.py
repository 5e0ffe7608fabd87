"""Position schemes against the notes' formulas, the ALiBi paper's slopes and T5's buckets."""

from __future__ import annotations

import math

import pytest
import torch

from reti import reference
from reti.errors import ConfigError
from reti.layers.position import (
    EXTRAPOLATES,
    ALiBi,
    LearnedPosition,
    RelativeBias,
    SinusoidalPosition,
    alibi_slopes,
    build_positions,
    relative_bucket,
)

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("d", [2, 6, 16, 33])
def test_sinusoidal_equals_the_notes_formula(d):
    layer = SinusoidalPosition(d).double()
    assert torch.allclose(layer(torch.arange(50)), reference.sinusoidal_positions(50, d), atol=1e-9)


def test_sinusoidal_by_hand():
    row = SinusoidalPosition(4)(torch.tensor([3]))[0]
    # w_0 = 1, w_1 = 1/10000^(2/4) = 0.01
    expected = [math.sin(3), math.cos(3), math.sin(0.03), math.cos(0.03)]
    assert row.tolist() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6, 8, 12, 16])
def test_alibi_slopes_match_the_paper(n):
    assert alibi_slopes(n).tolist() == pytest.approx(reference.alibi_slopes(n), rel=1e-6)


def test_alibi_slopes_by_hand():
    assert alibi_slopes(8).tolist() == pytest.approx([2.0 ** -(i + 1) for i in range(8)])
    # 6 heads: the 4-head slopes 1/4, 1/16, 1/64, 1/256, then 8-head slopes 1 and 3: 1/2, 1/8
    expected = [1 / 4, 1 / 16, 1 / 64, 1 / 256, 2**-1, 2**-3]
    assert alibi_slopes(6).tolist() == pytest.approx(expected)


def test_alibi_bias_equals_reference_and_depends_on_distance_only():
    layer = ALiBi(5).double()
    steps = torch.arange(9)
    assert torch.allclose(layer(steps, steps), reference.alibi_bias(5, 9), atol=1e-6)
    shifted = layer(steps + 100, steps + 100)
    assert torch.equal(shifted, layer(steps, steps))


def test_relative_buckets_exact_then_log_then_clipped():
    d = torch.arange(0, 300)
    b = relative_bucket(d, num_buckets=8, max_distance=32)
    assert b[:4].tolist() == [0, 1, 2, 3]  # exact below num_buckets // 2
    assert (b[1:] >= b[:-1]).all()  # monotone
    # log-spaced: 4 + floor(log(d / 4) / log(32 / 4) * 4), clipped to the last bucket 7
    assert [b[d].item() for d in (4, 8, 16, 19, 20)] == [4, 5, 6, 6, 7]
    assert b[20:].eq(7).all()
    assert relative_bucket(torch.tensor([-5]), 8, 32).item() == 0


def test_relative_bias_reads_its_table():
    layer = RelativeBias(2, num_buckets=8, max_distance=32)
    with torch.no_grad():
        layer.weight.copy_(torch.arange(16.0).view(2, 8))
    bias = layer(torch.arange(3), torch.arange(3))
    assert bias[1].tolist() == [[8, 8, 8], [9, 8, 8], [10, 9, 8]]


def test_learned_positions_refuse_to_extrapolate():
    layer = LearnedPosition(4, 3)
    assert layer(torch.arange(4)).shape == (4, 3)
    with pytest.raises(ConfigError, match="cannot extrapolate"):
        layer(torch.arange(5))
    assert not EXTRAPOLATES["learned"] and EXTRAPOLATES["alibi"]


def test_build_positions_and_bad_scheme():
    inputs, bias = build_positions("alibi", 8, 16, 4)
    assert inputs is None and isinstance(bias, ALiBi)
    inputs, bias = build_positions("sinusoidal", 8, 16, 4)
    assert isinstance(inputs, SinusoidalPosition) and bias is None
    with pytest.raises(ConfigError, match="pos must be one of"):
        build_positions("rotary", 8, 16, 4)
    with pytest.raises(ConfigError, match="max_distance"):
        RelativeBias(2, num_buckets=8, max_distance=3)
