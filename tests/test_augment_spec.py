"""Spec strings: canonical printing, round trips, positioned errors; Compose/OneOf/RandomApply."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from reti.augment import (
    OPS,
    Compose,
    HFlip,
    OneOf,
    RandomApply,
    Rotate,
    VFlip,
    parse_spec,
)
from reti.errors import ConfigError, ParseError, ShapeError

EXAMPLES = [
    "hflip,crop(4),jitter(0.4,0.4,0.4,0.1),erase(p=0.25),cutmix(1.0)",
    "rotate(15),translate(0.1),scale(0.9,1.1),affine(deg=10,translate=0.1,scale=(0.9,1.1),shear=5),"
    "gray(p=0.2),noise(0.05),saltpepper(0.02),elastic(alpha=30,sigma=4),cutout(8),mixup(0.2),"
    "oneof(hflip,vflip),apply(p=0.5,rotate(30))",
    "vflip(p=0.1), rot90 , zoom((1.1,1.4)), shear(5), ccrop(6, padding=1), crop(2,size=(6,7))",
    "brightness(0.2),contrast(0.3),saturation(0.1),hue(0.05),erase(value=noise,scale=(0.1,0.2))",
    "",
]


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("spec", EXAMPLES)
def test_examples_round_trip(spec):
    aug = parse_spec(spec, num_classes=10)
    again = parse_spec(str(aug), num_classes=10)
    assert again == aug and str(again) == str(aug) == aug.spec()
    x = torch.rand(4, 3, 12, 12, generator=gen())
    out, _ = aug(x, torch.arange(4), gen())
    assert out.shape[:2] == (4, 3)


def test_canonical_form():
    aug = parse_spec("hflip(p=0.5), crop( 4 ), jitter(0.4,0.4), apply(p=0.5,rotate(30))")
    assert str(aug) == "hflip,crop(4),jitter(0.4,0.4),apply(rotate(30),p=0.5)"
    aug = parse_spec("affine(deg=10,translate=0.1,scale=(0.9,1.1),shear=5),erase(p=0.25)")
    assert str(aug) == "affine(10,0.1,(0.9,1.1),5),erase(p=0.25)"
    assert isinstance(aug.transforms[0].deg, float) and aug.transforms[1].p == 0.25
    built = Compose([HFlip(p=1), OneOf([Rotate(10), VFlip()], p=0.5)])
    assert str(built) == "hflip(p=1),oneof(rotate(10),vflip,p=0.5)"
    assert parse_spec(str(built)) == built


_simple = st.sampled_from(
    [
        "hflip",
        "vflip(p=0.25)",
        "rotate(12.5)",
        "rotate((-5,20))",
        "translate((0.1,0.2))",
        "scale(0.8,1.25)",
        "crop(3)",
        "jitter(0.1,0,0.3)",
        "gray(p=0.5)",
        "noise(0.01)",
        "cutout(4)",
        "erase(p=0.75)",
        "mixup(0.3,0.1)",
        "cutmix(2)",
    ]
)
_spec = st.recursive(
    _simple,
    lambda inner: st.builds(
        lambda ts, kind, p: f"{kind}({','.join(ts)},p={p})",
        st.lists(inner, min_size=1, max_size=3),
        st.sampled_from(["oneof", "apply"]),
        st.sampled_from([0.25, 0.5, 1]),
    ),
    max_leaves=6,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_spec, min_size=1, max_size=4))
def test_random_specs_round_trip(parts):
    aug = parse_spec(",".join(parts), num_classes=3)
    printed = str(aug)
    assert parse_spec(printed, num_classes=3) == aug
    assert str(parse_spec(printed, num_classes=3)) == printed


@pytest.mark.parametrize(
    ("spec", "column", "words"),
    [
        ("hflip,rotat(15)", 7, "did you mean 'rotate'"),
        ("hflip,cutmx(1.0)", 7, "did you mean 'cutmix'"),
        ("rotate(1,0.5,3)", 14, "at most 2 arguments"),
        ("rotate('15')", 8, "rotate degrees must be a number or a pair"),
        ("rotate(fifteen)", 8, "got 'fifteen'"),
        ("hflip(p=-0.5)", 9, "probability in [0, 1]"),
        ("crop(4.5)", 6, "crop padding must be an integer"),
        ("jitter(0.4,0.4,0.4,0.7)", 20, "jitter hue must be in [0, 0.5]"),
        ("scale(1.2,0.9)", 7, "lo <= hi"),
        ("rotate(15", 10, "expected ')'"),
        ("hflip,,vflip", 7, "expected a transform name"),
        ("hflip vflip", 7, "expected ','"),
        ("rotate(degrees=1,degrees=2)", 18, "twice"),
        ("rotate(angle=3)", 8, "no argument 'angle'"),
        ("erase(value=paint)", 13, "a number or noise"),
        ("oneof()", 1, "at least one transform"),
        ("apply(p=2,hflip)", 9, "probability"),
        ("rotate(1;2)", 9, "unexpected character ';'"),
        ("scale((1,2))", 7, "must be a number"),
        ("rotate(-5)", 8, "rotate degrees as one number must be >= 0"),
        ("affine(shear=(10,-10))", 14, "affine shear"),
        ("noise(std=hflip(p=1))", 11, "got the transform 'hflip'"),
        ("crop(٣)", 6, "unexpected character '٣'"),  # an Arabic-Indic digit is no spec digit
        ("rotate(" + "9" * 5000 + ")", 8, "number of 5000 characters; at most 30"),
        ("rotate(1e999)", 8, "number 1e999 is out of range"),
        ("apply(" * 17 + "hflip" + ")" * 17, 103, "values nested more than 16 deep"),
        ("crop(" + "(" * 300, 22, "values nested more than 16 deep"),
        ("crop(100000)", 6, "crop padding must be at most 256, got 100000"),
        ("ccrop", 1, "ccrop needs its size"),
    ],
)
def test_errors_name_the_column(spec, column, words):
    with pytest.raises(ParseError) as info:
        parse_spec(spec)
    err = info.value
    assert words in err.message, err.message
    assert err.position + 1 == column, (err.position + 1, err.message)
    assert f"column {column}" in str(err)
    shown, caret = err.caret().splitlines()
    if len(spec) <= ParseError.WIDTH:
        assert caret.index("^") == column + 1
    else:  # a long spec is shown as the window around the column
        assert len(shown) < 90 and shown[caret.index("^")] == spec[column - 1]


def test_every_op_is_listed_and_prints_back():
    for name, cls in OPS.items():
        kwargs = {"size": 4} if name == "ccrop" else {}
        t = cls(**kwargs)
        assert t.op == name and parse_spec(str(t), num_classes=2) == Compose([t])


def test_determinism_and_input_untouched():
    aug = parse_spec("hflip,crop(2),jitter(0.4,0.4,0.4,0.1),noise(0.02),erase(p=0.5),mixup(0.2)", 4)
    x = torch.rand(8, 3, 10, 10, generator=gen(1))
    y = torch.arange(8) % 4
    keep = x.clone()
    a, ya = aug(x, y, gen(3))
    b, yb = aug(x, y, gen(3))
    c, _ = aug(x, y, gen(4))
    assert torch.equal(a, b) and torch.equal(ya, yb) and not torch.allclose(a, c)
    assert torch.equal(x, keep)  # the caller's batch is never changed
    one, _ = aug(x[:1], y[:1], gen(3))  # batch of one works
    assert one.shape == (1, 3, 10, 10)


def test_oneof_gives_each_image_exactly_one_choice():
    x = torch.rand(64, 1, 5, 5, generator=gen())
    out, _ = OneOf([HFlip(p=1.0), VFlip(p=1.0)])(x, None, gen(2))
    h = (out == x.flip(3)).flatten(1).all(1)
    v = (out == x.flip(2)).flatten(1).all(1)
    assert bool((h ^ v).all()) and 16 < int(h.sum()) < 48


def test_random_apply_probability():
    x = torch.rand(200, 1, 5, 5, generator=gen())
    out, _ = RandomApply([HFlip(p=1.0), VFlip(p=1.0)], p=0.3)(x, None, gen(1))
    both = (out == x.flip(2).flip(3)).flatten(1).all(1)
    same = (out == x).flatten(1).all(1)
    assert bool((both | same).all()) and 40 < int(both.sum()) < 80
    aug = parse_spec("apply(p=0.5,mixup(0.5))", num_classes=3)
    _, y = aug(torch.rand(16, 1, 4, 4), torch.arange(16) % 3, gen())
    assert y.shape == (16, 3)
    torch.testing.assert_close(y.sum(1), torch.ones(16))


def test_bad_inputs():
    aug = parse_spec("hflip")
    with pytest.raises(ShapeError, match="4-D"):
        aug(torch.rand(3, 8, 8), None, gen())
    with pytest.raises(ConfigError, match=r"\[0, 255\]"):
        aug(torch.full((2, 1, 4, 4), 300, dtype=torch.int64), None, gen())
    with pytest.raises(ConfigError, match="torch.Generator"):
        aug(torch.rand(2, 1, 4, 4), None, None)
    with pytest.raises(ShapeError, match="labels"):
        aug(torch.rand(2, 1, 4, 4), torch.arange(3), gen())
    with pytest.raises(ShapeError, match="cannot run on only some images"):
        parse_spec("apply(ccrop(2),p=0.5)")(torch.rand(8, 1, 4, 4), None, gen())
    with pytest.raises(ConfigError, match="spec must be a string"):
        parse_spec(None)
    u8 = torch.randint(0, 256, (4, 3, 6, 6), dtype=torch.uint8, generator=gen())
    out, _ = parse_spec("hflip(p=1)")(u8, None, gen())
    assert out.dtype == torch.uint8 and torch.equal(out, u8.flip(3))
    ints = u8.to(torch.int32)
    out, _ = parse_spec("vflip(p=1)")(ints, None, gen())
    assert out.dtype == torch.int32 and torch.equal(out, ints.flip(2))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_same_seed_same_batch_on_cpu_and_cuda():
    spec = "hflip,crop(2),rotate(10),scale(0.9,1.1),jitter(0.4,0.4,0.4,0.1),noise(0.02),"
    spec += "elastic(10,3),erase(p=0.5),cutmix(1.0)"
    aug = parse_spec(spec, num_classes=4)
    x = torch.rand(8, 3, 16, 16, generator=gen(1))
    y = torch.arange(8) % 4
    a, ya = aug(x, y, gen(3))
    b, yb = aug(x.cuda(), y.cuda(), gen(3))  # parameters drawn on the CPU, applied on the GPU
    torch.testing.assert_close(b.cpu(), a, atol=1e-4, rtol=0)
    torch.testing.assert_close(yb.cpu(), ya)


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_on_uint8_and_float_one_and_three_channels(name, channels):
    t = parse_spec("ccrop(6)" if name == "ccrop" else name, num_classes=3).transforms[0]
    u8 = torch.randint(0, 256, (4, channels, 8, 8), dtype=torch.uint8, generator=gen())
    y = torch.arange(4) % 3
    out8, y8 = t(u8, y, gen(1))
    outf, yf = t(u8.float() / 255, y, gen(1))
    assert out8.dtype == torch.uint8 and outf.dtype == torch.float32
    assert out8.shape == outf.shape and out8.shape[:2] == (4, channels)
    assert 0.0 <= float(outf.min()) and float(outf.max()) <= 1.0
    assert int((out8.int() - (outf * 255).round().int()).abs().max()) <= 1  # same draws
    torch.testing.assert_close(y8, yf)
