"""reti.reference.basics equals the fast path (torch kernels, reti layers) in values and gradients.

Seeded sweeps over random shapes and hyper-parameters, float64, tight tolerances.
"""

from __future__ import annotations

import random

import pytest
import torch
import torch.nn.functional as F

from reti import reference as ref
from reti.errors import ConfigError, ShapeError
from reti.layers import Dropout, LocallyConnected2d, StandardScaler
from reti.layers.dropout import keep_mask

TOL = {"atol": 1e-10, "rtol": 1e-9}


def _leaf(*shape: int, gen: torch.Generator) -> torch.Tensor:
    return torch.randn(*shape, generator=gen, dtype=torch.float64).requires_grad_(True)


def _same_values_and_grads(fast_fn, slow_fn, inputs: list[torch.Tensor], gen: torch.Generator):
    """Both functions give the same output, and the same gradients for a random upstream grad."""
    fast = fast_fn(*inputs)
    slow = slow_fn(*inputs)
    torch.testing.assert_close(slow, fast, **TOL)
    upstream = torch.randn(fast.shape, generator=gen, dtype=torch.float64)
    g_fast = torch.autograd.grad(fast, inputs, upstream)
    g_slow = torch.autograd.grad(slow, inputs, upstream)
    for a, b in zip(g_slow, g_fast):
        torch.testing.assert_close(a, b, **TOL)


