"""What the lab's vision pages compute, live, with reti's own API: parameter counts, the CNN
pattern's layer table, dropout and normalization side by side, augmentation grids, predictions.

Every function takes plain values (from a request) and returns a JSON-ready dict; bad values raise
a ``RetiError`` (the app turns it into a 4xx JSON error).
"""

from __future__ import annotations

import functools
import io

import numpy as np
import torch
from torch import nn

from reti.augment import parse_spec
from reti.data.images import load_images
from reti.errors import ConfigError, ShapeError
from reti.layers import compare_connectivity, count_parameters, dropout
from reti.layers.params import order_of_magnitude
from reti.models.pattern import parse
from reti.models.registry import MODELS, build_model
from reti.numbers import float_in as _float
from reti.numbers import int_in as _int
from reti.runtime import make_generator

# The notes' example (Fully Connected / Locally Connected / Convolutional Neural Net).
NOTES_COUNTS = {"fully connected": 10**12, "locally connected": 10**8, "convolutional": 10**4}
IMAGE_SETS = {"digits": (1, 8), "mnist": (1, 28), "fashion-mnist": (1, 28), "cifar": (3, 32)}
MAX_GRID = 64
MAX_SIDE = 256


def connectivity(image: int, hidden: int, kernel: int, filters: int, channels: int = 1) -> dict:
    """FC / LC / conv parameter counts (``reti.layers.params``) next to the notes' figures."""
    rows = compare_connectivity(image, hidden, kernel, filters, channels)
    notes = (image, hidden, kernel, filters, channels) == (1000, 10**6, 10, 100, 1)
    return {
        "rows": [
            {
                "kind": r.kind,
                "total": r.total,
                "order": order_of_magnitude(r.total),
                "how": r.note,
                "notes": NOTES_COUNTS[r.kind],
                "matches_notes": r.total == NOTES_COUNTS[r.kind],
            }
            for r in rows
        ],
        "is_notes_example": notes,
    }


def layer_table(model: str, data: str = "digits", shape: tuple[int, int] | None = None) -> dict:
    """Parse a pattern (or take a named model) and list each layer's output shape and parameters.

    Shapes come from one forward pass on the meta device (no memory, no compute).

    Raises:
        ParseError: a pattern that does not parse (the app reports its column).
    """
    if shape is None and data not in IMAGE_SETS:
        raise ConfigError(f"data must be one of {', '.join(IMAGE_SETS)}, got {data!r}")
    channels, side = shape or IMAGE_SETS[data]
    if model not in MODELS:
        parse(model)  # a ParseError names its column
    with torch.device("meta"):
        net = build_model(model, 10, channels, side)
        rows, hooks = [], []
        parts = list(net.named_children()) or [("net", net)]
        for name, module in parts:

            def hook(mod, inputs, output, name=name):
                shape = tuple(output.shape[1:]) if isinstance(output, torch.Tensor) else ()
                rows.append(
                    {
                        "name": name,
                        "layer": type(mod).__name__,
                        "shape": list(shape),
                        "params": count_parameters(mod),
                    }
                )

            hooks.append(module.register_forward_hook(hook))
        try:
            net(torch.zeros(1, channels, side, side))
        except RuntimeError as exc:  # e.g. a pool on a 1x1 map: the input is too small
            raise ShapeError(f"{model} does not fit {side}x{side} {data} images: {exc}") from None
        finally:
            for h in hooks:
                h.remove()
    total = count_parameters(net)
    return {"model": model, "input": [channels, side, side], "layers": rows, "total": total}


