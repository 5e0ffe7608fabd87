"""Image classification data sets as uint8 tensors: the built-in ones and the standard formats.

``load_images(spec)`` understands

* ``"mnist"``: the official 60k training images (the pickle's 50k train + 10k valid, in that
  order) and 10k test images, 28x28. The pickle stores ``v / 256`` as float32; we convert back
  with ``v * 256`` and check every value is an exact integer in 0..255.
* ``"fashion-mnist"``: the original IDX files, 60k/10k, 28x28.
* ``"digits"``: scikit-learn's 1797 8x8 digits; values 0..16 are scaled to 0..255 (``v * 255 / 16``
  rounded to the nearest integer); a fixed random split (seed 0): 1497 train, 300 test.
* ``"mnist:PATH"`` / ``"fashion-mnist:PATH"``: a folder with the four IDX files (gz or not).
* ``"cifar10:PATH"``, ``"cifar100:PATH"`` (fine labels), ``"cifar100-coarse:PATH"``: the
  python-batch folder (``cifar-10-batches-py`` / ``cifar-100-python``), its parent, or the
  official ``.tar.gz`` itself.
* ``"folder:PATH"``: one subfolder per class; ``PATH/train`` and ``PATH/test`` when both exist,
  else a seeded 80/20 split.

Built-in sets are kept in memory per process and as a uint8 ``.npz`` in the cache (MNIST's
pickle takes seconds to read, the ``.npz`` a fraction of one); each call returns fresh tensors.
"""

from __future__ import annotations

import functools
import io
import tarfile
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from reti.config import parse_spec
from reti.data import formats
from reti.data.builtin import BUILTIN
from reti.data.fetch import cache_dir, fetch
from reti.errors import DataError, DataNotFoundError, IntegrityError
from reti.io import atomic_write_bytes, sha256_file

MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip
DIGITS_TEST = 300
SPLIT_SEED = 0


@dataclass(frozen=True)
class ImageData:
    """A classification image set: uint8 images (N, C, H, W), int64 labels, class names."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    classes: list[str]
    name: str

    @property
    def shape(self) -> tuple[int, int, int]:
        """One image's (C, H, W)."""
        return tuple(self.train_x.shape[1:])

    def clone(self) -> ImageData:
        """A copy whose tensors can be changed without touching this one."""
        tensors = ("train_x", "train_y", "test_x", "test_y")
        return replace(
            self, classes=list(self.classes), **{k: getattr(self, k).clone() for k in tensors}
        )

    def __repr__(self) -> str:
        from reti.data.display import images_summary

        return images_summary(self)

    def _repr_html_(self) -> str:
        """Jupyter: shapes, per-class counts and one sample image per class."""
        from reti.data.display import images_html

        return images_html(self)


def _build(name: str, train: tuple, test: tuple, classes: list[str]) -> ImageData:
    """Check shapes and labels, then wrap numpy arrays as an ``ImageData``."""
    (train_x, train_y), (test_x, test_y) = train, test
    for split, x, y in (("train", train_x, train_y), ("test", test_x, test_y)):
        if x.ndim != 4 or x.dtype != np.uint8:
            raise DataError(
                f"{name}: {split} images must be uint8 (N, C, H, W), got {x.dtype} {x.shape}"
            )
        if len(x) != len(y):
            raise DataError(f"{name}: {len(x)} {split} images but {len(y)} labels")
        if len(y) and (y.min() < 0 or y.max() >= len(classes)):
            raise DataError(
                f"{name}: {split} labels must be in 0..{len(classes) - 1}, got {y.min()}..{y.max()}"
            )
    if train_x.shape[1:] != test_x.shape[1:]:
        raise DataError(
            f"{name}: train images {train_x.shape[1:]} but test images {test_x.shape[1:]}"
        )
    as_tensor = torch.from_numpy
    return ImageData(
        as_tensor(np.ascontiguousarray(train_x)),
        as_tensor(np.ascontiguousarray(train_y, dtype=np.int64)),
        as_tensor(np.ascontiguousarray(test_x)),
        as_tensor(np.ascontiguousarray(test_y, dtype=np.int64)),
        list(classes),
        name,
    )


