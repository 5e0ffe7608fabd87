"""`reti vision`: list models, train a CNN, evaluate it, predict image files, draw what it learnt.

reti vision models --num-classes 10 --image-size 32
reti vision train   (fastcnn on MNIST, the default recipe: 99.3% test accuracy in 1.3-1.9 epochs)
reti vision train --data mnist --model cnn --epochs 2 --out runs/vision/cnn
reti vision train --config runs/vision/cnn/config.json --out runs/vision/again   (the same run)
reti vision train --data digits --model "[(CONV3@16-RELU)*2-POOL]*2-(FC@64-RELU)*1,SOFTMAX"
reti vision eval --checkpoint runs/vision/cnn
reti vision predict --checkpoint runs/vision/cnn digit.png --top-k 3
reti vision show --checkpoint runs/vision/cnn --image digit.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from reti.cli.args import add_pipeline_args, pipeline_from_args
from reti.cli.runkind import expect_run
from reti.errors import ConfigError
from reti.models.registry import MODELS, parameter_count
from reti.runtime import world
from reti.tasks import vision

CHECKPOINT_HELP = "A run folder or one of its checkpoint folders."
DEVICE_HELP = "Where to compute: auto (default), cpu, cuda, cuda:N or mps."


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``reti vision models|train|eval|predict|show``."""
    parser = sub.add_parser("vision", help="CNNs on images: models, train, eval, predict, show")
    actions = parser.add_subparsers(dest="vision_command", metavar="ACTION")
    parser.set_defaults(func=lambda args: _usage(parser))

    models = actions.add_parser("models", help="the named models and their parameter counts")
    models.add_argument("--num-classes", type=int, default=10, help="Classes. Default: 10.")
    models.add_argument("--in-channels", type=int, default=3, help="Input channels. Default: 3.")
    models.add_argument("--image-size", type=int, default=32, help="Image side. Default: 32.")
    models.set_defaults(func=_models)

    train = actions.add_parser("train", help="train a model (a name or a CNN pattern)")
    add_pipeline_args(
        train, vision.VisionConfig, group="data and model",
        train_defaults=vision.VISION_TRAIN_DEFAULTS,
    )  # fmt: skip
    train.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                       help="A model option, e.g. shortcut=B or "
                       "dropout_mode=standard.")  # fmt: skip
    train.set_defaults(func=_train)

    ev = actions.add_parser("eval", help="test loss and accuracy of a trained run")
    ev.add_argument("--checkpoint", required=True, help=CHECKPOINT_HELP)
    ev.add_argument("--data", default=None, help="Another data set of the same shape (default: "
                    "the run's own).")  # fmt: skip
    ev.add_argument("--device", default="auto", help=DEVICE_HELP)
    ev.set_defaults(func=_eval)

    pred = actions.add_parser("predict", help="top-k classes of image files")
    pred.add_argument("--checkpoint", required=True, help=CHECKPOINT_HELP)
    pred.add_argument("images", nargs="+", metavar="IMAGE", help="Image files to classify.")
    pred.add_argument("--top-k", type=int, default=3, help="Classes shown per image. Default: 3.")
    pred.add_argument("--resize", action="store_true", help="Resize and convert each image to "
                      "the model's input.")  # fmt: skip
    pred.add_argument("--device", default="auto", help=DEVICE_HELP)
    pred.set_defaults(func=_predict)

    show = actions.add_parser("show", help="PNGs: filters, feature maps, confusion matrix")
    show.add_argument("--checkpoint", required=True, help=CHECKPOINT_HELP)
    show.add_argument("--image", default=None, help="The image whose feature maps are drawn "
                      "(default: the first test image).")  # fmt: skip
    show.add_argument("--out", default=None, help="The folder for the PNGs (default RUN/show).")
    show.add_argument("--device", default="auto", help=DEVICE_HELP)
    show.set_defaults(func=_show)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _models(args: argparse.Namespace) -> int:
    for value, name in ((args.num_classes, "num-classes"), (args.in_channels, "in-channels"),
                        (args.image_size, "image-size")):  # fmt: skip
        if value < 1:
            raise ConfigError(f"--{name} must be >= 1, got {value}")
    print(f"{'model':<12} {'parameters':>13}   ({args.num_classes} classes, "
          f"{args.in_channels}x{args.image_size}x{args.image_size} input)")  # fmt: skip
    for name in MODELS:
        count = parameter_count(name, args.num_classes, args.in_channels, args.image_size)
        print(f"{name:<12} {count:>13,}")
    return 0


def _value(text: str) -> int | float | bool | str:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def _options(items: list[str]) -> dict:
    options = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--option must be KEY=VALUE, got {item!r}")
        options[key.strip()] = _value(value.strip())
    return options


def _train(args: argparse.Namespace) -> int:
    extra = {"options": _options(args.option)} if args.option else {}
    cfg = pipeline_from_args(
        vision.VisionConfig, args, section=vision.SECTION,
        train_defaults=vision.VISION_TRAIN_DEFAULTS, extra=extra,
    )  # fmt: skip
    if cfg.out is None:
        cfg.out = f"runs/vision/{cfg.model if cfg.model in MODELS else 'pattern'}"
    history = vision.train(cfg, resume=args.resume, overwrite=args.overwrite)
    if world()[0] != 0:  # under torchrun only rank 0 prints
        return 0
    final = history.final or {}
    print(f"run: {history.run_dir}")
    print(f"test accuracy {final.get('val_accuracy', float('nan')):.4f}  "
          f"test loss {final.get('val_loss', float('nan')):.4f}  "
          f"({final.get('epoch', 0)} epochs, {final.get('step', 0)} steps)")  # fmt: skip
    return 0


def _eval(args: argparse.Namespace) -> int:
    expect_run(args.checkpoint, "vision", "reti vision eval")
    scores = vision.evaluate(args.checkpoint, args.data, device=args.device)
    shown = {k: scores[k] for k in ("loss", "accuracy", "n")}
    print(json.dumps(shown))
    return 0


def _predict(args: argparse.Namespace) -> int:
    expect_run(args.checkpoint, "vision", "reti vision predict")
    results = vision.predict(
        args.checkpoint, args.images, args.top_k, args.resize, device=args.device
    )
    for path, top in zip(args.images, results):
        print(path + "  " + "  ".join(f"{label}: {p:.3f}" for label, p in top))
    return 0


def _show(args: argparse.Namespace) -> int:
    expect_run(args.checkpoint, "vision", "reti vision show")
    out = args.out or str(Path(args.checkpoint) / "show")
    for path in vision.show(args.checkpoint, out, args.image, device=args.device):
        print(path)
    return 0