def dropout_demo(p: float, seed: int = 0, n: int = 12) -> dict:
    """The same activations through inverted and standard dropout, train and eval (notes:
    Dropout: h = r x, eval h = (1-p) x; inverted h = r x / (1-p), eval h = x)."""
    p = _float(p, "p", 0.0, 0.95)
    x = torch.linspace(0.5, 2.0, n)
    out = {"x": x.tolist(), "p": p}
    for mode in ("inverted", "standard"):
        train = dropout(x, p, mode, True, make_generator(seed))
        evald = dropout(x, p, mode, False)
        # the mean over many masks: what eval has to match
        many = dropout(x.expand(4000, n), p, mode, True, make_generator(seed + 1)).mean(0)
        out[mode] = {
            "train": train.tolist(),
            "eval": evald.tolist(),
            "train_mean": float(many.mean()),
            "eval_mean": float(evald.mean()),
        }
    return out


def norm_demo(batch: int, seed: int = 0, features: int = 16) -> dict:
    """Batch statistics vs layer statistics (notes: Normalizzazione, Sfide: high variance with
    small batches). For one sample, normalize it by BN in batches of ``batch`` drawn many times,
    and by LN (its own features): BN's output for the same sample spreads when batches are tiny,
    LN's never moves."""
    batch = _int(batch, "batch", 2, 512)
    gen = make_generator(seed)
    mean_true, std_true = 3.0, 2.0
    sample = torch.randn(features, generator=gen) * std_true + mean_true
    bn, ln = (
        nn.BatchNorm1d(features, affine=False),
        nn.LayerNorm(features, elementwise_affine=False),
    )
    bn.train()
    outs = []
    for _ in range(200):
        others = torch.randn(batch - 1, features, generator=gen) * std_true + mean_true
        outs.append(bn(torch.cat([sample[None], others]))[0, 0])
    outs = torch.stack(outs)
    population = (sample[0] - mean_true) / std_true
    return {
        "batch": batch,
        "bn_values": outs[:60].tolist(),
        "bn_std": float(outs.std()),
        "bn_mean": float(outs.mean()),
        "population": float(population),
        "ln_value": float(ln(sample[None])[0, 0]),
        "moving_mean": float(bn.running_mean[0]),
        "true_mean": mean_true,
    }


@functools.lru_cache(maxsize=4)
def _images(data: str) -> torch.Tensor:
    return load_images(data).test_x[:MAX_GRID]


def augment_grid(spec: str, seed: int = 0, count: int = 16, data: str = "digits") -> dict:
    """``count`` real test images through the spec ``spec`` with a seeded generator: uint8
    pixels (N, C, H, W) and the (soft) labels, so mixup / cutmix show their label mix."""
    count = _int(count, "count", 1, MAX_GRID)
    seed = _int(seed, "seed", 0, 2**31)
    if data not in ("digits", "mnist", "fashion-mnist"):
        raise ConfigError(f"data must be digits, mnist or fashion-mnist, got {data!r}")
    ds = load_images(data)
    x = _images(data)[:count].float().div(255.0)
    y = ds.test_y[:count]
    transform = parse_spec(spec, num_classes=len(ds.classes)) if spec.strip() else None
    if transform is not None:
        x, y = transform(x, y, make_generator(seed))
    labels = y.tolist() if y.dim() == 2 else torch.nn.functional.one_hot(y, 10).float().tolist()
    pixels = x.clamp(0, 1).mul(255).round().to(torch.uint8)
    return {"shape": list(pixels.shape), "pixels": pixels.flatten().tolist(), "labels": labels}


def grid_png(result: dict, scale: int = 4) -> bytes:
    """The grid of ``augment_grid`` as one PNG (4 per row), for ``?format=png``."""
    from PIL import Image

    n, c, h, w = result["shape"]
    x = np.asarray(result["pixels"], dtype=np.uint8).reshape(n, c, h, w)
    cols = 4
    rows = -(-n // cols)
    canvas = np.zeros((rows * (h + 1), cols * (w + 1), c), dtype=np.uint8)
    for i in range(n):
        r, k = divmod(i, cols)
        canvas[r * (h + 1) : r * (h + 1) + h, k * (w + 1) : k * (w + 1) + w] = x[i].transpose(
            1, 2, 0
        )
    image = Image.fromarray(canvas[..., 0] if c == 1 else canvas)
    image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