def _split(n: int, n_test: int, seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """A fixed random split of ``range(n)`` into (train, test) index arrays."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).numpy()
    return np.sort(order[n_test:]), np.sort(order[:n_test])


# ----------------------------------------------------------------------------- built-in sets


def _verified(name: str) -> Path:
    """``fetch(name)``, re-hashing every member first: these files are then parsed or unpickled."""
    path = fetch(name)
    folder = path if path.is_dir() else path.parent
    for member, sha in BUILTIN[name].members.items():
        if sha256_file(folder / member) != sha:
            raise IntegrityError(
                f"{folder / member}: SHA-256 differs from reti's table; the cached file was "
                f"altered. Delete {folder} and fetch {name!r} again"
            )
    return path


def _mnist() -> ImageData:
    train, valid, test = formats.restricted_load(_verified("mnist"))

    def to_uint8(split: str, x: np.ndarray) -> np.ndarray:
        scaled = np.asarray(x, dtype=np.float64) * 256  # the pickle holds v / 256, exactly
        pixels = np.rint(scaled)
        if not (np.array_equal(scaled, pixels) and 0 <= pixels.min() and pixels.max() <= 255):
            raise DataError(f"mnist: {split} pixels are not k/256 for k in 0..255")
        return pixels.astype(np.uint8).reshape(-1, 1, 28, 28)

    train_x = np.concatenate([to_uint8("train", train[0]), to_uint8("valid", valid[0])])
    train_y = np.concatenate([train[1], valid[1]])
    return _build("mnist", (train_x, train_y), (to_uint8("test", test[0]), test[1]), MNIST_CLASSES)


def _digits() -> ImageData:
    import gzip

    with gzip.open(_verified("digits"), "rt") as fh:
        table = np.loadtxt(fh, delimiter=",", dtype=np.int64)
    if table.ndim != 2 or table.shape[1] != 65:
        raise DataError(f"digits: expected rows of 64 pixels + a label, got shape {table.shape}")
    # 0..16 -> 0..255, rounding v * 255 / 16 to the nearest integer in integer arithmetic.
    x = ((table[:, :64] * 255 + 8) // 16).astype(np.uint8).reshape(-1, 1, 8, 8)
    y = table[:, 64]
    tr, te = _split(len(x), DIGITS_TEST)
    return _build("digits", (x[tr], y[tr]), (x[te], y[te]), MNIST_CLASSES)


def _fashion() -> ImageData:
    return _idx_folder("fashion-mnist", _verified("fashion-mnist"), FASHION_CLASSES)


_BUILTIN_LOADERS = {"mnist": _mnist, "digits": _digits, "fashion-mnist": _fashion}


@functools.lru_cache(maxsize=4)
def _builtin(name: str) -> ImageData:
    """A built-in set, from the ``.npz`` cache when it is there (keyed by the members' hashes)."""
    tag = "-".join(sha[:12] for sha in BUILTIN[name].members.values())
    npz = cache_dir() / "arrays" / f"{name}-{tag}.npz"
    if npz.is_file():
        try:
            with np.load(npz, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            classes = [str(c) for c in arrays.pop("classes")]
            train, test = (
                (arrays["train_x"], arrays["train_y"]),
                (arrays["test_x"], arrays["test_y"]),
            )
            return _build(name, train, test, classes)
        except (OSError, ValueError, KeyError):
            pass  # a damaged derived cache is rebuilt from the verified members
    data = _BUILTIN_LOADERS[name]()
    buffer = io.BytesIO()
    arrays = {k: getattr(data, k).numpy() for k in ("train_x", "train_y", "test_x", "test_y")}
    np.savez(buffer, classes=np.asarray(data.classes), **arrays)
    atomic_write_bytes(npz, buffer.getvalue())
    return data


# ----------------------------------------------------------------------------- from a path


def _find(folder: Path, stem: str) -> Path:
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    raise DataNotFoundError(f"{folder}: no file named {stem} or {stem}.gz")


def _idx_folder(name: str, folder: Path, classes: list[str]) -> ImageData:
    """The four IDX files of MNIST / Fashion-MNIST in ``folder``."""
    if not folder.is_dir():
        raise DataNotFoundError(f"no such folder: {folder}")
    splits = []
    for prefix in ("train", "t10k"):
        x = formats.read_idx(_find(folder, f"{prefix}-images-idx3-ubyte"))
        y = formats.read_idx(_find(folder, f"{prefix}-labels-idx1-ubyte"))
        if x.ndim != 3 or x.dtype != np.uint8 or y.ndim != 1:
            raise DataError(
                f"{folder}: {prefix} IDX files must hold uint8 (N, H, W) images and (N,) labels, "
                f"got {x.dtype} {x.shape} and {y.dtype} {y.shape}"
            )
        splits.append((x[:, None], y.astype(np.int64)))
    return _build(name, splits[0], splits[1], classes)


MAX_MEMBER = 256 * 2**20  # CIFAR-100's train batch, the largest, is ~155 MB
CIFAR_FILES = {"data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5",
               "test_batch", "batches.meta", "train", "test", "meta"}  # fmt: skip


def _cifar(folder: Path, hundred: bool, coarse: bool) -> ImageData:
    """CIFAR python batches from their folder, its parent, or the official .tar.gz itself."""
    if folder.is_file():  # cifar-10-python.tar.gz: unpack only the batch files, by basename
        with tempfile.TemporaryDirectory(prefix="reti-cifar-") as tmp:
            try:
                with tarfile.open(folder) as tf:
                    for member in tf.getmembers():
                        base = member.name.rsplit("/", 1)[-1]
                        if member.isfile() and base in CIFAR_FILES and member.size > MAX_MEMBER:
                            raise DataError(
                                f"{folder}: member {member.name} claims {member.size} bytes; "
                                f"a CIFAR batch file is under {MAX_MEMBER} bytes"
                            )
                        if member.isfile() and base in CIFAR_FILES:
                            (Path(tmp) / base).write_bytes(tf.extractfile(member).read())
            except (tarfile.TarError, OSError, EOFError) as exc:
                raise DataError(f"{folder}: not a readable CIFAR .tar.gz ({exc})") from exc
            return _cifar(Path(tmp), hundred, coarse)
    name = "cifar100" if hundred else "cifar10"
    inner = folder / ("cifar-100-python" if hundred else "cifar-10-batches-py")
    folder = inner if inner.is_dir() else folder
    if not folder.is_dir():
        raise DataNotFoundError(f"no such folder: {folder}")
    if hundred:
        key = "coarse_labels" if coarse else "fine_labels"
        train = formats.read_cifar_batch(_find(folder, "train"), key)
        test = formats.read_cifar_batch(_find(folder, "test"), key)
        names_key = "coarse_label_names" if coarse else "fine_label_names"
        meta, n_classes = "meta", 20 if coarse else 100
    else:
        parts = [formats.read_cifar_batch(_find(folder, f"data_batch_{i}")) for i in range(1, 6)]
        train = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
        test = formats.read_cifar_batch(_find(folder, "test_batch"))
        names_key, meta, n_classes = "label_names", "batches.meta", 10
    if (folder / meta).is_file():
        classes = formats.read_cifar_names(folder / meta, names_key)
    else:
        classes = [str(i) for i in range(n_classes)]
    return _build(name, train, test, classes)


def _folder(root: Path, size: int | tuple[int, int] | None) -> ImageData:
    if (root / "train").is_dir() and (root / "test").is_dir():
        train_x, train_y, classes = formats.read_image_folder(root / "train", size)
        test_x, test_y, test_classes = formats.read_image_folder(root / "test", size)
        if test_classes != classes:
            raise DataError(f"{root}: train classes {classes} but test classes {test_classes}")
        if train_x.shape[1:] != test_x.shape[1:]:  # e.g. grey train images, colour test ones
            channels = max(train_x.shape[1], test_x.shape[1])
            train_x, train_y, _ = formats.read_image_folder(root / "train", size, channels)
            test_x, test_y, _ = formats.read_image_folder(root / "test", size, channels)
        return _build(f"folder:{root}", (train_x, train_y), (test_x, test_y), classes)
    x, y, classes = formats.read_image_folder(root, size)
    if len(x) < 2:
        raise DataError(
            f"{root}: need at least 2 images to split into train and test, found {len(x)}"
        )
    tr, te = _split(len(x), max(1, round(0.2 * len(x))))
    return _build(f"folder:{root}", (x[tr], y[tr]), (x[te], y[te]), classes)


# ----------------------------------------------------------------------------- public


NAMES = ("mnist", "fashion-mnist", "digits")  # built in
KINDS = ("mnist", "fashion-mnist", "cifar10", "cifar100", "cifar100-coarse", "folder")  # kind:PATH
SPECS = (*NAMES, *(f"{kind}:PATH" for kind in KINDS))


def load_images(spec: str, size: int | tuple[int, int] | None = None) -> ImageData:
    """An image classification set by name or ``kind:PATH`` (see the module docstring).

    ``size`` resizes the images of a ``folder:`` set (other sets have a fixed size).

    Raises:
        DataError: unknown spec, malformed files (naming the file), or a failed download.
        DataNotFoundError: a PATH that does not exist.
    """
    kind, path = parse_spec(str(spec), "image data set", NAMES, KINDS, error=DataError)
    if size is not None and kind != "folder":
        raise DataError(f"size={size} applies to folder:PATH images only, not to {spec!r}")
    if path is None:
        return _builtin(kind).clone()
    root = Path(path).expanduser()
    if kind in ("mnist", "fashion-mnist"):
        return _idx_folder(kind, root, MNIST_CLASSES if kind == "mnist" else FASHION_CLASSES)
    if kind == "folder":
        return _folder(root, size)
    return _cifar(root, hundred=kind != "cifar10", coarse=kind == "cifar100-coarse")


def load_photos() -> torch.Tensor:
    """scikit-learn's two photos (china, flower) as uint8 (2, 3, 427, 640)."""
    folder = _verified("photos")
    images = [formats.read_image(folder / name) for name in ("china.jpg", "flower.jpg")]
    return torch.from_numpy(np.stack(images))
