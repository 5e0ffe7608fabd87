"""VGG-11/13/16/19 with or without batch norm (Simonyan & Zisserman 2014; notes: VGG-16).

Stacks of 3x3 'same' convolutions with ReLU, a 2x2 max pool after each stage, then the
classifier. Two heads:

* ``small=False`` (ImageNet, the paper): adaptive average pool to 7x7, then
  FC@4096-RELU-DROPOUT-FC@4096-RELU-DROPOUT-FC@num_classes. VGG-16 at 224x224 and 1000 classes
  has 138,357,544 parameters.
* ``small=True`` (28x28 / 32x32 inputs; chosen automatically below 64 pixels): the pools use
  ``ceil_mode`` so 28 -> 14 -> 7 -> 4 -> 2 -> 1 (32 -> 16 -> 8 -> 4 -> 2 -> 1), then
  FC@512-RELU-DROPOUT-FC@num_classes on the 512 features (the usual CIFAR VGG head).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from reti.config import BOOL, COUNT, FRACTION, OPTIONAL_BOOL, check, one_of, option
from reti.layers import Dropout
from reti.layers.dropout import MODES

# Depth -> channels per conv, "M" = max pool (the paper's configurations A, B, D, E).
VGG_LAYERS: dict[int, tuple[int | str, ...]] = {
    11: (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    13: (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    16: (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
    19: (
        *(64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M"),
        *(512, 512, 512, 512, "M", 512, 512, 512, 512, "M"),
    ),
}
SMALL_BELOW = 64  # image sizes under this get the small head
_DEPTH = one_of(sorted(VGG_LAYERS))


@dataclass
class VGGConfig:
    depth: int = option(16, "Conv layers + 3: 11, 13, 16 or 19.", _DEPTH)
    batch_norm: bool = option(False, "A BatchNorm after each conv.", BOOL)
    num_classes: int = option(1000, "Class scores out.", COUNT)
    in_channels: int = option(3, "Image channels.", COUNT)
    image_size: int = option(224, "Image side in pixels.", COUNT)
    dropout: float = option(0.5, "Dropout in the classifier head.", FRACTION)
    dropout_mode: str = option("inverted", "inverted or standard (notes: Dropout).", one_of(MODES))
    small: bool | None = option(None, "The small head (None: when image_size < 64).", OPTIONAL_BOOL)

    def __post_init__(self) -> None:
        check(self, "VGG ")


class VGG(nn.Module):
    """VGG: ``features`` (conv stages) -> ``pool`` -> ``classifier``.

    Shape: (B, in_channels, S, S) -> (B, num_classes).
    """

    def __init__(self, config: VGGConfig):
        super().__init__()
        self.config = config
        small = config.image_size < SMALL_BELOW if config.small is None else config.small
        layers: list[nn.Module] = []
        channels = config.in_channels
        for item in VGG_LAYERS[config.depth]:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2, ceil_mode=small))
                continue
            layers.append(nn.Conv2d(channels, item, 3, padding=1))
            if config.batch_norm:
                layers.append(nn.BatchNorm2d(item))
            layers.append(nn.ReLU(inplace=True))
            channels = item
        self.features = nn.Sequential(*layers)
        drop = config.dropout, config.dropout_mode
        if small:
            self.pool = nn.AdaptiveAvgPool2d(1)  # already 1x1 at 28/32; keeps other sizes working
            self.classifier = nn.Sequential(
                nn.Flatten(),
                nn.Linear(512, 512),
                nn.ReLU(inplace=True),
                Dropout(*drop),
                nn.Linear(512, config.num_classes),
            )
        else:
            self.pool = nn.AdaptiveAvgPool2d(7)
            self.classifier = nn.Sequential(
                nn.Flatten(),
                nn.Linear(512 * 7 * 7, 4096),
                nn.ReLU(inplace=True),
                Dropout(*drop),
                nn.Linear(4096, 4096),
                nn.ReLU(inplace=True),
                Dropout(*drop),
                nn.Linear(4096, config.num_classes),
            )
        self._init_weights()

    def _init_weights(self) -> None:
        # He initialisation for the ReLU convs, small normal for the linears (as torchvision).
        for m in self.modules():
            if getattr(m, "weight", None) is not None and m.weight.is_meta:
                continue  # counting on the meta device: nothing to initialise (and slow there)
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.features(x)))


def vgg(depth: int = 16, batch_norm: bool = False, **options) -> VGG:
    """Build ``VGG(VGGConfig(depth, batch_norm, ...))``; options are VGGConfig fields."""
    return VGG(VGGConfig(depth=depth, batch_norm=batch_norm, **options))
