"""Colour ops against their formulas: brightness, contrast, saturation, hue, jitter, grayscale."""

from __future__ import annotations

import pytest
import torch

from reti.augment import Brightness, ColorJitter, Contrast, Grayscale, Hue, Saturation
from reti.augment.color import _hue_rotation, apply_colour_map
from reti.errors import ConfigError, ShapeError

W601 = torch.tensor([0.299, 0.587, 0.114])


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def dim_images(B=16, C=3, seed=0) -> torch.Tensor:
    """Values in [0.2, 0.5]: no op below pushes them out of [0, 1], so nothing is clamped."""
    return 0.2 + 0.3 * torch.rand(B, C, 6, 7, generator=gen(seed))


def per_image_ratio(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    """The factor f with num = f den per image; checks it is one number per image."""
    f = (num * den).flatten(1).sum(1) / den.square().flatten(1).sum(1)
    torch.testing.assert_close(num, f[:, None, None, None] * den, atol=1e-5, rtol=0)
    return f


def test_brightness_multiplies_each_image_by_one_factor():
    x = dim_images()
    out, _ = Brightness(0.4)(x, None, gen())
    f = per_image_ratio(out, x)
    assert bool(((f >= 0.6 - 1e-6) & (f <= 1.4 + 1e-6)).all()) and float(f.std()) > 0.05


def test_contrast_moves_towards_the_gray_mean():
    x = dim_images()
    mu = (x * W601[:, None, None]).sum(1).mean((1, 2))[:, None, None, None]  # hand formula
    out, _ = Contrast(0.5)(x, None, gen())
    f = per_image_ratio(out - mu, x - mu)
    assert bool(((f >= 0.5 - 1e-6) & (f <= 1.5 + 1e-6)).all())


def test_saturation_moves_towards_the_gray_image():
    x = dim_images()
    gray = (x * W601[:, None, None]).sum(1, keepdim=True)
    out, _ = Saturation(0.5)(x, None, gen())
    f = per_image_ratio(out - gray, x - gray)
    assert bool(((f >= 0.5 - 1e-6) & (f <= 1.5 + 1e-6)).all())


def test_hue_turns_keep_grays_and_a_full_turn_is_the_identity():
    x = dim_images()
    B = x.shape[0]
    full = _hue_rotation(torch.ones(B), 3)
    torch.testing.assert_close(apply_colour_map(x, full, torch.zeros(B, 3)), x, atol=1e-5, rtol=0)
    half = _hue_rotation(torch.full((B,), 0.5), 3)
    twice = apply_colour_map(apply_colour_map(x, half, torch.zeros(B, 3)), half, torch.zeros(B, 3))
    torch.testing.assert_close(twice, x, atol=1e-5, rtol=0)
    grey = torch.full((4, 3, 5, 5), 0.4)
    out, _ = Hue(0.5)(grey, None, gen())
    torch.testing.assert_close(out, grey, atol=1e-6, rtol=0)
    out, _ = Hue(0.3)(x, None, gen())
    assert not torch.allclose(out, x, atol=1e-3)
    torch.testing.assert_close(out.mean(1), x.mean(1), atol=1e-5, rtol=0)  # channel mean kept


def test_grayscale_uses_the_itu_601_weights():
    x = torch.zeros(1, 3, 1, 3)
    x[0, :, 0, 0] = torch.tensor([1.0, 0.0, 0.0])
    x[0, :, 0, 1] = torch.tensor([0.0, 1.0, 0.0])
    x[0, :, 0, 2] = torch.tensor([0.0, 0.0, 1.0])
    out, _ = Grayscale()(x, None, gen())
    expect = torch.tensor([0.299, 0.587, 0.114])
    for c in range(3):
        torch.testing.assert_close(out[0, c, 0], expect)
    x = dim_images(B=200)
    out, _ = Grayscale(p=0.3)(x, None, gen())
    grey = (out[:, 0] == out[:, 1]).flatten(1).all(1) & (out[:, 1] == out[:, 2]).flatten(1).all(1)
    assert 35 < int(grey.sum()) < 85


def test_zero_jitter_is_the_identity_and_uint8_stays_uint8():
    x = dim_images()
    out, _ = ColorJitter(0, 0, 0, 0)(x, None, gen())
    torch.testing.assert_close(out, x, atol=1e-6, rtol=0)
    u8 = (x * 255).round().to(torch.uint8)
    out8, _ = ColorJitter(0.4, 0.4, 0.4, 0.1)(u8, None, gen(3))
    outf, _ = ColorJitter(0.4, 0.4, 0.4, 0.1)(u8.float() / 255, None, gen(3))
    assert out8.dtype == torch.uint8
    assert int((out8.int() - (outf * 255).round().int()).abs().max()) <= 1


def test_jitter_order_is_drawn_per_sample():
    """Brightness then contrast, or contrast then brightness: both orders occur in a batch."""
    x = dim_images(B=32)
    jitter = ColorJitter(brightness=0.4, contrast=0.5)
    out, _ = jitter(x, None, gen(7))
    replay = gen(7)  # the same draws, in the order colour_map makes them
    f = jitter._draw(32, replay)
    first_is_b = torch.rand(32, 2, generator=replay).argsort(1)[:, 0] == 0
    fb, fc = f[0][:, None, None, None], f[1][:, None, None, None]

    def mu(t):
        return (t * W601[:, None, None]).sum(1).mean((1, 2))[:, None, None, None]

    b_then_c = fc * (fb * x) + (1 - fc) * mu(fb * x)
    c_then_b = fb * (fc * x + (1 - fc) * mu(x))
    expect = torch.where(first_is_b[:, None, None, None], b_then_c, c_then_b).clamp(0, 1)
    torch.testing.assert_close(out, expect, atol=1e-5, rtol=0)
    assert 0 < int(first_is_b.sum()) < 32


def test_one_channel_saturation_hue_gray_are_no_ops_and_others_raise():
    x = dim_images(C=1)
    for op in (Saturation(0.9), Hue(0.5), Grayscale()):
        out, _ = op(x, None, gen())
        torch.testing.assert_close(out, x, atol=1e-6, rtol=0)
    out, _ = Brightness(0.4)(x, None, gen())
    per_image_ratio(out, x)
    with pytest.raises(ShapeError, match="1 or 3 channels"):
        ColorJitter(0.4)(torch.rand(2, 2, 4, 4), None, gen())
    with pytest.raises(ShapeError, match="1 or 3 channels"):
        Grayscale()(torch.rand(2, 4, 4, 4), None, gen())


def test_colour_gradients_flow():
    x = dim_images().requires_grad_(True)
    out, _ = ColorJitter(0.4, 0.4, 0.4, 0.1)(x, None, gen())
    out.sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0


def test_bad_colour_parameters():
    with pytest.raises(ConfigError, match="hue factor"):
        Hue(0.6)
    with pytest.raises(ConfigError, match="brightness factor"):
        Brightness(-1)
    with pytest.raises(ConfigError, match="jitter saturation"):
        ColorJitter(0.1, 0.1, "a lot")
