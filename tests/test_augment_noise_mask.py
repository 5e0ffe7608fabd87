"""Noise, salt-and-pepper, elastic, cutout and random erasing: seeded statistics and areas."""

from __future__ import annotations

import math

import pytest
import torch

from reti.augment import Cutout, Elastic, GaussianNoise, RandomErasing, SaltPepper
from reti.augment.noise import gaussian_kernel
from reti.errors import ConfigError


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_gaussian_noise_has_the_asked_mean_and_std():
    x = torch.full((64, 3, 16, 16), 0.5)
    out, _ = GaussianNoise(0.05)(x, None, gen())
    n = out - x
    count = n.numel()  # 49152 values; std 0.05 is 10 std from the clamp at 0 and 1
    assert abs(float(n.mean())) < 4 * 0.05 / math.sqrt(count)
    assert abs(float(n.std()) - 0.05) < 0.05 * 0.02
    x.requires_grad_(True)
    out, _ = GaussianNoise(0.05)(x, None, gen())
    out.sum().backward()
    assert torch.equal(x.grad, torch.ones_like(x))  # d(x + n)/dx inside [0, 1]


def test_noise_with_p_touches_only_some_images():
    x = torch.full((100, 1, 4, 4), 0.5)
    out, _ = GaussianNoise(0.1, p=0.3)(x, None, gen())
    changed = (out != x).flatten(1).any(1)
    assert 15 < int(changed.sum()) < 45


def test_salt_and_pepper_rates_and_all_channels_at_once():
    x = torch.full((32, 3, 32, 32), 0.5)
    out, _ = SaltPepper(0.1)(x, None, gen())
    salt = (out == 1.0).all(1)
    pepper = (out == 0.0).all(1)
    untouched = (out == 0.5).all(1)
    assert bool((salt | pepper | untouched).all())  # a position changes in every channel
    n = salt.numel()
    tol = 4 * math.sqrt(0.05 * 0.95 / n)
    assert abs(float(salt.float().mean()) - 0.05) < tol
    assert abs(float(pepper.float().mean()) - 0.05) < tol


def test_elastic_zero_alpha_is_identity_and_otherwise_moves_pixels():
    x = torch.rand(4, 3, 20, 20, generator=gen(1), requires_grad=True)
    out, _ = Elastic(alpha=0.0, sigma=3.0)(x, None, gen())
    torch.testing.assert_close(out, x, atol=1e-5, rtol=0)
    out, _ = Elastic(alpha=30.0, sigma=4.0)(x, None, gen())
    assert not torch.allclose(out, x, atol=1e-2)
    out.sum().backward()
    assert float(x.grad.abs().sum()) > 0
    k = gaussian_kernel(2.0)
    assert k.numel() == 13 and abs(float(k.sum()) - 1) < 1e-6 and int(k.argmax()) == 6


def test_cutout_zeroes_a_clipped_square():
    x = torch.ones(200, 1, 20, 20)
    out, _ = Cutout(6)(x, None, gen())
    zeros = out == 0
    area = zeros.flatten(1).sum(1)
    assert int(area.max()) == 36 and int(area.min()) >= 9  # a corner keeps at least 3x3
    rows, cols = zeros.any(3).sum((1, 2)), zeros.any(2).sum((1, 2))
    assert torch.equal(rows * cols, area)  # the zeros form one rectangle
    assert bool((area == 36).float().mean() > 0.3)


def test_random_erasing_areas_and_aspects_within_their_ranges():
    H = W = 64
    x = torch.ones(300, 1, H, W)
    erase = RandomErasing(scale=(0.05, 0.2), ratio=(0.5, 2.0), p=1.0)
    out, _ = erase(x, None, gen())
    zeros = out == 0
    area = zeros.flatten(1).sum(1).float()
    h, w = zeros.any(3).sum((1, 2)).float(), zeros.any(2).sum((1, 2)).float()
    assert torch.equal(h * w, area)
    frac = area / (H * W)
    assert float(frac.min()) > 0.05 * 0.85 and float(frac.max()) < 0.2 * 1.15  # rounding
    aspect = h / w
    assert float(aspect.min()) > 0.5 * 0.8 and float(aspect.max()) < 2.0 * 1.25
    assert float(frac.std()) > 0.02  # areas really vary


def test_random_erasing_noise_fill_and_probability():
    x = torch.full((200, 3, 16, 16), 0.5)
    out, _ = RandomErasing(value="noise", p=1.0)(x, None, gen())
    changed = out != 0.5
    assert bool(changed.flatten(1).any(1).all())
    assert float(out[changed].std()) > 0.2  # uniform noise, not a constant
    out, _ = RandomErasing(p=0.25)(x, None, gen())
    erased = (out == 0).flatten(1).any(1)
    assert 30 < int(erased.sum()) < 70


def test_bad_noise_and_mask_parameters():
    with pytest.raises(ConfigError, match="noise std"):
        GaussianNoise(-0.1)
    with pytest.raises(ConfigError, match="saltpepper amount"):
        SaltPepper(1.5)
    with pytest.raises(ConfigError, match="elastic sigma"):
        Elastic(30, 0)
    with pytest.raises(ConfigError, match="cutout size"):
        Cutout(0)
    with pytest.raises(ConfigError, match="erase scale"):
        RandomErasing(scale=(0.5, 0.1))
    with pytest.raises(ConfigError, match="erase value"):
        RandomErasing(value="paint")
