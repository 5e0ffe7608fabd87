"""`reti augment show` draws originals beside augmented copies; `reti augment list` the ops.

reti augment show --data mnist --spec "rotate(15),erase(p=0.5)" --n 8   (runs/augment/augment.png)
reti augment show --data photos --spec "jitter(0.4,0.4,0.4,0.1)" --out pictures
reti augment list
"""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path

import torch

from reti.augment import OPS, parse_spec
from reti.errors import ConfigError
from reti.runtime import make_generator, resolve_device

OUT = "runs/augment"
PNG_NAME = "augment.png"


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``reti augment show`` and ``reti augment list``."""
    parser = sub.add_parser("augment", help="data augmentation: draw a spec, list the ops")
    actions = parser.add_subparsers(dest="augment_command", metavar="ACTION")
    parser.set_defaults(func=lambda args: _usage(parser))

    show = actions.add_parser("show", help="a PNG grid: originals beside augmented copies")
    show.add_argument(
        "--data",
        default="mnist",
        help="The images: mnist, digits, photos, folder:PATH, ... Default: mnist.",
    )
    show.add_argument(
        "--spec",
        required=True,
        help='The augmentation spec, e.g. "hflip,crop(4),jitter(0.4,0.4,0.4)".',
    )
    show.add_argument("--out", default=OUT, help=f"The folder for {PNG_NAME}. Default: {OUT}.")
    show.add_argument("--n", type=int, default=8, help="Images per row. Default: 8.")
    show.add_argument("--copies", type=int, default=3, help="Augmented rows. Default: 3.")
    show.add_argument("--seed", type=int, default=0, help="Augmentation seed. Default: 0.")
    show.add_argument(
        "--device",
        default="auto",
        help="Where to augment: auto (default), cpu, cuda, cuda:N or mps.",
    )
    show.set_defaults(func=show_command)

    listing = actions.add_parser("list", help="every op with its arguments and defaults")
    listing.set_defaults(func=list_command)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _load(data: str, n: int) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(images uint8 (n, C, H, W), int labels, number of classes) for ``--data``."""
    from reti.data.images import load_images, load_photos

    if data == "photos":
        photos = load_photos()[:n]
        return photos, torch.arange(photos.shape[0]), 2
    images = load_images(data)
    if images.test_x.shape[0] == 0 and images.train_x.shape[0] == 0:
        raise ConfigError(f"data set {data!r} holds no images")
    x, y = (
        (images.test_x, images.test_y)
        if images.test_x.shape[0]
        else (
            images.train_x,
            images.train_y,
        )
    )
    return x[:n], y[:n], max(len(images.classes), int(y.max()) + 1)


def show_command(args: argparse.Namespace) -> int:
    from reti.viz import save_image_grid

    for name in ("n", "copies"):
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name} must be >= 1, got {getattr(args, name)}")
    if args.seed < 0:
        raise ConfigError(f"--seed must be >= 0, got {args.seed}")
    x, y, num_classes = _load(args.data, args.n)
    pipeline = parse_spec(args.spec, num_classes=num_classes)
    device = resolve_device(args.device)
    generator = make_generator(args.seed, device)  # the batch and its randomness on one device
    x_dev, y_dev = x.to(device), y.to(device)
    rows, titles = [x], ["original"]
    for i in range(args.copies):
        out, _ = pipeline(x_dev, y_dev, generator)
        out = out.cpu()
        if out.shape[1] not in (1, 3):
            raise ConfigError(f"the spec leaves {out.shape[1]} channels; a grid needs 1 or 3")
        rows.append(out)
        titles.append(f"copy {i + 1}")
    path = save_image_grid(rows, Path(args.out) / PNG_NAME, row_titles=titles)
    print(f"wrote {path} ({x.shape[0]} images, {args.copies} augmented copies of each)")
    print(f"spec: {pipeline}")
    return 0


def list_command(args: argparse.Namespace) -> int:
    for name, cls in OPS.items():
        params = ", ".join(
            f"{prm.name}={prm.default}" if prm.default is not None else prm.name
            for prm in cls.params
        )
        doc = inspect.getdoc(cls).splitlines()[0]
        print(f"{name}({params})\n    {doc}")
    print("oneof(t1, t2, ..., p=1)\n    Each image gets exactly one of the transforms.")
    print("apply(t1, t2, ..., p=0.5)\n    With probability p per image, apply the sequence.")
    return 0
