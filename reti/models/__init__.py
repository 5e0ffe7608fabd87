"""Models built from reti's layers (level 2): configs in, ``nn.Module`` out."""

from reti.models.cnn import CNNConfig as CNNConfig
from reti.models.cnn import PatternCNN as PatternCNN
from reti.models.cnn import pattern_of as pattern_of
from reti.models.fcn import FCN as FCN
from reti.models.fcn import FCNConfig as FCNConfig
from reti.models.gpt import GPT as GPT
from reti.models.gpt import GPTConfig as GPTConfig
from reti.models.mlp import MLP as MLP
from reti.models.mlp import MLPConfig as MLPConfig
from reti.models.mlp import linear_classifier as linear_classifier
from reti.models.mlp import two_layer_net as two_layer_net
from reti.models.pattern import parse as parse_pattern  # noqa: F401
from reti.models.pattern import to_pattern as to_pattern
from reti.models.registry import MODELS as MODELS
from reti.models.registry import build_model as build_model
from reti.models.resnet import ResNet as ResNet
from reti.models.resnet import ResNetConfig as ResNetConfig
from reti.models.series_transformer import SeriesTransformer as SeriesTransformer
from reti.models.series_transformer import SeriesTransformerConfig as SeriesTransformerConfig
from reti.models.tcn import TCN as TCN
from reti.models.tcn import TCNConfig as TCNConfig
from reti.models.vgg import VGG as VGG
from reti.models.vgg import VGGConfig as VGGConfig
