"""The CNN page's prediction: a drawn or uploaded image -> the image the net receives -> class
probabilities. A net trained on digits (MNIST, scikit-learn's digits) gets MNIST's own
preprocessing (``reti.data.mnist_style``: ink polarity, crop, 20x20 box, centre of mass), since
a drawing is not centred and sized like the digits it learned from; any other net gets the image
resized to its input. The page shows the returned ``input`` beside the probabilities (the lab's
design: show what the model sees).
"""

from __future__ import annotations

import io

import torch
import torch.nn.functional as F

from reti.data.formats import read_image
from reti.data.mnist_style import fit_side, mnist_style
from reti.errors import DataError, ShapeError

DIGIT_DATA = ("mnist", "digits")
MAX_SIDE = 512  # of a drawing sent as JSON


def is_digit_model(model_config: dict) -> bool:
    """Whether the net was trained on hand-written digits (a built-in set or ``mnist:PATH``)."""
    data = str(model_config.get("data", ""))
    return model_config.get("in_channels") == 1 and (
        data in DIGIT_DATA or data.startswith("mnist:")
    )


def drawn_image(body: dict, channels: int, side: int) -> torch.Tensor:
    """A JSON drawing -> (C, H, W) floats in [0, 1]: ``pixels``, a flat list of ``height`` x
    ``width`` numbers in [0, 1] (default: the net's side) for one grey image, or C times as many
    for a C-channel net.

    Raises:
        ShapeError: a list of the wrong length or sides out of range; DataError: bad numbers.
    """
    pixels = body.get("pixels")
    h, w = body.get("height", side), body.get("width", side)
    if not all(isinstance(v, int) and 2 <= v <= MAX_SIDE for v in (h, w)):
        raise ShapeError(f"width and height must be integers in [2, {MAX_SIDE}], got {w!r}, {h!r}")
    if not isinstance(pixels, list) or len(pixels) not in (h * w, channels * h * w):
        raise ShapeError(f"pixels must be a list of {h * w} numbers (H={h}, W={w})")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pixels):
        raise ShapeError(f"pixels must be a flat list of {h * w} numbers, not nested lists")
    try:
        x = torch.tensor(pixels, dtype=torch.float32)
    except (TypeError, ValueError):
        raise DataError("pixels must be numbers") from None
    if not torch.isfinite(x).all() or x.min() < 0 or x.max() > 1:
        raise DataError("pixels must be finite numbers in [0, 1]")
    return x.view(-1, h, w)


def uploaded_image(data: bytes, channels: int, max_pixels: int) -> torch.Tensor:
    """An uploaded PNG/JPEG (bytes; Pillow, no pickle) -> (C, H, W) floats in [0, 1] at its own
    size (grey for a one-channel net), read as every image of reti is (``read_image``)."""
    mode = "L" if channels == 1 else "RGB"
    array = read_image(io.BytesIO(data), None, mode, name="the image", max_pixels=max_pixels)
    return torch.from_numpy(array.copy()).float().div(255.0)


def net_input(image: torch.Tensor, model_config: dict) -> torch.Tensor:
    """(C, H, W) in [0, 1] -> the (1, C, S, S) batch the net receives: MNIST's preprocessing for
    a digit net (then resized to its side: 28 for MNIST, 8 for scikit-learn's digits), else a
    plain resize (bilinear, anti-aliased), grey repeated over the net's channels."""
    c, side = model_config["in_channels"], model_config["image_size"]
    if is_digit_model(model_config):
        return fit_side(mnist_style(image), side)[None, None]
    x = F.interpolate(image[None], size=(side, side), mode="bilinear", antialias=True,
                      align_corners=False).clamp(0.0, 1.0)  # fmt: skip
    return x.expand(1, c, side, side).contiguous() if x.shape[1] == 1 else x[:, :c]


def predict(model: torch.nn.Module, model_config: dict, image: torch.Tensor) -> dict:
    """Class probabilities of ``image`` and ``input``, the image the net received: (H, W) for a
    one-channel net, (C, H, W) otherwise, numbers in [0, 1]."""
    x = net_input(image, model_config)
    if x.shape[1] != model_config["in_channels"]:
        raise ShapeError(f"the net takes {model_config['in_channels']} channels, got {x.shape[1]}")
    with torch.no_grad():
        probs = model(x).softmax(-1)[0]
    shown = x[0, 0] if x.shape[1] == 1 else x[0]
    return {
        "classes": model_config["classes"],
        "probs": probs.tolist(),
        "input": shown.mul(1000).round().div(1000).tolist(),  # 3 decimals: a lighter reply
        "look_for": "lab.look.draw",  # the i18n key of what to look for
    }
