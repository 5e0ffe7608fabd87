"""The notes' formulas written plainly, for readers; tests prove each equals the fast path."""

from reti.reference.attention import alibi_bias as alibi_bias
from reti.reference.attention import alibi_slopes as alibi_slopes
from reti.reference.attention import masked_attention as masked_attention
from reti.reference.attention import multi_head_attention as multi_head_attention
from reti.reference.attention import sinusoidal_positions as sinusoidal_positions
from reti.reference.basics import avg_pool2d as avg_pool2d
from reti.reference.basics import batch_norm as batch_norm
from reti.reference.basics import batch_stats as batch_stats
from reti.reference.basics import conv2d as conv2d
from reti.reference.basics import dropout_inverted as dropout_inverted
from reti.reference.basics import dropout_standard as dropout_standard
from reti.reference.basics import layer_norm as layer_norm
from reti.reference.basics import max_pool2d as max_pool2d
from reti.reference.basics import pad2d as pad2d
from reti.reference.basics import patches2d as patches2d
from reti.reference.basics import softmax as softmax
from reti.reference.basics import standard_scale as standard_scale
from reti.reference.bpe import PlainBPE as PlainBPE
from reti.reference.series import causal_conv1d as causal_conv1d
from reti.reference.series import conv1d as conv1d
