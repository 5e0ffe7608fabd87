"""Uploaded image sets: a zip of class folders (``cat/1.png``, ``dog/2.jpg`` ...) unpacked, with
caps, into ``<lab>/uploads/<id>/<class>/<n>.png``, ready for ``load_images("folder:...")``.

Nothing from the zip is used as a path: each member's class folder name is checked against a
plain pattern, the file is decoded by Pillow (no pickle) from memory, resized to a square and
written under a name the lab makes. Caps: the zip's bytes (the request), the number of members,
the bytes they unpack to (read in bounded chunks, so a zip bomb stops early) and pixels per image.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from reti.errors import ConfigError, DataError, DataNotFoundError
from reti.io import atomic_write_json

UPLOAD_ID = re.compile(r"^u[0-9a-f]{12}$")
CLASS_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_ .-]{0,39}$")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
MAX_VALUE = 1e15  # a series value past this overflows differences and MAE (1e308 - -1e308)


@dataclass
class ZipLimits:
    files: int = 2000
    unpacked_bytes: int = 64 * 1024 * 1024
    pixels: int = 4096 * 4096  # one image
    total_pixels: int = 64 * 1024 * 1024  # all images together, counted from their headers


def _member_class(name: str) -> tuple[str, str] | None:
    """(class, file name) of ``[top/]class/file.png``; None for folders and non-images."""
    parts = PurePosixPath(name).parts
    if name.endswith("/") or not parts or parts[-1].startswith("."):
        return None
    if "__MACOSX" in parts or not parts[-1].lower().endswith(IMAGE_SUFFIXES):
        return None
    if name.startswith("/") or "\\" in name or any(p in ("..", ".") for p in parts):
        raise DataError(f"zip member {name!r}: a path outside its folder is not allowed")
    if len(parts) == 3:
        parts = parts[1:]  # one top folder around the class folders
    if len(parts) != 2:
        raise DataError(f"zip member {name!r}: expected class/image.png (one folder per class)")
    if not CLASS_NAME.match(parts[0]):
        raise DataError(f"zip member {name!r}: class name {parts[0]!r} is not allowed")
    return parts[0], parts[1]


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    chunks, total = [], 0
    with zf.open(info) as fh:
        while chunk := fh.read(65536):
            total += len(chunk)
            if total > budget:
                raise DataError("the zip unpacks to more bytes than the lab accepts")
            chunks.append(chunk)
    return b"".join(chunks)


def _check_pixels(name: str, width: int, height: int, limits: ZipLimits, left: int) -> int:
    """The pixels of one image, refused past the per-image or the whole zip's budget."""
    if width * height > limits.pixels:
        raise DataError(f"{name}: more than {limits.pixels} pixels")
    if width * height > left:
        raise DataError(
            f"the zip's images hold more than {limits.total_pixels} pixels together "
            "(the lab's upload budget); send smaller or fewer images"
        )
    return width * height


def unpack_image_zip(raw: bytes, root: Path, size: int, limits: ZipLimits) -> dict:
    """Unpack a zip of class folders into a new upload folder; returns its id and counts.

    Raises:
        DataError: not a zip, too many or too large members, an unreadable image, fewer than
        two classes or two images.
    """
    from PIL import Image, UnidentifiedImageError

    if not 4 <= size <= 128:
        raise ConfigError(f"size must be in [4, 128], got {size}")
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        raise DataError("the upload is not a zip file") from None
    members = [(i, _member_class(i.filename)) for i in zf.infolist()]
    members = [(i, m) for i, m in members if m is not None]
    if len(members) > limits.files:
        raise DataError(f"the zip holds {len(members)} images; at most {limits.files}")
    classes = sorted({c for _, (c, _) in members})
    if len(classes) < 2 or len(members) < 2:
        raise DataError("the zip needs at least two class folders with images in them")
    images, budget, pixels = [], limits.unpacked_bytes, limits.total_pixels
    for info, (label, _) in members:
        data = _read_capped(zf, info, budget)
        budget -= len(data)
        try:
            with Image.open(io.BytesIO(data)) as im:  # reads the header, decodes nothing yet
                side = _check_pixels(info.filename, im.width, im.height, limits, pixels)
                pixels -= side
                im = im.convert("RGB").resize((size, size), Image.BILINEAR)
                images.append((label, np.asarray(im, dtype=np.uint8)))
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
            if isinstance(exc, DataError):
                raise
            raise DataError(f"{info.filename}: not a readable image") from None
    grey = all((a == a[..., :1]).all() for _, a in images)
    upload_id = "u" + secrets.token_hex(6)
    folder = root / upload_id
    for k, (label, array) in enumerate(images):
        (folder / label).mkdir(parents=True, exist_ok=True)
        picture = Image.fromarray(array[..., 0] if grey else array)
        picture.save(folder / label / f"{k:05d}.png")
    counts = {c: sum(label == c for label, _ in images) for c in classes}
    info = {"id": upload_id, "classes": classes, "counts": counts, "size": size, "grey": grey}
    atomic_write_json(folder / "upload.json", info)
    return info


