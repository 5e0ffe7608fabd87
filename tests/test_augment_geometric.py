"""Geometric augmentations: exact flips/rot90/crops, identity parameters, one grid_sample."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from reti.augment import (
    Affine,
    CenterCrop,
    Compose,
    Crop,
    HFlip,
    Rot90,
    Rotate,
    Scale,
    Shear,
    Translate,
    VFlip,
    Zoom,
)
from reti.augment import geometric as geo
from reti.errors import ConfigError, ShapeError


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def images(B=6, C=3, H=8, W=8, seed=0) -> torch.Tensor:
    return torch.rand(B, C, H, W, generator=gen(seed))


def test_hflip_and_vflip_are_exact_per_sample():
    x = images(B=64)
    out, _ = HFlip(p=0.5)(x, None, gen(1))
    flipped = torch.stack([img[:, :, torch.arange(7, -1, -1)] for img in x])  # by hand
    is_flipped = (out == flipped).flatten(1).all(1)
    is_same = (out == x).flatten(1).all(1)
    assert bool((is_flipped | is_same).all())
    assert 16 < int(is_flipped.sum()) < 48  # per-sample draws, about half
    out, _ = VFlip(p=1.0)(x, None, gen(1))
    assert torch.equal(out, x[:, :, torch.arange(7, -1, -1), :])


def test_rot90_is_exact_and_needs_square_images():
    x = images(B=32)
    out, _ = Rot90(p=1.0)(x, None, gen(2))
    turns = [torch.rot90(x, k, dims=(2, 3)) for k in (1, 2, 3)]
    hits = torch.stack([(out == t).flatten(1).all(1) for t in turns])  # (3, B)
    assert bool((hits.sum(0) == 1).all())
    assert bool(hits.any(1).all())  # every k occurs
    with pytest.raises(ShapeError, match="square"):
        Rot90(p=1.0)(images(H=8, W=6), None, gen())


def test_rotate_by_90_degrees_equals_rot90():
    x = images(H=10, W=10)
    out, _ = Rotate((90, 90))(x, None, gen())
    torch.testing.assert_close(out, torch.rot90(x, 1, dims=(2, 3)), atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    "op",
    [Rotate(0), Translate(0), Scale(1, 1), Shear(0), Zoom(1), Affine(), Crop(0), Crop(3, p=0.0)],
    ids=str,
)
def test_identity_parameters_return_the_input(op):
    x = images(H=9, W=12)
    out, _ = op(x, None, gen())
    torch.testing.assert_close(out, x, atol=1e-5, rtol=0)


def test_integer_translation_is_a_zero_filled_shift():
    x = images(H=8, W=8)
    out, _ = Translate((0.25, 0.0))(x, None, gen())  # tx uniform in [-2, 2] px: not integer
    assert out.shape == x.shape
    # an exact integer shift: translate by exactly (2, 1) pixels through the matrix path
    m = geo._translation(torch.tensor([2.0]), torch.tensor([1.0])).expand(6, 3, 3)
    shifted = geo.warp(x, m)
    expect = torch.zeros_like(x)
    expect[:, :, 1:, 2:] = x[:, :, :-1, :-2]
    torch.testing.assert_close(shifted, expect, atol=1e-5, rtol=0)


def test_a_run_of_affine_ops_is_one_grid_sample(monkeypatch):
    calls = []
    real = F.grid_sample

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(geo.F, "grid_sample", counting)
    x = images(H=10, W=10)
    aug = Compose([Rotate((90, 90)), Scale(1, 1), Rotate((90, 90)), HFlip(p=1.0)])
    out, _ = aug(x, None, gen())
    assert len(calls) == 1
    torch.testing.assert_close(out, torch.rot90(x, 2, dims=(2, 3)).flip(3), atol=1e-5, rtol=0)
    assert str(aug) == "rotate((90,90)),scale(1,1),rotate((90,90)),hflip(p=1)"


def test_fused_matrices_compose_in_order():
    """shear then rotate != rotate then shear: the fused product must keep the order."""
    x = images(H=10, W=10)
    shear, turn = Shear((30, 30)), Rotate((90, 90))
    fused, _ = Compose([shear, turn])(x, None, gen())
    sheared, _ = shear(x, None, gen())
    torch.testing.assert_close(fused, torch.rot90(sheared, 1, dims=(2, 3)), atol=1e-5, rtol=0)
    other, _ = shear(torch.rot90(x, 1, dims=(2, 3)), None, gen())
    assert not torch.allclose(fused, other, atol=1e-3)


def test_random_crop_with_padding_takes_a_window_of_the_padded_image():
    x = images(B=16, H=8, W=8)
    out, _ = Crop(2)(x, None, gen(3))
    padded = F.pad(x, (2, 2, 2, 2))
    offsets = set()
    for b in range(16):  # oracle: search every window
        found = [
            (i, j)
            for i in range(5)
            for j in range(5)
            if torch.equal(out[b], padded[b, :, i : i + 8, j : j + 8])
        ]
        assert found, f"image {b} is not a window of the padded image"
        offsets.add(found[0])
    assert len(offsets) > 3
    small, _ = Crop(0, size=5)(x, None, gen())
    assert small.shape == (16, 3, 5, 5)


def test_center_crop_is_the_middle_slice():
    x = images(H=9, W=12)
    out, _ = CenterCrop(5)(x, None, gen())
    assert torch.equal(out, x[:, :, 2:7, 3:8])
    out, _ = CenterCrop((12, 12), padding=2)(x, None, gen())  # padded 13x16: rows 0-11, cols 2-13
    assert torch.equal(out[:, :, 2:11, :], x)
    assert float(out[:, :, :2].abs().sum() + out[:, :, 11:].abs().sum()) == 0.0


def test_crop_larger_than_the_image_is_an_error():
    with pytest.raises(ShapeError, match="larger than the padded image"):
        Crop(1, size=20)(images(), None, gen())
    with pytest.raises(ShapeError, match="larger"):
        CenterCrop(9)(images(), None, gen())
    with pytest.raises(ConfigError, match="p must be 1"):
        Crop(0, size=4, p=0.5)
    with pytest.raises(ConfigError, match="padding"):
        Crop(-1)


def test_bad_geometric_parameters():
    with pytest.raises(ConfigError, match="scale"):
        Scale(1.2, 0.9)
    with pytest.raises(ConfigError, match="translate fraction"):
        Translate(1.5)
    with pytest.raises(ConfigError, match="shear degrees"):
        Shear(95)
    with pytest.raises(ConfigError, match="hflip p"):
        HFlip(p=-0.1)


def test_zoom_stays_inside_the_image():
    x = torch.ones(32, 1, 12, 12)
    out, _ = Zoom(2.0)(x, None, gen())
    torch.testing.assert_close(out, x, atol=1e-5, rtol=0)  # never samples outside: no zeros
    checker = (torch.arange(12)[:, None] + torch.arange(12)[None]) % 2
    z, _ = Zoom(2.0)(checker.float().expand(4, 1, 12, 12), None, gen())
    assert not torch.allclose(z, checker.float().expand(4, 1, 12, 12))


def test_affine_gradients_flow_and_seeds_matter():
    x = images().requires_grad_(True)
    aug = Affine(deg=20, translate=0.1, scale=(0.8, 1.2), shear=10)
    out, _ = aug(x, None, gen(4))
    out.square().sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0
    a, _ = aug(x.detach(), None, gen(4))
    b, _ = aug(x.detach(), None, gen(4))
    c, _ = aug(x.detach(), None, gen(5))
    assert torch.equal(a, b) and not torch.allclose(a, c)
