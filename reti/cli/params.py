"""`reti params`: the notes' fully connected / locally connected / convolutional parameter table.

reti params                                   # the notes' own example
reti params --image 1000x1000 --hidden 1000000 --kernel 10 --filters 100 --bias
reti params --image 32x32 --channels 3 --hidden 4096 --kernel 5 --filters 64
"""

from __future__ import annotations

import argparse
import re

from reti.errors import ConfigError
from reti.layers.params import compare_connectivity, format_params_table

_SIZE = re.compile(r"^\s*(\d+)\s*(?:[xX*]\s*(\d+))?\s*$")


def parse_size(text: str, name: str) -> tuple[int, int]:
    """``"1000x1000"`` or ``"1000"`` -> (1000, 1000).

    Raises:
        ConfigError: anything else, or a zero size.
    """
    match = _SIZE.match(text)
    if not match:
        raise ConfigError(f"--{name} must look like 1000x1000 or 1000, got {text!r}")
    h = int(match.group(1))
    w = int(match.group(2) or h)
    if h < 1 or w < 1:
        raise ConfigError(f"--{name} sizes must be >= 1, got {text!r}")
    return h, w


def _positive(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def run(args: argparse.Namespace) -> int:
    image = parse_size(args.image, "image")
    kernel = parse_size(args.kernel, "kernel")
    rows = compare_connectivity(image, args.hidden, kernel, args.filters, args.channels, args.bias)
    print(
        f"image {image[0]}x{image[1]}x{args.channels}, {args.hidden:,} hidden units, "
        f"{kernel[0]}x{kernel[1]} patches, {args.filters} shared filters, "
        f"biases {'counted' if args.bias else 'not counted'}"
    )
    print(format_params_table(rows))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``params`` subcommand."""
    parser = sub.add_parser(
        "params",
        help="parameter counts: fully connected vs locally connected vs convolutional",
        description="Reproduce the notes' FC / LC / CNN parameter counts for any sizes "
        "(defaults: a 1000x1000 image, 1M hidden units, 10x10 patches, 100 filters).",
    )
    parser.add_argument("--image", default="1000x1000", help="Image size HxW. Default: 1000x1000.")
    parser.add_argument("--channels", type=_positive, default=1, help="Input channels. Default: 1.")
    parser.add_argument(
        "--hidden", type=_positive, default=1_000_000, help="Hidden units. Default: 1000000."
    )
    parser.add_argument(
        "--kernel", default="10", help="Patch and filter size, K or KhxKw. Default: 10."
    )
    parser.add_argument(
        "--filters", type=_positive, default=100, help="Shared convolution filters. Default: 100."
    )
    parser.add_argument(
        "--bias",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="Count the biases too. Default: off.",
    )
    parser.set_defaults(func=run)
