"""The vision pipeline: images -> a CNN (named or a pattern) -> ``reti.train.fit`` -> a run folder.

notes: Neural Nets for Vision, Struttura tipica CNN, Normalizzazione, Data Augmentation. Images are
uint8 in the data sets; the task feeds floats in [0, 1] (what augmentations expect) to an
``ImageClassifier`` whose first step is the per-channel standard scaling ``(x - mean) / std``
with the mean and std of the *training* split, kept as buffers and in the checkpoint's
``model_config``, so eval and predict scale exactly as training did. The test split is the
validation set of every epoch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from reti.augment import parse_spec, soft_cross_entropy
from reti.config import FRACTION, OPTIONAL_COUNT, TEXT, check, one_of, option
from reti.data.image_inputs import channel_stats, read_image_files
from reti.data.images import ImageData, load_images
from reti.errors import CheckpointError, ConfigError, DataError, ShapeError
from reti.guards import MAX_IMAGE_SIDE, check_batch
from reti.io import META_FILE
from reti.layers import recompute_bn_stats
from reti.metrics import accuracy, confusion_matrix, sample_accuracy
from reti.models.registry import build_model
from reti.runtime import resolve_device, seeded
from reti.tasks.contract import LoadedRun, PipelineBase
from reti.tasks.runs import open_run, read_run, settings
from reti.train import (
    Callback,
    History,
    RunControl,
    RunOptions,
    TrainConfig,
    fit,
    load_weights,
)
from reti.viz import conv_feature_maps, save_confusion_matrix, save_feature_maps, save_filters

BN_STATS = ("moving", "population")
DEMO_PATTERN = "[(CONV3@16-BN-RELU)*2-POOL]*2-(FC@64-RELU)*1,SOFTMAX"
SECTION = "vision"  # where a run's config.json keeps the VisionConfig (model_config["vision"])
_OPTIONAL_COUNT = OPTIONAL_COUNT.says(">= 1 (or None)")  # the wording the CLI has always used
# The default recipe (with model "fastcnn" and label smoothing 0.1, VisionConfig's defaults),
# chosen by the step at which MNIST's test accuracy first reaches 99.3% (bench/time_to_quality.py,
# docs/performance.md "Time to a good model"): large-ish batches, AdamW with a one-cycle schedule
# (warm up for 30% of the steps, then down to 0), a little weight decay on the kernels.
VISION_TRAIN_DEFAULTS: dict[str, Any] = {
    "epochs": 3, "batch_size": 128, "lr": 1e-2, "weight_decay": 5e-4, "schedule": "onecycle",
}  # fmt: skip


def vision_train_config(**changes: Any) -> TrainConfig:
    """TrainConfig with the vision defaults, then ``changes``."""
    return TrainConfig(**{**VISION_TRAIN_DEFAULTS, **changes})


@dataclass
class VisionConfig:
    """What to train: data spec, model name or pattern, and how (``train``: the trainer's)."""

    data: str = option(
        "mnist",
        "The images: mnist, fashion-mnist, digits, mnist:PATH, cifar10:PATH, cifar100:PATH "
        "or folder:PATH.",
        TEXT,
    )
    model: str = option("fastcnn", "A model name (see reti vision models) or a CNN pattern.", TEXT)
    out: str | None = option(None, "The run folder (none: runs/vision/<model>).")
    augment: str | None = option(None, 'An augmentation spec, e.g. "crop(2),rotate(10)".')
    label_smoothing: float = option(
        0.1, "Label smoothing of the cross-entropy, in [0, 1).", FRACTION
    )
    bn_stats: str = option(
        "moving",
        "Batch norm at inference: moving averages or recomputed population statistics.",
        one_of(BN_STATS),
    )
    limit: int | None = option(None, "Train on the first N training images only.", _OPTIONAL_COUNT)
    test_limit: int | None = option(
        None,
        "Validate on the first N test images only (a faster curve; eval uses them all).",
        _OPTIONAL_COUNT,
    )
    options: dict[str, Any] = field(default_factory=dict)  # model options, e.g. {"shortcut": "B"}
    train: TrainConfig = field(default_factory=vision_train_config)

    def __post_init__(self) -> None:
        check(self)


class ImageClassifier(nn.Module):
    """``net((x - mean) / std)`` for images x in [0, 1] (notes: Standard Scaling, per channel).

    Shape: (B, C, H, W) -> (B, num_classes) logits.
    """

    def __init__(self, net: nn.Module, mean: list[float], std: list[float]):
        super().__init__()
        self.net = net
        self.register_buffer("mean", torch.tensor(mean).view(-1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(-1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.mean) / self.std)


# --- data ---------------------------------------------------------------------------------------


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, C, H, W) -> float32 in [0, 1]."""
    return images.float().div_(255.0)


def load_data(spec: str, limit: int | None = None, test_limit: int | None = None) -> ImageData:
    """``load_images(spec)``, the first ``limit`` training and ``test_limit`` test images, and
    checks every class has training images (an empty class folder is an error, not a silent
    class that never wins)."""
    data = load_images(spec)
    if limit is not None or test_limit is not None:
        data = ImageData(
            data.train_x[:limit], data.train_y[:limit], data.test_x[:test_limit],
            data.test_y[:test_limit], data.classes, data.name,
        )  # fmt: skip
    counts = torch.bincount(data.train_y, minlength=len(data.classes))
    empty = [data.classes[i] for i in range(len(data.classes)) if counts[i] == 0]
    if empty and limit is None:
        raise DataError(f"{spec}: class(es) {', '.join(map(str, empty))} have no training images")
    if len(data.test_x) == 0 or len(data.train_x) == 0:
        raise DataError(f"{spec}: the train and test splits must both hold images")
    return data


# --- model from a checkpoint's model_config ------------------------------------------------------


def build_classifier(model_config: dict[str, Any]) -> ImageClassifier:
    """The model a run trained, rebuilt from its ``model_config`` (weights not loaded)."""
    try:
        net = build_model(
            model_config["model"],
            model_config["num_classes"],
            model_config["in_channels"],
            model_config["image_size"],
            **model_config.get("options", {}),
        )
        return ImageClassifier(net, model_config["mean"], model_config["std"])
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"not a vision checkpoint: model_config lacks {exc}") from None


def check_model_config(mc: dict[str, Any], where: Path) -> None:
    """Refuse a vision ``model_config`` (from ``where``, a meta.json) that cannot rebuild its
    model: one error naming the file and the key, before anything is built.

    Raises:
        CheckpointError: a missing key, a wrong type, a size out of range, or ``classes``
            that do not name every output of the model.
    """

    def bad(key: str, wanted: str) -> CheckpointError:
        shown = repr(mc[key])[:60] if key in mc else "missing"
        return CheckpointError(f"{where}: model_config field {key!r} must be {wanted}, got {shown}")

    def integer(key: str, low: int, high: int) -> int:
        value = mc.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise bad(key, f"an integer in [{low}, {high}]")
        return value

    for key in ("model", "data"):
        if not isinstance(mc.get(key), str) or not mc[key]:
            raise bad(key, "a non-empty string")
    classes = integer("num_classes", 1, 1_000_000)
    channels = integer("in_channels", 1, 1024)
    integer("image_size", 1, MAX_IMAGE_SIDE)
    names = mc.get("classes")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise bad("classes", "a list of class names")
    if len(names) != classes:
        raise bad("classes", f"{classes} names (num_classes), one per output")
    for key in ("mean", "std"):
        value = mc.get(key)
        ok = isinstance(value, list) and len(value) == channels
        if not ok or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in value):
            raise bad(key, f"a list of {channels} finite numbers (one per channel)")
    if not isinstance(mc.get("options", {}), dict):
        raise bad("options", "an object")


def load_run(checkpoint: str | Path) -> tuple[ImageClassifier, dict[str, Any]]:
    """The trained classifier of a run folder (or checkpoint folder) and its model_config."""
    run = read_run(checkpoint)
    if run.model_config.get("task") != "vision":
        raise CheckpointError(f"{checkpoint} is not a `reti vision` checkpoint")
    check_model_config(run.model_config, run.checkpoint / META_FILE)
    model = build_classifier(run.model_config)
    load_weights(model, run.checkpoint)
    return model.eval(), run.model_config


# --- train / evaluate / predict ------------------------------------------------------------------


def train(
    cfg: VisionConfig,
    *,
    resume: bool = False,
    overwrite: bool = False,
    callbacks: Sequence[Callback] = (),
    control: RunControl | None = None,
) -> History:
    """Fit the model on the training split (test split as validation) into ``cfg.out``; return
    the History. Seeded first: the same config gives the same weights, bit for bit on a CPU; the
    global generators are put back after (``reti.runtime.seeded``)."""
    with seeded(cfg.train.seed):  # the run owns the global generators; they are put back
        data = load_data(cfg.data, cfg.limit, cfg.test_limit)
        c, h, w = data.shape
        if h != w:
            raise ShapeError(f"{cfg.data}: images must be square for the models here, got {h}x{w}")
        mean, std = channel_stats(data.train_x)
        model_config = {
            "task": "vision", "model": cfg.model, "num_classes": len(data.classes),
            "in_channels": c, "image_size": h, "options": dict(cfg.options), "mean": mean,
            "std": std, "classes": [str(k) for k in data.classes], "data": cfg.data,
            "bn_stats": cfg.bn_stats, SECTION: settings(cfg),
        }  # fmt: skip
        model = build_classifier(model_config)  # refuses weights that cannot fit
        # one batch's activations must fit too (measured on the meta device, nothing allocated)
        check_batch(lambda: build_classifier(model_config), (c, h, w), cfg.train.batch_size,
                    f"model {cfg.model!r}")  # fmt: skip
        if cfg.augment:
            transform = parse_spec(cfg.augment, num_classes=len(data.classes))
            loss_fn = _smoothed(soft_cross_entropy, cfg.label_smoothing, len(data.classes))
        else:
            transform = None
            loss_fn = _smoothed(None, cfg.label_smoothing, len(data.classes))
        train_set = (to_float(data.train_x), data.train_y)
        opts = RunOptions(cfg.out, resume, overwrite, callbacks, control)
        finish = population_bn(train_set[0]) if cfg.bn_stats == "population" else None
        val = (to_float(data.test_x), data.test_y)
        with open_run(opts):
            return fit(
                model, train_set, cfg.train, loss_fn=loss_fn, val=val,
                metrics={"accuracy": sample_accuracy}, batch_transform=transform,
                model_config=model_config, progress_desc=f"vision {cfg.model} on {cfg.data}",
                finish=finish, **vars(opts),
            )  # fmt: skip


def _smoothed(soft_loss, smoothing: float, num_classes: int):
    """Cross-entropy with label smoothing; ``soft_loss`` handles soft (mixup) targets."""

    def loss_fn(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if y.dim() == 2 and soft_loss is not None:
            y = y * (1 - smoothing) + smoothing / num_classes
            return soft_loss(logits, y)
        return F.cross_entropy(logits, y, label_smoothing=smoothing)

    return loss_fn


def population_bn(images: torch.Tensor):
    """The ``finish`` step of a run with ``bn_stats="population"``: replace the moving averages
    by statistics over the whole training split (notes: BN Inferenza, post-training stats),
    before ``fit`` writes its final checkpoint."""

    def finish(model: nn.Module) -> None:
        recompute_bn_stats(model, (images[i : i + 512] for i in range(0, len(images), 512)))

    return finish


def evaluate(
    checkpoint: str | Path, data: str | None = None, batch_size: int = 256, device: str = "auto"
) -> dict:
    """Loss, accuracy and the confusion matrix of a run on a data set's test split."""
    model, mc = load_run(checkpoint)
    dev = resolve_device(device)
    model = model.to(dev)
    data = data or mc["data"]
    images = load_images(data)
    if images.shape != (mc["in_channels"], mc["image_size"], mc["image_size"]):
        raise ShapeError(
            f"{data} images are {images.shape}, the model wants "
            f"({mc['in_channels']}, {mc['image_size']}, {mc['image_size']})"
        )
    if len(images.classes) != mc["num_classes"]:
        raise ShapeError(
            f"{data}: {len(images.classes)} classes, the model has {mc['num_classes']}"
        )
    x, y = to_float(images.test_x), images.test_y
    nats, preds = 0.0, []  # one pass gives the loss, the predictions and so the confusion matrix
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            logits = model(x[i : i + batch_size].to(dev)).float()
            nats += F.cross_entropy(logits, y[i : i + batch_size].to(dev), reduction="sum").item()
            preds.append(logits.argmax(-1).cpu())
    pred = torch.cat(preds)
    k = mc["num_classes"]
    confusion = confusion_matrix(y, pred, k)
    scores = {"loss": nats / len(y), "accuracy": accuracy(y, pred)}
    return {**scores, "confusion": confusion, "classes": mc["classes"], "n": len(y)}


def read_images(paths: list[str], mc: dict[str, Any], resize: bool = False) -> torch.Tensor:
    """Image files -> float (N, C, H, W) in [0, 1] for a run's model (``mc``: its
    model_config); see ``reti.data.image_inputs.read_image_files``."""
    return to_float(read_image_files(paths, mc["in_channels"], mc["image_size"], resize))


def predict(
    checkpoint: str | Path,
    paths: list[str],
    top_k: int = 3,
    resize: bool = False,
    device: str = "auto",
) -> list[list[tuple[str, float]]]:
    """For each image file, the ``top_k`` (class, probability) pairs (softmax of the logits)."""
    model, mc = load_run(checkpoint)
    if top_k < 1:
        raise ConfigError(f"top_k must be >= 1, got {top_k}")
    dev = resolve_device(device)
    x = read_images(paths, mc, resize)
    with torch.no_grad():
        probs = model.to(dev)(x.to(dev)).softmax(-1).cpu()
    values, indices = probs.topk(min(top_k, probs.shape[-1]), dim=-1)
    return [
        [(mc["classes"][i], float(p)) for p, i in zip(v.tolist(), ix.tolist())]
        for v, ix in zip(values, indices)
    ]


def show(
    checkpoint: str | Path, out_dir: str | Path, image: str | None = None, device: str = "auto"
) -> list[Path]:
    """PNGs of a run: first-layer filters, low/mid/high feature maps of one image (a test image
    unless ``image``), and the test confusion matrix. Returns the paths written."""
    model, mc = load_run(checkpoint)
    out_dir = Path(out_dir)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ConfigError(f"{checkpoint}: the model has no conv layer to draw")
    scores = evaluate(checkpoint, device=device)
    x = (
        read_images([image], mc, resize=True)
        if image
        else to_float(load_images(mc["data"]).test_x[:1])
    )
    written = [
        save_filters(convs[0].weight, out_dir / "filters.png", title="first-layer filters"),
        save_feature_maps(conv_feature_maps(model, x), out_dir / "feature_maps.png", x[0]),
        save_confusion_matrix(
            scores["confusion"],
            mc["classes"],
            out_dir / "confusion.png",
            f"test accuracy {scores['accuracy']:.4f}",
        ),  # fmt: skip
    ]
    return written


class VisionPipeline(PipelineBase):
    """The pipeline contract (``reti.tasks.contract``) for images."""

    name, config_type = SECTION, VisionConfig

    train_function = staticmethod(train)

    def load_run(self, path: str | Path) -> LoadedRun:
        model, mc = load_run(path)
        return LoadedRun(model, self.config_of_run(path), {"classes": mc["classes"]})

    def evaluate(self, path: str | Path) -> dict[str, float]:
        """Loss and accuracy on the test split of the run's data."""
        scores = evaluate(path, device="cpu")
        return {"loss": scores["loss"], "accuracy": scores["accuracy"]}

    def predict(self, path: str | Path, inputs: Sequence[str]) -> list[list[tuple[str, float]]]:
        """Image files -> their three likeliest (class, probability)."""
        return predict(path, list(inputs), device="cpu")


PIPELINE = VisionPipeline()
