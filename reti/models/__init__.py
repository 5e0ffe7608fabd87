"""Models built from reti's layers (level 2): configs in, ``nn.Module`` out."""

from reti.models.mlp import MLP as MLP
from reti.models.mlp import MLPConfig as MLPConfig
from reti.models.mlp import linear_classifier as linear_classifier
from reti.models.mlp import two_layer_net as two_layer_net
