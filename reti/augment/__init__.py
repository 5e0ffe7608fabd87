"""Batched, seeded data augmentation (notes: Data Augmentation): ``t(x, y, generator) -> (x, y)``.

>>> import torch
>>> from reti.augment import parse_spec
>>> aug = parse_spec("hflip,crop(4),jitter(0.4,0.4,0.4,0.1),erase(p=0.25),cutmix(1.0)", 10)
>>> x, y = aug(torch.rand(8, 3, 32, 32), torch.arange(8), torch.Generator().manual_seed(0))
>>> tuple(x.shape), tuple(y.shape)
((8, 3, 32, 32), (8, 10))
"""

from reti.augment.color import (
    GRAY_WEIGHTS,
    Brightness,
    ColorJitter,
    Contrast,
    Grayscale,
    Hue,
    Saturation,
)
from reti.augment.compose import Compose, OneOf, RandomApply, Transform
from reti.augment.crop import CenterCrop, Crop
from reti.augment.geometric import (
    Affine,
    HFlip,
    Rot90,
    Rotate,
    Scale,
    Shear,
    Translate,
    VFlip,
    Zoom,
)
from reti.augment.mask import Cutout, RandomErasing
from reti.augment.mix import CutMix, Mixup, soft_cross_entropy
from reti.augment.noise import Elastic, GaussianNoise, SaltPepper
from reti.augment.spec import OPS, parse_spec

__all__ = [
    "GRAY_WEIGHTS",
    "OPS",
    "Affine",
    "Brightness",
    "CenterCrop",
    "ColorJitter",
    "Compose",
    "Contrast",
    "Crop",
    "CutMix",
    "Cutout",
    "Elastic",
    "GaussianNoise",
    "Grayscale",
    "HFlip",
    "Hue",
    "Mixup",
    "OneOf",
    "RandomApply",
    "RandomErasing",
    "Rot90",
    "Rotate",
    "SaltPepper",
    "Saturation",
    "Scale",
    "Shear",
    "Transform",
    "Translate",
    "VFlip",
    "Zoom",
    "parse_spec",
    "soft_cross_entropy",
]
