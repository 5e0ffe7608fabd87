"""Readers for the standard image-data file formats: IDX, CIFAR python batches, image folders.

Each returns numpy arrays and raises ``DataError`` naming the file for anything malformed:
truncated or oversized files, a wrong magic number, a pickle that asks for more than arrays,
unreadable images. Pickles (MNIST's ``mnist.pkl.gz``, CIFAR batches) go through
``restricted_load``, which admits numpy arrays, dtypes and builtin containers only: a pickle can
run code, and these files come from outside.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import math
import pickle
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from reti.errors import DataError, DataNotFoundError
from reti.guards import (
    MAX_IMAGE_PIXELS,
    check_bytes,
    check_image_pixels,
    human_bytes,
    machine_memory,
)

# IDX type byte -> numpy dtype (big-endian), from LeCun's format description.
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def _open_bytes(path: str | Path) -> bytes:
    """A file's bytes, gunzipped when it starts with the gzip magic (whatever its name)."""
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"no such file: {path}")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        limit = machine_memory()[0] // 2  # a gzip "bomb" expands a few KB into gigabytes
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as fh:
                data = fh.read(limit + 1)
        except (OSError, EOFError) as exc:
            raise DataError(f"{path}: corrupt or truncated gzip data ({exc})") from exc
        if len(data) > limit:
            raise DataError(f"{path}: gzip data expands past {human_bytes(limit)}; not read")
        return data
    return raw


# ----------------------------------------------------------------------------- IDX


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (MNIST's format; gzipped or not) into a native-endian array.

    Layout: two zero bytes, a type byte, the number of dimensions, one big-endian int32 per
    dimension, then the values in C order.

    Raises:
        DataError: bad magic, unknown type, truncated or oversized data, non-finite floats.
    """
    raw = _open_bytes(path)
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in IDX_DTYPES:
        raise DataError(f"{path}: not an IDX file (magic bytes {raw[:4].hex() or 'missing'})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise DataError(f"{path}: IDX header truncated ({len(raw)} bytes, {ndim} dimensions)")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">i4", count=ndim, offset=4))
    if min(shape) < 0:
        raise DataError(f"{path}: IDX header has a negative dimension {shape}")
    dtype = np.dtype(IDX_DTYPES[raw[2]])
    expected = math.prod(shape) * dtype.itemsize  # Python ints: np.prod could wrap around
    if len(raw) - header != expected:
        what = "truncated" if len(raw) - header < expected else "longer than its header says"
        raise DataError(
            f"{path}: IDX data {what}: shape {shape} needs {expected} bytes, "
            f"found {len(raw) - header}"
        )
    array = np.frombuffer(raw, dtype, offset=header).reshape(shape)
    if dtype.kind == "f" and not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).sum())
        raise DataError(f"{path}: {bad} non-finite values (NaN/inf) in IDX data")
    return array.astype(dtype.newbyteorder("="))


def write_idx(path: str | Path, array: np.ndarray) -> Path:
    """Write ``array`` as IDX (gzipped when ``path`` ends in .gz); the inverse of ``read_idx``."""
    codes = {np.dtype(v).newbyteorder("="): k for k, v in IDX_DTYPES.items()}
    array = np.asarray(array)
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None:
        allowed = ", ".join(str(d) for d in codes)
        raise DataError(f"IDX cannot hold dtype {array.dtype}; allowed: {allowed}")
    head = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">i4").tobytes()
    body = head + array.astype(IDX_DTYPES[code]).tobytes()
    path = Path(path)
    path.write_bytes(gzip.compress(body) if path.suffix == ".gz" else body)
    return path


# ----------------------------------------------------------------------------- pickles


class _ArraysOnly(pickle.Unpickler):
    """An unpickler that builds numpy arrays and builtin containers, and nothing else."""

    ALLOWED = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("_codecs", "encode"),  # how Python 3 pickles bytes at protocol 2
    }

    def __init__(self, file, source: str, **kwargs):
        super().__init__(file, **kwargs)
        self.source = source

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise DataError(
                f"{self.source}: the pickle asks for {module}.{name}; reti only unpickles "
                "numpy arrays and builtin containers (a pickle can run code)"
            )
        return super().find_class(module, name)


def restricted_load(path: str | Path, encoding: str = "latin1"):
    """Unpickle a (possibly gzipped) file that may hold only numpy arrays and containers.

    ``encoding`` decodes Python 2 strings: ``"latin1"`` for arrays (MNIST), ``"bytes"`` to keep
    CIFAR's ``b"data"`` keys as bytes.

    Raises:
        DataError: anything but arrays/containers inside, or a corrupt/truncated pickle.
    """
    raw = _open_bytes(path)
    try:
        return _ArraysOnly(io.BytesIO(raw), str(path), encoding=encoding).load()
    except DataError:
        raise
    except Exception as exc:  # a damaged pickle raises any of a dozen types
        raise DataError(f"{path}: not a readable pickle ({type(exc).__name__}: {exc})") from exc


# ----------------------------------------------------------------------------- CIFAR


def read_cifar_batch(path: str | Path, label_key: str = "labels") -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR python batch -> (x uint8 (N, 3, 32, 32), y int64 (N,)).

    A batch is a pickled dict with ``data`` (N x 3072 uint8: 1024 red, 1024 green, 1024 blue,
    each row-major 32x32) and ``labels`` (CIFAR-10) or ``fine_labels``/``coarse_labels``
    (CIFAR-100).
    """
    batch = restricted_load(path, encoding="bytes")
    if not isinstance(batch, dict):
        raise DataError(f"{path}: a CIFAR batch is a dict, found {type(batch).__name__}")
    batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}
    if "data" not in batch or label_key not in batch:
        raise DataError(
            f"{path}: CIFAR batch needs keys 'data' and {label_key!r}, found {sorted(batch)}"
        )
    data, labels = np.asarray(batch["data"]), np.asarray(batch[label_key])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DataError(
            f"{path}: CIFAR 'data' must be uint8 (N, 3072), got {data.dtype} {data.shape}"
        )
    if labels.shape != (len(data),) or labels.dtype.kind not in "iu":
        raise DataError(
            f"{path}: {label_key!r} must hold {len(data)} integers, got {labels.dtype} "
            f"{labels.shape}"
        )
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def read_cifar_names(path: str | Path, key: str) -> list[str]:
    """Class names from a CIFAR meta file (``label_names``, ``fine_label_names``...)."""
    meta = restricted_load(path, encoding="bytes")
    names = meta.get(key.encode(), meta.get(key)) if isinstance(meta, dict) else None
    if not isinstance(names, list):
        raise DataError(f"{path}: CIFAR meta file without a {key!r} list")
    return [n.decode() if isinstance(n, bytes) else str(n) for n in names]


