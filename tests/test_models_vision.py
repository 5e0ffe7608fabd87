"""VGG, ResNets and plain twins: parameter counts against the papers, forward/backward, options."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from reti.errors import ConfigError, ParseError
from reti.layers import Dropout, recompute_bn_stats
from reti.models.cnn import count_parameters, pattern_of
from reti.models.registry import MODELS, build_model, parameter_count
from reti.models.resnet import BasicBlock, Bottleneck, PadShortcut, ResNet, ResNetConfig
from reti.models.vgg import VGG, VGGConfig


def _meta_count(build) -> int:
    with torch.device("meta"):
        return count_parameters(build())


@pytest.mark.parametrize(
    "name, expected",
    [
        # torchvision's counts at 224x224 and 1000 classes (the papers' architectures)
        ("vgg11", 132_863_336),
        ("vgg16", 138_357_544),
        ("vgg19", 143_667_240),
        ("vgg16_bn", 138_365_992),
        ("resnet18", 11_689_512),
        ("resnet34", 21_797_672),
        ("resnet50", 25_557_032),
        ("resnet101", 44_549_160),
        ("resnet152", 60_192_808),
    ],
)
def test_imagenet_parameter_counts(name, expected):
    assert parameter_count(name, num_classes=1000, in_channels=3, image_size=224) == expected


@pytest.mark.parametrize(
    "depth, millions", [(20, 0.27), (32, 0.46), (44, 0.66), (56, 0.85), (110, 1.7)]
)
def test_cifar_resnet_counts_match_the_paper(depth, millions):
    # He et al. 2015, table 6 (option A shortcuts, 10 classes)
    count = _meta_count(lambda: ResNet(ResNetConfig(depth, "cifar", "A", 10, 3)))
    assert round(count / 1e6, 2 if millions < 1 else 1) == millions


def test_option_a_has_no_shortcut_parameters_and_b_has_projections():
    a = _meta_count(lambda: ResNet(ResNetConfig(20, shortcut="A")))
    b = _meta_count(lambda: ResNet(ResNetConfig(20, shortcut="B")))
    plain = _meta_count(lambda: ResNet(ResNetConfig(20, shortcut="none")))
    assert a == plain == 269_722
    # two 1x1 projections with BN: 16*32 + 2*32 and 32*64 + 2*64
    assert b - a == 16 * 32 + 64 + 32 * 64 + 128


def test_option_a_shortcut_subsamples_and_zero_pads():
    x = torch.arange(2 * 3 * 4 * 4, dtype=torch.float).reshape(2, 3, 4, 4)
    y = PadShortcut(2, 5)(x)
    assert y.shape == (2, 8, 2, 2)
    torch.testing.assert_close(y[:, :3], x[:, :, ::2, ::2])
    assert y[:, 3:].abs().sum() == 0


def test_residual_block_is_f_plus_x_and_plain_is_f():
    torch.manual_seed(0)
    block = BasicBlock(4, 4, 1, "A").eval()
    x = torch.randn(2, 4, 5, 5)
    torch.testing.assert_close(block(x), torch.relu(block.residual(x) + x))
    plain = BasicBlock(4, 4, 1, "none").eval()
    plain.residual.load_state_dict(block.residual.state_dict())
    torch.testing.assert_close(plain(x), torch.relu(block.residual(x)))
    # F(x) = 0 lets the identity through (notes: the input passes unchanged)
    for p in block.residual.parameters():
        nn.init.zeros_(p)
    torch.testing.assert_close(block(x.abs()), x.abs())


SMALL_FORWARD = ["cnn", "lenet", "vgg11_bn", "resnet20", "plain20", "resnet18"]


@pytest.mark.parametrize("shortcut", ["B", "none"])
def test_bottleneck_block_forward_backward(shortcut):
    block = Bottleneck(8, 4, 2, shortcut)  # 1x1 -> 3x3 stride 2 -> 1x1 to 16 channels
    x = torch.randn(2, 8, 6, 6, requires_grad=True)
    out = block(x)
    assert out.shape == (2, 16, 3, 3)
    out.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert (block.shortcut is None) == (shortcut == "none")


@pytest.mark.parametrize("name", SMALL_FORWARD)
def test_models_run_forward_and_backward_on_small_inputs(name):
    torch.manual_seed(0)
    model = build_model(name, num_classes=5, in_channels=1, image_size=16)
    x = torch.randn(2, 1, 16, 16)
    out = model(x)
    assert out.shape == (2, 5) and torch.isfinite(out).all()
    out.logsumexp(-1).sum().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_every_registered_model_builds_and_traces_on_meta():
    assert {"vgg19_bn", "resnet152", "plain152", "resnet1202", "plain1202"} <= set(MODELS)
    for name in ("vgg13", "resnet34", "plain101", "resnet56", "plain110"):  # one per kind
        with torch.device("meta"):
            model = build_model(name, num_classes=3, in_channels=3, image_size=32).eval()
            assert model(torch.empty(1, 3, 32, 32)).shape == (1, 3), name


def test_vgg_small_head_on_28_and_32():
    for size in (28, 32):
        model = VGG(VGGConfig(11, True, 10, 1, size))
        assert model(torch.randn(2, 1, size, size)).shape == (2, 10)
        assert isinstance(model.classifier[1], nn.Linear) and model.classifier[1].in_features == 512
    assert pattern_of(VGG(VGGConfig(11, False, 10, 1, 28))).startswith("CONV3@64-RELU-POOL-")


def test_dropout_mode_reaches_the_model():
    model = build_model("vgg11", 10, 1, 28, dropout=0.3, dropout_mode="standard")
    drops = [m for m in model.modules() if isinstance(m, Dropout)]
    assert drops and all(d.p == 0.3 and d.mode == "standard" for d in drops)


def test_bn_population_statistics_replace_the_moving_average():
    torch.manual_seed(0)
    model = build_model("CONV3@4-BN-RELU-GAP,SOFTMAX", 10, 1, 8)
    data = [torch.randn(16, 1, 8, 8) * 3 + 1 for _ in range(3)]
    assert recompute_bn_stats(model, data) == 48
    first_bn = model[1]
    h = model[0](torch.cat(data))
    torch.testing.assert_close(first_bn.running_mean, h.mean(dim=(0, 2, 3)), atol=1e-5, rtol=1e-4)


def test_registry_errors():
    with pytest.raises(ConfigError, match="unknown model 'resnet21'.*did you mean"):
        build_model("resnet21", 10, 1, 28)
    with pytest.raises(ConfigError, match="has no option 'widht'"):
        build_model("resnet20", 10, 1, 28, widht=2)
    with pytest.raises(ParseError, match="column 6"):
        build_model("CONV-@", 10, 1, 28)
    with pytest.raises(ConfigError, match="6n\\+2"):
        build_model("resnet20", 10, 1, 28, depth=21)
    with pytest.raises(ConfigError, match="VGG depth must be one of"):
        VGG(VGGConfig(depth=12))
    with pytest.raises(ConfigError, match="bottleneck ResNets use shortcut 'B'"):
        build_model("resnet50", 10, 3, 32, shortcut="A")


def test_a_pattern_is_a_model_name():
    model = build_model("CONV3@8-RELU-POOL-FC@16-RELU,SOFTMAX", 4, 1, 8)
    assert model.pattern == "CONV3@8-RELU-POOL-FC@16-RELU,SOFTMAX"
    assert model(torch.randn(3, 1, 8, 8)).shape == (3, 4)
