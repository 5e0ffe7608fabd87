"""Named models as data, one table per kind of input, and a builder for each.

- images: ``MODELS[name] = (builder, kwargs)`` and ``build_model``; a name that is not in the
  table is read as a CNN pattern (``reti.models.pattern``), so
  ``build_model("[(CONV3@32-RELU)*2-POOL]*2-(FC@128-RELU)*1,SOFTMAX", 10, 1, 28)`` works too;
- series: ``SERIES_MODELS`` (tcn, fcn, transformer) and ``build_series_model``;
- text: ``LANGUAGE_MODELS`` (gpt) and ``build_language_model``.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable

import torch
from torch import nn

from reti.errors import ConfigError, ParseError
from reti.guards import check_model
from reti.models.cnn import CNNConfig, PatternCNN, count_parameters
from reti.models.fcn import FCN, FCNConfig
from reti.models.gpt import GPT, GPTConfig
from reti.models.pattern import parse
from reti.models.resnet import ResNet, ResNetConfig
from reti.models.series_transformer import SeriesTransformer, SeriesTransformerConfig
from reti.models.tcn import TCN, TCNConfig
from reti.models.vgg import VGG, VGGConfig

# A compact CNN for 28x28 digits (bench/mnist_speed.py's net): BN after every conv, GAP head.
SMALL_CNN = "CONV3@32-BN-RELU-POOL-[CONV3@64-BN-RELU]*2-POOL-CONV3@128-BN-RELU-GAP,SOFTMAX"
# The vision pipeline's default (reti.tasks.vision): a 5x5 stride-2 first conv, so no conv runs
# at 28x28, two BN conv stages (32, 64 channels) with max pools, one hidden FC layer: ~2M
# multiply-adds per MNIST image against SMALL_CNN's ~15M. With the pipeline's default recipe it
# first reaches 99.3% MNIST test accuracy after 1.3-1.9 epochs (docs/performance.md).
FAST_CNN = (
    "CONV5@16(stride=2)-BN-RELU-CONV3@32-BN-RELU-POOL-CONV3@64-BN-RELU-POOL-FC@128-RELU,SOFTMAX"
)
# LeNet-5's shape (LeCun 1998) with ReLU and max pools: 28 -> 28 -> 14 -> 10 -> 5.
LENET = "CONV5@6-RELU-POOL-CONV5@16(padding=0)-RELU-POOL-FC@120-RELU-FC@84-RELU,SOFTMAX"


def _pattern(
    num_classes: int,
    in_channels: int,
    image_size: int,
    pattern: str = SMALL_CNN,
    dropout_mode: str = "inverted",
) -> nn.Module:
    return PatternCNN(CNNConfig(pattern, in_channels, image_size, num_classes, dropout_mode))


def _vgg(
    num_classes: int,
    in_channels: int,
    image_size: int,
    depth: int = 16,
    batch_norm: bool = False,
    dropout: float = 0.5,
    dropout_mode: str = "inverted",
    small: bool | None = None,
) -> nn.Module:
    config = VGGConfig(
        depth, batch_norm, num_classes, in_channels, image_size, dropout, dropout_mode, small
    )
    return VGG(config)


def _resnet(
    num_classes: int,
    in_channels: int,
    image_size: int,
    depth: int = 20,
    family: str = "cifar",
    shortcut: str = "A",
) -> nn.Module:
    return ResNet(ResNetConfig(depth, family, shortcut, num_classes, in_channels))


MODELS: dict[str, tuple[Callable[..., nn.Module], dict]] = {
    "cnn": (_pattern, {"pattern": SMALL_CNN}),
    "fastcnn": (_pattern, {"pattern": FAST_CNN}),
    "lenet": (_pattern, {"pattern": LENET}),
    "vgg11": (_vgg, {"depth": 11}),
    "vgg13": (_vgg, {"depth": 13}),
    "vgg16": (_vgg, {"depth": 16}),
    "vgg19": (_vgg, {"depth": 19}),
    "vgg11_bn": (_vgg, {"depth": 11, "batch_norm": True}),
    "vgg13_bn": (_vgg, {"depth": 13, "batch_norm": True}),
    "vgg16_bn": (_vgg, {"depth": 16, "batch_norm": True}),
    "vgg19_bn": (_vgg, {"depth": 19, "batch_norm": True}),
    "resnet18": (_resnet, {"depth": 18, "family": "imagenet", "shortcut": "B"}),
    "resnet34": (_resnet, {"depth": 34, "family": "imagenet", "shortcut": "B"}),
    "resnet50": (_resnet, {"depth": 50, "family": "imagenet", "shortcut": "B"}),
    "resnet101": (_resnet, {"depth": 101, "family": "imagenet", "shortcut": "B"}),
    "resnet152": (_resnet, {"depth": 152, "family": "imagenet", "shortcut": "B"}),
    "plain18": (_resnet, {"depth": 18, "family": "imagenet", "shortcut": "none"}),
    "plain34": (_resnet, {"depth": 34, "family": "imagenet", "shortcut": "none"}),
    "plain50": (_resnet, {"depth": 50, "family": "imagenet", "shortcut": "none"}),
    "plain101": (_resnet, {"depth": 101, "family": "imagenet", "shortcut": "none"}),
    "plain152": (_resnet, {"depth": 152, "family": "imagenet", "shortcut": "none"}),
    "resnet20": (_resnet, {"depth": 20}),
    "resnet32": (_resnet, {"depth": 32}),
    "resnet44": (_resnet, {"depth": 44}),
    "resnet56": (_resnet, {"depth": 56}),
    "resnet110": (_resnet, {"depth": 110}),
    "resnet1202": (_resnet, {"depth": 1202}),
    "plain20": (_resnet, {"depth": 20, "shortcut": "none"}),
    "plain32": (_resnet, {"depth": 32, "shortcut": "none"}),
    "plain44": (_resnet, {"depth": 44, "shortcut": "none"}),
    "plain56": (_resnet, {"depth": 56, "shortcut": "none"}),
    "plain110": (_resnet, {"depth": 110, "shortcut": "none"}),
    "plain1202": (_resnet, {"depth": 1202, "shortcut": "none"}),
}


_INPUT = ("num_classes", "in_channels", "image_size")


def _looks_like_name(text: str) -> bool:
    return text.replace("_", "").isalnum() and text == text.lower()


def build_model(
    name: str, num_classes: int, in_channels: int, image_size: int, **options
) -> nn.Module:
    """Build a named model (``MODELS``) or a CNN pattern for the given classes and input.

    ``options`` override the table's kwargs (e.g. ``shortcut="B"``, ``dropout_mode="standard"``).

    Raises:
        ConfigError: an unknown name (with the closest names) or an unknown option.
        ParseError: a pattern that does not parse.
    """
    if not isinstance(name, str):
        raise ConfigError(f"model must be a name or a pattern string, got {name!r}")
    for key, value in zip(_INPUT, (num_classes, in_channels, image_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{key} must be a positive integer, got {value!r}")
    if name in MODELS:
        builder, kwargs = MODELS[name]
    else:
        builder, kwargs = _pattern, {"pattern": name}
        try:
            parse(name)  # parse first, so a bad pattern reports its column
        except ParseError:
            if _looks_like_name(name):
                close = difflib.get_close_matches(name, list(MODELS), n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                raise ConfigError(
                    f"unknown model {name!r}{hint} (see `reti vision models`, or give a pattern "
                    f"like 'CONV3@32-RELU-POOL-FC@64-RELU,SOFTMAX')"
                ) from None
            raise
    allowed = set(inspect.signature(builder).parameters) - set(_INPUT)
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ConfigError(
            f"model {name!r} has no option {unknown[0]!r}; options: {', '.join(sorted(allowed))}"
        )
    args = (num_classes, in_channels, image_size)
    shown = name if len(name) <= 60 else name[:57] + "..."
    check_model(lambda: builder(*args, **{**kwargs, **options}), f"model {shown!r}")
    return builder(*args, **{**kwargs, **options})


def list_models() -> list[str]:
    """The names in the table, in table order."""
    return list(MODELS)


def parameter_count(
    name: str, num_classes: int = 10, in_channels: int = 3, image_size: int = 32
) -> int:
    """Parameters of a model built on the meta device (no memory is allocated)."""
    with torch.device("meta"):
        return count_parameters(build_model(name, num_classes, in_channels, image_size))


# --- series: (B, T, C) -> a head ("forecast" | "sequence" | "classify") -------------------------
def _tcn(in_channels, out_features, head, horizon, channels, levels, kernel_size, dropout, n_ctx):
    return TCN(TCNConfig(
        in_channels=in_channels, out_features=out_features, task=head, horizon=horizon,
        channels=channels, levels=levels, kernel_size=kernel_size, dropout=dropout,
    ))  # fmt: skip


def _fcn(in_channels, out_features, head, horizon, channels, levels, kernel_size, dropout, n_ctx):
    return FCN(FCNConfig(
        in_channels=in_channels, out_features=out_features, task=head, horizon=horizon,
        filters=(channels, 2 * channels, channels), pool="mean" if head != "forecast" else "last",
    ))  # fmt: skip


def _transformer(
    in_channels, out_features, head, horizon, channels, levels, kernel_size, dropout, n_ctx
):
    return SeriesTransformer(SeriesTransformerConfig(
        in_channels=in_channels, out_features=out_features, task=head, horizon=horizon,
        d_model=channels, n_layer=levels, n_head=4, dropout=dropout, n_ctx=n_ctx,
    ))  # fmt: skip


SERIES_MODELS: dict[str, Callable[..., nn.Module]] = {
    "tcn": _tcn,
    "fcn": _fcn,
    "transformer": _transformer,
}


def build_series_model(
    name: str,
    in_channels: int,
    out_features: int,
    head: str,
    horizon: int,
    *,
    channels: int = 32,
    levels: int = 4,
    kernel_size: int = 3,
    dropout: float = 0.0,
    n_ctx: int = 512,
) -> nn.Module:
    """The series network ``name`` with a ``head``; ``channels`` is its width (the FCN's
    filters are channels, 2 x channels, channels; the transformer's d_model), ``levels`` its
    depth (the FCN has three), ``n_ctx`` the longest input (the transformer's positions).

    Raises:
        ConfigError: an unknown name; the model's own config checks the sizes.
    """
    if name not in SERIES_MODELS:
        raise ConfigError(f"series model must be one of {tuple(SERIES_MODELS)}, got {name!r}")
    sizes = (channels, levels, kernel_size, dropout, n_ctx)
    return SERIES_MODELS[name](in_channels, out_features, head, horizon, *sizes)


# --- text: token ids (B, T) -> next-token logits (B, T, V) ---------------------------------------
LANGUAGE_MODELS: dict[str, tuple[type[nn.Module], type]] = {"gpt": (GPT, GPTConfig)}


def build_language_model(name: str, config: GPTConfig) -> nn.Module:
    """The language model ``name`` built from its config (``GPT(GPTConfig(...))``).

    Raises:
        ConfigError: an unknown name, or a config of another model.
    """
    if name not in LANGUAGE_MODELS:
        raise ConfigError(f"language model must be one of {tuple(LANGUAGE_MODELS)}, got {name!r}")
    model, config_type = LANGUAGE_MODELS[name]
    if not isinstance(config, config_type):
        raise ConfigError(f"{name} needs a {config_type.__name__}, got {type(config).__name__}")
    return model(config)