# ----------------------------------------------------------------------------- image folders


@contextlib.contextmanager
def open_image(
    path: str | Path | BinaryIO, *, name: str | None = None, max_pixels: int = MAX_IMAGE_PIXELS
) -> Iterator:
    """``PIL.Image.open`` whose header is checked first: a file claiming more than
    ``max_pixels`` pixels (a decompression bomb) or no image at all is a ``DataError`` naming
    ``name`` (default: the path; an in-memory upload has none worth showing)."""
    from PIL import Image, UnidentifiedImageError  # Pillow comes with matplotlib

    try:
        with warnings.catch_warnings():  # Pillow warns, then refuses, past its own limit
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        claimed = re.search(r"\((\d+) pixels\)", str(exc))
        count = f"{int(claimed.group(1)):,}" if claimed else "too many"
        raise DataError(
            f"{name or path}: image claims {count} pixels; reti reads at most "
            f"{MAX_IMAGE_PIXELS:,} pixels per image (a decompression bomb guard)"
        ) from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise DataError(f"{name or path}: not a readable image ({exc})") from None
    with im:
        check_image_pixels(im.size[0], im.size[1], str(name or path), max_pixels)
        yield im


def read_image(
    path: str | Path | BinaryIO,
    size: tuple[int, int] | None = None,
    mode: str = "RGB",
    *,
    name: str | None = None,
    max_pixels: int = MAX_IMAGE_PIXELS,
) -> np.ndarray:
    """One PNG/JPEG/... as uint8 (C, H, W); ``mode`` "RGB" or "L" (grey); ``size`` = (H, W);
    ``name`` and ``max_pixels`` as ``open_image`` takes them."""
    from PIL import Image

    try:
        with open_image(path, name=name, max_pixels=max_pixels) as im:
            im = im.convert(mode)
            if size is not None and im.size != (size[1], size[0]):
                im = im.resize((size[1], size[0]), Image.BILINEAR)
            array = np.asarray(im, dtype=np.uint8)
    except DataError:
        raise
    except (OSError, ValueError) as exc:  # a truncated or corrupt body behind a good header
        raise DataError(f"{name or path}: not a readable image ({exc})") from None
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)  # (H, W, C) -> (C, H, W)


def list_image_folder(root: str | Path) -> tuple[list[Path], list[int], list[str]]:
    """Image files under ``root/<class>/``, their class indices and the sorted class names."""
    root = Path(root)
    if not root.is_dir():
        raise DataNotFoundError(f"no such image folder: {root}")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    files, labels = [], []
    for index, name in enumerate(classes):
        for path in sorted((root / name).rglob("*")):
            if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
                files.append(path)
                labels.append(index)
    if not files:
        raise DataError(
            f"{root}: no images found (expected {root}/<class>/<image> with suffix "
            f"{', '.join(IMAGE_SUFFIXES)}; class folders found: {classes or 'none'})"
        )
    return files, labels, classes


def read_image_folder(
    root: str | Path, size: int | tuple[int, int] | None = None, channels: int | None = None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """An image folder (one subfolder per class) -> (x uint8 (N, C, H, W), y int64, classes).

    ``size`` resizes every image (bilinear) to ``size`` or ``(H, W)``; without it all images must
    share one size. ``channels`` 1 or 3; by default 1 when every image is greyscale, else 3.
    """
    files, labels, classes = list_image_folder(root)
    if isinstance(size, int):
        size = (size, size)
    if size is not None and (len(size) != 2 or min(size) < 1):
        raise DataError(f"image size must be positive (H, W), got {size}")
    if size is not None:
        check_image_pixels(size[1], size[0], "the resize target")
    if channels is None:
        channels = 1 if all(_is_grey(path) for path in files) else 3
    if channels not in (1, 3):
        raise DataError(f"image channels must be 1 or 3, got {channels}")
    mode = "L" if channels == 1 else "RGB"
    images = [read_image(files[0], size, mode)]
    what = f"image folder {root} ({len(files)} images)"
    check_bytes(len(files) * images[0].nbytes, what, error=DataError)
    images += [read_image(path, size, mode) for path in files[1:]]
    first = images[0].shape
    for path, image in zip(files, images):
        if image.shape != first:
            raise DataError(
                f"{path}: image is {image.shape[1]}x{image.shape[2]} but {files[0].name} is "
                f"{first[1]}x{first[2]}; pass a size to resize them all"
            )
    return np.stack(images), np.asarray(labels, dtype=np.int64), classes


def _is_grey(path: Path) -> bool:
    with open_image(path) as im:
        return im.mode in ("1", "L", "I", "I;16", "F")
