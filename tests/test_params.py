"""The parameter calculator reproduces the notes' figures and real layers' counts; `reti params`."""

from __future__ import annotations

import pytest
from torch import nn

from reti.cli.main import main
from reti.errors import ConfigError
from reti.layers import (
    Conv2d,
    LocallyConnected2d,
    compare_connectivity,
    conv_params,
    count_parameters,
    fully_connected_params,
    locally_connected_params,
)
from reti.layers.params import order_of_magnitude


def test_the_notes_figures():
    fc, lc, cnn = compare_connectivity()  # 1000x1000 image, 1M hidden, 10x10, 100 filters
    assert (fc.weights, lc.weights, cnn.weights) == (10**12, 10**8, 10**4)
    assert fc.biases == lc.biases == cnn.biases == 0
    fc, lc, cnn = compare_connectivity(bias=True)
    assert (fc.total, lc.total, cnn.total) == (10**12 + 10**6, 10**8 + 10**6, 10**4 + 100)
    assert [order_of_magnitude(n) for n in (10**12, 10**8, 250_000)] == ["10^12", "10^8", "2.5e+05"]


def test_counts_match_real_layers_for_other_sizes():
    # fully connected on a 6x5x3 image with 7 hidden units is nn.Linear(90, 7)
    fc = fully_connected_params((6, 5), 7, in_channels=3, bias=True)
    assert fc.total == count_parameters(nn.Linear(90, 7))
    # 16 shared 3x3 filters over 3 channels is Conv2d(3, 16, 3), whatever the image size
    assert conv_params(3, 16, in_channels=3, bias=True).total == count_parameters(Conv2d(3, 16, 3))
    assert conv_params((3, 5), 4, in_channels=2).weights == 4 * 3 * 5 * 2
    # a locally connected layer with 2 maps of 4x4 units has 32 hidden units, each its own filter
    lc_layer = LocallyConnected2d(3, 2, (6, 6), 3, bias=True)
    assert locally_connected_params((6, 6), 32, 3, 3, bias=True).total == count_parameters(lc_layer)


def test_count_parameters_trainable_only_and_shared_once():
    shared = nn.Linear(4, 4)
    model = nn.Sequential(shared, shared, nn.Linear(4, 2))
    model[2].weight.requires_grad_(False)
    assert count_parameters(model) == 20 + 10
    assert count_parameters(model, trainable_only=True) == 20 + 2


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: fully_connected_params(0, 10), "image height must be a positive int, got 0"),
        (lambda: locally_connected_params(8, 10, 9), "kernel_size 9x9 is larger than the image"),
        (lambda: conv_params(3, -2), "filters must be a positive int, got -2"),
        (lambda: fully_connected_params(8, 1.5), "hidden_units must be a positive int, got 1.5"),
    ],
)
def test_bad_sizes_are_config_errors(call, message):
    with pytest.raises(ConfigError, match=message):
        call()


def test_cli_default_reproduces_the_notes(capsys):
    assert main(["params"]) == 0
    out = capsys.readouterr().out
    assert "| fully connected | 1,000,000,000,000 |" in out
    assert "10^12" in out and "10^8" in out and "10^4" in out


def test_cli_with_sizes_and_bias(capsys):
    argv = ["params", "--image", "1000x1000", "--hidden", "1000000", "--kernel", "10"]
    assert main([*argv, "--filters", "100", "--bias"]) == 0
    out = capsys.readouterr().out
    assert "| convolutional | 10,000 | 100 | 10,100 |" in out
    assert main(["params", "--image", "32x32", "--channels", "3", "--hidden", "4096",
                 "--kernel", "5", "--filters", "64"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert f"| {32 * 32 * 3 * 4096:,} |" in out and f"| {64 * 75:,} |" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--image", "1000by1000"], "--image must look like 1000x1000 or 1000, got '1000by1000'"),
        (["--image", "0x5"], "--image sizes must be >= 1"),
        (["--image", "4x4", "--kernel", "5"], "kernel_size 5x5 is larger than the image 4x4"),
    ],
)
def test_cli_bad_sizes_exit_2_with_one_line(argv, message, capsys):
    assert main(["params", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_cli_negative_count_is_refused(capsys):
    with pytest.raises(SystemExit) as info:
        main(["params", "--hidden", "-3"])
    assert info.value.code == 2
    assert "expected a positive integer, got '-3'" in capsys.readouterr().err