def upload_folder(root: Path, upload_id: str) -> Path:
    """The folder of an upload id, checked against the pattern and the uploads folder."""
    if not isinstance(upload_id, str) or not UPLOAD_ID.match(upload_id):
        raise ConfigError(f"not an upload id: {upload_id!r}")
    folder = root / upload_id
    if not (folder / "upload.json").is_file() or folder.resolve().parent != root.resolve():
        raise DataNotFoundError(f"no upload {upload_id!r}")
    return folder


def upload_shape(root: Path, upload_id: str) -> tuple[int, int]:
    """(channels, side) of an upload."""
    info = json.loads((upload_folder(root, upload_id) / "upload.json").read_text("utf-8"))
    return (1 if info["grey"] else 3), int(info["size"])


def read_csv_column(raw: bytes, max_rows: int) -> dict:
    """Numbers of the first numeric column of a CSV (a header row is allowed)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError("the CSV is not UTF-8 text") from None
    values: list[float] = []
    rows = csv.reader(io.StringIO(text))
    try:
        for i, row in enumerate(rows):
            if len(values) >= max_rows:
                raise DataError(f"the CSV has more than {max_rows} rows")
            numbers = []
            for cell in row:
                try:
                    numbers.append(float(cell))
                except ValueError:
                    continue
            if numbers:
                values.append(numbers[-1] if len(numbers) > 1 else numbers[0])
            elif i > 0 and row:
                raise DataError(f"row {i + 1} of the CSV holds no number: {row[:3]}")
    except csv.Error as exc:  # e.g. a cell over the csv module's field limit
        raise DataError(f"row {rows.line_num} of the CSV cannot be read: {exc}") from None
    if len(values) < 4:
        raise DataError("the CSV needs at least 4 numeric rows")
    if any(not math.isfinite(v) for v in values):
        raise DataError("the CSV holds a non-finite number")
    if any(abs(v) > MAX_VALUE for v in values):
        raise DataError(f"the CSV holds a number beyond +-{MAX_VALUE:g}; rescale the series")
    naive = sum(abs(b - a) for a, b in zip(values, values[1:])) / (len(values) - 1)
    return {"values": values, "rows": len(values), "naive_mae": naive}


def save_series_csv(values: list[float], root: Path) -> str:
    """Keep the checked numbers of an uploaded CSV as ``<root>/<id>/series.csv`` (one ``value``
    column, the layout ``reti.data.series.read_csv`` reads) so a forecast job can use them."""
    upload_id = "u" + secrets.token_hex(6)
    folder = root / upload_id
    folder.mkdir(parents=True)
    text = "value\n" + "".join(f"{v!r}\n" for v in values)
    (folder / "series.csv").write_text(text, encoding="utf-8")
    info = {"id": upload_id, "kind": "series", "rows": len(values)}
    atomic_write_json(folder / "upload.json", info)  # last: an id without it is no upload
    return upload_id


def series_csv_path(root: Path, upload_id: str) -> Path:
    """The kept CSV of a series upload id (checked as ``upload_folder`` checks ids)."""
    path = upload_folder(root, upload_id) / "series.csv"
    if not path.is_file():
        raise DataNotFoundError(f"upload {upload_id!r} is not a series CSV")
    return path
