"""Fully connected networks (notes: Reti Neurali): the linear score ``f = Wx``, the 2-layer net
``f = W2 max(0, W1 x)`` and MLPs of any depth.

A hidden layer is ``Linear -> [BatchNorm | LayerNorm] -> activation -> [Dropout]``; the output
layer is a plain ``Linear`` giving the class scores (logits; the softmax lives in the loss).
Inputs of any shape are flattened per sample, so a (B, 1, 28, 28) MNIST batch goes straight in.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from reti.config import BOOL, COUNT, FRACTION, check, is_int, one_of, option
from reti.errors import ConfigError, ShapeError
from reti.layers.dropout import MODES, Dropout

ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
NORMS = ("none", "batch", "layer")
_POSITIVE_INT = COUNT.says("a positive int")


@dataclass
class MLPConfig:
    """The shape of an MLP. ``hidden=()`` is the linear classifier ``f = Wx``."""

    in_features: int = option(help="Inputs per sample (flattened).", rule=_POSITIVE_INT)
    out_features: int = option(help="Class scores out.", rule=_POSITIVE_INT)
    hidden: tuple[int, ...] = option(help="Width of each hidden layer.", default_factory=tuple)
    activation: str = option("relu", "Activation of the hidden layers.", one_of(ACTIVATIONS))
    norm: str = option(
        "none", "Per hidden layer: none, batch (notes: BN per feature) or layer.", one_of(NORMS)
    )
    dropout: float = option(0.0, "Dropout per hidden layer, after the activation.", FRACTION)
    dropout_mode: str = option("inverted", "inverted or standard (notes: Dropout).", one_of(MODES))
    bias: bool = option(True, "Biases in the linear layers.", BOOL)

    def __post_init__(self) -> None:
        self.hidden = tuple(self.hidden)
        if not FRACTION.ok(self.dropout):  # worded as the Dropout layer words it
            raise ConfigError(f"Dropout p must be in [0, 1), got {self.dropout!r}")
        check(self, "MLPConfig ")
        if any(not is_int(h) or h < 1 for h in self.hidden):
            raise ConfigError(f"MLPConfig hidden sizes must be positive ints, got {self.hidden!r}")


def hidden_block(in_features: int, out_features: int, cfg: MLPConfig) -> nn.Sequential:
    """One hidden layer: ``act(norm(W x + b))``, then dropout when asked for."""
    layers: list[nn.Module] = [nn.Linear(in_features, out_features, bias=cfg.bias)]
    if cfg.norm == "batch":
        layers.append(nn.BatchNorm1d(out_features))
    elif cfg.norm == "layer":
        layers.append(nn.LayerNorm(out_features))
    layers.append(ACTIVATIONS[cfg.activation]())
    if cfg.dropout > 0:
        layers.append(Dropout(cfg.dropout, cfg.dropout_mode))
    return nn.Sequential(*layers)


class MLP(nn.Module):
    """A fully connected net: ``f = W_L act(... act(W_1 x))`` (notes: Rete Neurale a 2-layer).

    Shape: (B, *) with ``prod(*) == in_features`` -> (B, out_features).

    Raises:
        ShapeError: an input whose per-sample size is not ``in_features``.
    """

    def __init__(self, config: MLPConfig) -> None:
        super().__init__()
        self.config = config
        sizes = (config.in_features, *config.hidden)
        self.hidden = nn.ModuleList(hidden_block(a, b, config) for a, b in zip(sizes, sizes[1:]))
        self.head = nn.Linear(sizes[-1], config.out_features, bias=config.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() < 2 or x[0].numel() != self.config.in_features:
            raise ShapeError(
                f"MLP expects (B, ...) with {self.config.in_features} values per sample, "
                f"got shape {tuple(x.shape)}"
            )
        h = x.flatten(1).to(self.head.weight.dtype)  # (B, *) -> (B, in_features)
        for block in self.hidden:
            h = block(h)
        return self.head(h)


def linear_classifier(in_features: int, num_classes: int, bias: bool = True) -> MLP:
    """The linear score function ``f = Wx`` (+ b; notes: Funzione Score Lineare)."""
    return MLP(MLPConfig(in_features, num_classes, hidden=(), bias=bias))


def two_layer_net(in_features: int, hidden: int, num_classes: int) -> MLP:
    """The notes' 2-layer net ``f = W2 max(0, W1 x)`` (biases included)."""
    return MLP(MLPConfig(in_features, num_classes, hidden=(hidden,)))
