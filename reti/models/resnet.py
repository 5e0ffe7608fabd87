"""Residual networks ``h = F(x) + x`` and their plain twins (notes: Connessioni Residue).

He et al. 2015, "Deep Residual Learning for Image Recognition":

* ImageNet family (section 3.4, table 1): ResNet-18/34 with basic blocks (two 3x3 convs),
  ResNet-50/101/152 with bottleneck blocks (1x1 -> 3x3 -> 1x1, 4x wider out). Stem 7x7/2 conv +
  3x3/2 max pool, four stages of 64/128/256/512 channels, global average pool, FC. Shortcuts whose
  shape changes are 1x1 projections (option B). ResNet-18 has 11,689,512 parameters and ResNet-50
  25,557,032 at 1000 classes. The stride sits on the 3x3 conv of a bottleneck (torchvision's
  "v1.5"; the count is the same).
* CIFAR family (section 4.2): depth 6n+2 (ResNet-20/32/44/56/110/1202), a 3x3 conv to 16
  channels, three stages of n basic blocks with 16/32/64 channels, global average pool, FC.
  Shortcuts that change shape are option A (the paper's CIFAR choice: the identity, subsampled
  with stride 2 and zero-padded with the new channels, no parameters) or option B (1x1 conv+BN).
  ResNet-20 has 0.27M parameters and ResNet-110 1.7M.

``shortcut="none"`` gives the plain twin: the same layers with ``h = F(x)`` (no projection
convs either), the network of the paper's degradation experiment.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from reti.config import COUNT, check, one_of, option
from reti.errors import ConfigError

# Name -> (family, block, blocks per stage). CIFAR nets have n = (depth - 2) / 6 blocks per stage.
IMAGENET_DEPTHS: dict[int, tuple[str, tuple[int, ...]]] = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}
CIFAR_DEPTHS = (20, 32, 44, 56, 110, 1202)
SHORTCUTS = ("A", "B", "none")


@dataclass
class ResNetConfig:
    depth: int = option(20, "Layers: 6n+2 for cifar, 18/34/50/101/152 for imagenet.", COUNT)
    family: str = option(
        "cifar",
        "cifar (6n+2, widths 16/32/64) or imagenet (18/34/50/101/152).",
        one_of(("cifar", "imagenet"), "'cifar' or 'imagenet'"),
    )
    shortcut: str = option(
        "A", "A zero-pad identity, B 1x1 projection, none (the plain twin).", one_of(SHORTCUTS)
    )
    num_classes: int = option(10, "Class scores out.", COUNT)
    in_channels: int = option(3, "Image channels.", COUNT)

    def __post_init__(self) -> None:
        check(self)


def _bn_conv(cin: int, cout: int, kernel: int, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(cout)]


class PadShortcut(nn.Module):
    """Option A: ``x[:, :, ::s, ::s]`` with ``extra`` zero channels appended (no parameters)."""

    def __init__(self, stride: int, extra: int):
        super().__init__()
        self.stride, self.extra = stride, extra

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.extra))  # (B, C, H, W) -> (B, C + extra, H, W)


def _shortcut(kind: str, cin: int, cout: int, stride: int) -> nn.Module | None:
    """The skip path: identity (None), option A or B when the shape changes; None for plain."""
    if kind == "none":
        return None
    if stride == 1 and cin == cout:
        return nn.Identity()
    if kind == "A":
        return PadShortcut(stride, cout - cin)
    return nn.Sequential(*_bn_conv(cin, cout, 1, stride))


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers: ``h = relu(F(x) + shortcut(x))`` (plain: ``relu(F(x))``)."""

    expansion = 1

    def __init__(self, cin: int, width: int, stride: int, shortcut: str):
        super().__init__()
        cout = width * self.expansion
        self.residual = nn.Sequential(
            *_bn_conv(cin, width, 3, stride), nn.ReLU(inplace=True), *_bn_conv(width, cout, 3)
        )
        self.shortcut = _shortcut(shortcut, cin, cout, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.residual(x)
        if self.shortcut is not None:
            h = h + self.shortcut(x)  # notes: h = F(x) + x
        return F.relu(h)


class Bottleneck(BasicBlock):
    """1x1 (reduce) -> 3x3 (stride) -> 1x1 (expand x4), each with BN, plus the shortcut."""

    expansion = 4

    def __init__(self, cin: int, width: int, stride: int, shortcut: str):
        nn.Module.__init__(self)
        cout = width * self.expansion
        self.residual = nn.Sequential(
            *_bn_conv(cin, width, 1),
            nn.ReLU(inplace=True),
            *_bn_conv(width, width, 3, stride),
            nn.ReLU(inplace=True),
            *_bn_conv(width, cout, 1),
        )
        self.shortcut = _shortcut(shortcut, cin, cout, stride)


class ResNet(nn.Module):
    """A ResNet (or its plain twin): ``stem`` -> ``stages`` -> global average pool -> ``fc``.

    Shape: (B, in_channels, H, W) -> (B, num_classes).
    """

    def __init__(self, config: ResNetConfig):
        super().__init__()
        self.config = config
        if config.family == "imagenet":
            if config.depth not in IMAGENET_DEPTHS:
                raise ConfigError(
                    f"ImageNet ResNet depth must be one of {sorted(IMAGENET_DEPTHS)}, "
                    f"got {config.depth}"
                )
            kind, blocks = IMAGENET_DEPTHS[config.depth]
            widths, cin = (64, 128, 256, 512), 64
            stem = [*_bn_conv(config.in_channels, 64, 7, 2), nn.ReLU(inplace=True)]
            stem.append(nn.MaxPool2d(3, 2, 1))
        elif config.family == "cifar":
            if config.depth < 8 or (config.depth - 2) % 6:
                raise ConfigError(
                    f"CIFAR ResNet depth must be 6n+2 with n >= 1 (20, 32, 44, 56, 110, 1202), "
                    f"got {config.depth}"
                )
            kind, blocks = "basic", ((config.depth - 2) // 6,) * 3
            widths, cin = (16, 32, 64), 16
            stem = [*_bn_conv(config.in_channels, 16, 3), nn.ReLU(inplace=True)]
        else:
            raise ConfigError(f"family must be 'cifar' or 'imagenet', got {config.family!r}")
        if kind == "bottleneck" and config.shortcut == "A":
            raise ConfigError("bottleneck ResNets use shortcut 'B' (or 'none'), got 'A'")
        block = Bottleneck if kind == "bottleneck" else BasicBlock
        self.stem = nn.Sequential(*stem)
        stages = []
        for i, (width, n) in enumerate(zip(widths, blocks)):
            layers = []
            for j in range(n):
                stride = 2 if i > 0 and j == 0 else 1
                layers.append(block(cin, width, stride, config.shortcut))
                cin = width * block.expansion
            stages.append(nn.Sequential(*layers))
        self.stages = nn.Sequential(*stages)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(cin, config.num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if getattr(m, "weight", None) is not None and m.weight.is_meta:
                continue  # counting on the meta device: nothing to initialise (and slow there)
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.stages(self.stem(x))))


def resnet(depth: int = 20, family: str = "cifar", shortcut: str = "A", **options) -> ResNet:
    """Build ``ResNet(ResNetConfig(depth, family, shortcut, ...))``; options are config fields."""
    return ResNet(ResNetConfig(depth=depth, family=family, shortcut=shortcut, **options))
