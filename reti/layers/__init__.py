"""Layers from the notes that PyTorch lacks or that reti checks more carefully (level 1)."""

from reti.layers.conv import Conv2d as Conv2d
from reti.layers.conv import conv_output_size as conv_output_size
from reti.layers.dropout import Dropout as Dropout
from reti.layers.dropout import dropout as dropout
from reti.layers.local import LocallyConnected2d as LocallyConnected2d
from reti.layers.norm import StandardScaler as StandardScaler
from reti.layers.norm import recompute_bn_stats as recompute_bn_stats
from reti.layers.params import LayerParams as LayerParams
from reti.layers.params import compare_connectivity as compare_connectivity
from reti.layers.params import conv_params as conv_params
from reti.layers.params import count_parameters as count_parameters
from reti.layers.params import fully_connected_params as fully_connected_params
from reti.layers.params import locally_connected_params as locally_connected_params
from reti.layers.pool import AvgPool2d as AvgPool2d
from reti.layers.pool import GlobalAvgPool as GlobalAvgPool
from reti.layers.pool import GlobalAvgPool2d as GlobalAvgPool2d
from reti.layers.pool import GlobalMaxPool as GlobalMaxPool
from reti.layers.pool import GlobalMaxPool2d as GlobalMaxPool2d
from reti.layers.pool import MaxPool2d as MaxPool2d
from reti.layers.pool import avg_pool as avg_pool
from reti.layers.pool import global_avg_pool as global_avg_pool
from reti.layers.pool import global_max_pool as global_max_pool
from reti.layers.pool import max_pool as max_pool
