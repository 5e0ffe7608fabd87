"""A CNN built from a pattern string (notes: Struttura tipica CNN), and the pattern of any model.

``PatternCNN(CNNConfig("[(CONV3@32-RELU)*2-POOL]*2-(FC@128-RELU)*1,SOFTMAX"))`` walks the
expanded layers, tracking the feature shape ``(C, H, W)`` (notes: output size
``(W - F + 2P) / S + 1``) so each layer knows its input size; a flatten goes in before the first
FC, and ``,SOFTMAX`` appends the classifier ``Linear(features, num_classes)`` (logits).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from reti.config import check, one_of, option
from reti.errors import ConfigError, ShapeError
from reti.layers import Dropout
from reti.layers.dropout import MODES
from reti.models.pattern import Layer, Pattern, expand, parse, to_pattern

ACTIVATIONS = {"RELU": nn.ReLU, "TANH": nn.Tanh, "SIGMOID": nn.Sigmoid, "GELU": nn.GELU}
FIRST_CHANNELS = 32  # channels of a CONV without '@C' when no CONV came before


@dataclass
class CNNConfig:
    """A pattern, the input image shape and the number of classes (used by ``,SOFTMAX``)."""

    pattern: str = option(
        "[(CONV3@32-RELU)*2-POOL]*2-(FC@128-RELU)*1,SOFTMAX", "The network in the CNN language."
    )
    in_channels: int = option(1, "Image channels.")
    image_size: int | tuple[int, int] = option(28, "Image side, or (height, width).")
    num_classes: int = option(10, "Class scores of a ,SOFTMAX pattern.")
    dropout_mode: str = option(
        "inverted",
        "For DROPOUT(p) written without a mode (notes: Dropout).",
        one_of(MODES, "'inverted' or 'standard'"),
    )

    def __post_init__(self) -> None:
        check(self)


def _conv_out(size: int, kernel: int, stride: int, padding: int) -> int:
    """notes: CONV layer in Pytorch, output = floor((W - F + 2P) / S) + 1."""
    return (size + 2 * padding - kernel) // stride + 1


class _Builder:
    """Turns the flat layer list into modules while tracking the shape of the features."""

    def __init__(self, in_shape: tuple[int, int, int], dropout_mode: str):
        self.shape: tuple[int, ...] = in_shape  # (C, H, W), or (F,) once flat
        self.dropout_mode = dropout_mode
        self.last_conv: int | None = None
        self.pooled = False
        self.modules: list[nn.Module] = []

    def flatten(self) -> None:
        if len(self.shape) == 3:
            self.modules.append(nn.Flatten())
            self.shape = (self.shape[0] * self.shape[1] * self.shape[2],)

    def spatial(self, index: int, layer: Layer, kernel, stride, padding) -> tuple[int, int]:
        if len(self.shape) != 3:
            raise ShapeError(f"layer {index} ({layer.kind}) needs an image; the features are flat")
        _, h, w = self.shape
        oh = _conv_out(h, kernel[0], stride, padding[0])
        ow = _conv_out(w, kernel[1], stride, padding[1])
        if oh < 1 or ow < 1:
            raise ShapeError(
                f"layer {index} ({layer.kind} at column {layer.position + 1}) shrinks the "
                f"{h}x{w} feature map to {max(oh, 0)}x{max(ow, 0)}; use fewer pools or a "
                f"larger image"
            )
        return oh, ow

    def add(self, index: int, layer: Layer) -> None:
        kind = layer.kind
        if kind == "CONV":
            kernel = layer.kernel or (3, 3)
            stride = layer.arg("stride", 1)
            pad = layer.arg("padding")
            padding = (kernel[0] // 2, kernel[1] // 2) if pad is None else (pad, pad)
            out = layer.size or self.default_channels()
            oh, ow = self.spatial(index, layer, kernel, stride, padding)
            self.modules.append(nn.Conv2d(self.shape[0], out, kernel, stride, padding))
            self.shape, self.last_conv, self.pooled = (out, oh, ow), out, False
        elif kind in ("POOL", "AVGPOOL"):
            kernel = layer.kernel or (2, 2)
            stride = layer.arg("stride", kernel[0])
            oh, ow = self.spatial(index, layer, kernel, stride, (0, 0))
            pool = nn.MaxPool2d if kind == "POOL" else nn.AvgPool2d
            self.modules.append(pool(kernel, stride))
            self.shape, self.pooled = (self.shape[0], oh, ow), True
        elif kind == "GAP":
            if len(self.shape) != 3:
                raise ShapeError(f"layer {index} (GAP) needs an image, but the features are flat")
            self.modules += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
            self.shape = (self.shape[0],)
        elif kind == "FC":
            self.flatten()
            self.modules.append(nn.Linear(self.shape[0], layer.size))
            self.shape = (layer.size,)
        elif kind == "BN":
            bn = nn.BatchNorm2d if len(self.shape) == 3 else nn.BatchNorm1d
            self.modules.append(bn(self.shape[0]))
        elif kind == "DROPOUT":
            self.modules.append(Dropout(layer.arg("p"), layer.arg("mode", self.dropout_mode)))
        else:
            self.modules.append(ACTIVATIONS[kind]())

    def default_channels(self) -> int:
        if self.last_conv is None:
            return FIRST_CHANNELS
        return self.last_conv * 2 if self.pooled else self.last_conv


def _pair(size: int | tuple[int, int]) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


class PatternCNN(nn.Sequential):
    """The network a pattern describes; ``.pattern`` is its canonical pattern text.

    Shape: (B, in_channels, H, W) -> (B, num_classes) with ``,SOFTMAX``, else the last layer's.

    Raises:
        ParseError: a pattern that does not parse (with its column).
        ShapeError: a pattern that shrinks the image to nothing (naming the layer).
    """

    def __init__(self, config: CNNConfig):
        spec = config.pattern if isinstance(config.pattern, Pattern) else parse(config.pattern)
        h, w = _pair(config.image_size)
        if config.in_channels < 1 or h < 1 or w < 1:
            raise ConfigError(
                f"input must have >= 1 channel and size >= 1, got in_channels="
                f"{config.in_channels}, image_size={config.image_size}"
            )
        if spec.softmax and config.num_classes < 1:
            raise ConfigError(f"num_classes must be >= 1, got {config.num_classes}")
        builder = _Builder((config.in_channels, h, w), config.dropout_mode)
        for index, layer in enumerate(expand(spec), start=1):
            builder.add(index, layer)
        if spec.softmax:
            builder.flatten()
            builder.modules.append(nn.Linear(builder.shape[0], config.num_classes))
        super().__init__(*builder.modules)
        self.config = config
        self.pattern = to_pattern(spec)
        self.out_shape = builder.shape if not spec.softmax else (config.num_classes,)


def _dropout_layer(module: nn.Module) -> Layer:
    mode = getattr(module, "mode", "inverted")
    args: tuple = (("p", float(module.p)),)
    return Layer("DROPOUT", args=args + ((("mode", mode),) if mode != "inverted" else ()))


def pattern_of(model: nn.Module) -> str:
    """The flat pattern of any model made of the pattern's layers (a last Linear = ,SOFTMAX).

    Layers are read in registration order, so a ResNet's shortcuts do not show; a layer with no
    pattern word raises ConfigError naming it.
    """
    layers: list[Layer] = []
    names = {cls: name for name, cls in ACTIVATIONS.items()}
    for name, module in model.named_modules():
        if list(module.children()) or isinstance(module, nn.Flatten):
            continue
        if isinstance(module, nn.Conv2d):
            k, s, p = module.kernel_size, module.stride[0], module.padding
            args = (("stride", s),) if s != 1 else ()
            if p != (k[0] // 2, k[1] // 2):
                args += (("padding", p[0]),)
            layers.append(Layer("CONV", tuple(k), module.out_channels, args))
        elif isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
            k = module.kernel_size if isinstance(module.kernel_size, int) else module.kernel_size[0]
            s = module.stride if isinstance(module.stride, int) else module.stride[0]
            kind = "POOL" if isinstance(module, nn.MaxPool2d) else "AVGPOOL"
            kernel = None if k == 2 else (k, k)
            layers.append(Layer(kind, kernel, None, (("stride", s),) if s != k else ()))
        elif isinstance(module, nn.AdaptiveAvgPool2d) and module.output_size in (1, (1, 1)):
            layers.append(Layer("GAP"))
        elif isinstance(module, nn.Linear):
            layers.append(Layer("FC", None, module.out_features))
        elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            layers.append(Layer("BN"))
        elif type(module) in names:
            layers.append(Layer(names[type(module)]))
        elif "dropout" in type(module).__name__.lower():
            layers.append(_dropout_layer(module))
        else:
            raise ConfigError(f"layer {name!r} ({type(module).__name__}) has no pattern word")
    softmax = bool(layers) and layers[-1].kind == "FC"
    return to_pattern(layers[:-1] if softmax else layers, softmax=softmax)


def count_parameters(model: nn.Module) -> int:
    """Number of scalar parameters (works on the meta device: nothing is allocated)."""
    return sum(p.numel() for p in model.parameters())