@pytest.mark.parametrize("seed", range(12))
def test_conv2d_is_patches_times_weights(seed):
    rnd, gen = random.Random(seed), torch.Generator().manual_seed(seed)
    groups = rnd.choice([1, 1, 2, 3])
    cin, cout = groups * rnd.randint(1, 3), groups * rnd.randint(1, 3)
    kh, kw = rnd.randint(1, 3), rnd.randint(1, 3)
    stride = (rnd.randint(1, 3), rnd.randint(1, 2))
    padding = (rnd.randint(0, 2), rnd.randint(0, 2))
    dilation = (rnd.randint(1, 2), rnd.randint(1, 2))
    H = dilation[0] * (kh - 1) + 1 + rnd.randint(0, 5)
    W = dilation[1] * (kw - 1) + 1 + rnd.randint(0, 5)
    x = _leaf(rnd.randint(1, 3), cin, H, W, gen=gen)
    w = _leaf(cout, cin // groups, kh, kw, gen=gen)
    b = _leaf(cout, gen=gen)
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    _same_values_and_grads(
        lambda x, w, b: F.conv2d(x, w, b, **kwargs),
        lambda x, w, b: ref.conv2d(x, w, b, **kwargs),
        [x, w, b],
        gen,
    )


def test_conv2d_hand_worked_example():
    # a 3x3 image, the 2x2 "sum" filter: each output is the sum of one 2x2 window
    x = torch.arange(9.0).view(1, 1, 3, 3)
    w = torch.ones(1, 1, 2, 2)
    out = ref.conv2d(x, w, torch.tensor([1.0]))
    assert out.tolist() == [
        [[[0 + 1 + 3 + 4 + 1, 1 + 2 + 4 + 5 + 1], [3 + 4 + 6 + 7 + 1, 4 + 5 + 7 + 8 + 1]]]
    ]


def test_conv2d_bad_groups_is_a_shape_error():
    with pytest.raises(ShapeError, match="groups=2"):
        ref.conv2d(torch.zeros(1, 3, 4, 4), torch.zeros(2, 3, 1, 1), groups=2)


@pytest.mark.parametrize("seed", range(8))
def test_pooling_equals_torch(seed):
    rnd, gen = random.Random(seed), torch.Generator().manual_seed(100 + seed)
    k = (rnd.randint(1, 3), rnd.randint(1, 3))
    stride = rnd.choice([None, (rnd.randint(1, 3), rnd.randint(1, 3))])
    padding = (rnd.randint(0, k[0] // 2), rnd.randint(0, k[1] // 2))
    x = _leaf(2, 3, k[0] + rnd.randint(0, 5), k[1] + rnd.randint(0, 5), gen=gen)
    _same_values_and_grads(
        lambda x: F.max_pool2d(x, k, stride, padding),
        lambda x: ref.max_pool2d(x, k, stride, padding),
        [x],
        gen,
    )
    _same_values_and_grads(
        lambda x: F.avg_pool2d(x, k, stride, padding),
        lambda x: ref.avg_pool2d(x, k, stride, padding),
        [x],
        gen,
    )


def test_max_pool_halves_224_to_112():
    # notes: Pooling Layer, "224 diventa 112"
    assert ref.max_pool2d(torch.zeros(1, 1, 224, 224), 2).shape[-1] == 112


@pytest.mark.parametrize("mode", ["inverted", "standard"])
@pytest.mark.parametrize("p", [0.0, 0.25, 0.6])
def test_dropout_layer_equals_formula_with_the_same_mask(mode, p):
    gen = torch.Generator().manual_seed(3)
    x = _leaf(4, 7, gen=gen)
    layer = Dropout(p, mode, generator=torch.Generator().manual_seed(11))
    mask = keep_mask(x.shape, p, torch.Generator().manual_seed(11), dtype=x.dtype)
    if mode == "inverted":
        slow = ref.dropout_inverted
        _same_values_and_grads(layer, lambda x: slow(x, mask, p), [x], gen)
    else:
        _same_values_and_grads(
            layer, lambda x: ref.dropout_standard(x, mask, p, training=True), [x], gen
        )
    layer.eval()
    expected = x if mode == "inverted" else ref.dropout_standard(x, mask, p, training=False)
    torch.testing.assert_close(layer(x), expected)


@pytest.mark.parametrize("seed", range(6))
def test_batch_norm_train_and_inference_equal_torch(seed):
    rnd, gen = random.Random(seed), torch.Generator().manual_seed(200 + seed)
    shape = rnd.choice([(rnd.randint(2, 6), 5), (rnd.randint(2, 4), 3, rnd.randint(1, 4), 4)])
    C = shape[1]
    x, g, b = _leaf(*shape, gen=gen), _leaf(C, gen=gen), _leaf(C, gen=gen)
    _same_values_and_grads(
        lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True),
        lambda x, g, b: ref.batch_norm(x, g, b, training=True),
        [x, g, b],
        gen,
    )
    rm = torch.randn(C, generator=gen, dtype=torch.float64)
    rv = torch.rand(C, generator=gen, dtype=torch.float64) + 0.5
    _same_values_and_grads(
        lambda x, g, b: F.batch_norm(x, rm, rv, g, b, training=False),
        lambda x, g, b: ref.batch_norm(x, g, b, rm, rv, training=False),
        [x, g, b],
        gen,
    )


def test_batch_norm_inference_needs_statistics():
    with pytest.raises(ConfigError, match="running_mean"):
        ref.batch_norm(torch.zeros(2, 3), training=False)


@pytest.mark.parametrize("seed", range(5))
def test_layer_norm_equals_torch_even_for_batch_of_one(seed):
    rnd, gen = random.Random(seed), torch.Generator().manual_seed(300 + seed)
    shape = (rnd.choice([1, 1, 3]), rnd.randint(1, 4), rnd.randint(2, 6))
    k = rnd.choice([1, 2])
    norm_shape = shape[-k:]
    x, g, b = _leaf(*shape, gen=gen), _leaf(*norm_shape, gen=gen), _leaf(*norm_shape, gen=gen)
    _same_values_and_grads(
        lambda x, g, b: F.layer_norm(x, norm_shape, g, b),
        lambda x, g, b: ref.layer_norm(x, k, g, b),
        [x, g, b],
        gen,
    )


def test_standard_scale_equals_the_scaler_and_the_notes():
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(50, 4, generator=gen, dtype=torch.float64) * 3 + 7
    scaled, mu, sigma = ref.standard_scale(x)
    torch.testing.assert_close(StandardScaler().fit(x).transform(x), scaled, **TOL)
    torch.testing.assert_close(mu, x.mean(0), **TOL)
    torch.testing.assert_close(sigma, x.std(0, correction=0), **TOL)  # notes: 1/n
    assert scaled.mean(0).abs().max() < 1e-12


@pytest.mark.parametrize("temperature", [0.1, 0.7, 1.0, 3.0])
def test_softmax_with_temperature_equals_torch(temperature):
    gen = torch.Generator().manual_seed(9)
    z = _leaf(3, 8, gen=gen)
    _same_values_and_grads(
        lambda z: torch.softmax(z / temperature, dim=-1),
        lambda z: ref.softmax(z, temperature),
        [z],
        gen,
    )


def test_softmax_temperature_sharpens_and_flattens_and_rejects_zero():
    z = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    assert ref.softmax(z, 0.01)[2] > 0.999
    torch.testing.assert_close(ref.softmax(z, 1e9), torch.full((3,), 1 / 3, dtype=torch.float64))
    with pytest.raises(ConfigError, match="temperature must be > 0, got 0"):
        ref.softmax(z, 0)


def test_locally_connected_with_one_shared_filter_is_a_convolution():
    # with every position's filter set equal, unshared weights compute exactly a convolution
    gen = torch.Generator().manual_seed(1)
    layer = LocallyConnected2d(2, 3, (6, 7), 3, stride=2, padding=1, dilation=1).double()
    w = torch.randn(3, 2, 3, 3, generator=gen, dtype=torch.float64)
    b = torch.randn(3, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(w[:, None, None].expand_as(layer.weight))
        layer.bias.copy_(b[:, None, None].expand_as(layer.bias))
    x = torch.randn(2, 2, 6, 7, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(layer(x), ref.conv2d(x, w, b, stride=2, padding=1), **TOL)
