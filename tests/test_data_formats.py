"""Format readers on files the tests write byte by byte: IDX, pickles, CIFAR, PNG folders."""

from __future__ import annotations

import gzip
import os
import pickle
import struct

import numpy as np
import pytest
from PIL import Image

from reti.data import formats
from reti.errors import DataError, DataNotFoundError

# ----------------------------------------------------------------------------- IDX


def _idx_bytes(type_byte: int, shape: tuple[int, ...], payload: bytes) -> bytes:
    """IDX written from the format description, independently of reti's writer."""
    return (
        struct.pack(">BBBB", 0, 0, type_byte, len(shape))
        + struct.pack(f">{len(shape)}I", *shape)
        + payload
    )


def test_idx_hand_written_ubyte_images(tmp_path):
    pixels = bytes(range(2 * 3 * 4))
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(_idx_bytes(0x08, (2, 3, 4), pixels))
    array = formats.read_idx(path)
    assert array.shape == (2, 3, 4) and array.dtype == np.uint8
    assert array[1, 2, 3] == 23 and array[0, 1, 0] == 4  # C order


def test_idx_big_endian_int32_and_float(tmp_path):
    path = tmp_path / "ints"
    path.write_bytes(_idx_bytes(0x0C, (3,), struct.pack(">3i", -7, 0, 70000)))
    assert formats.read_idx(path).tolist() == [-7, 0, 70000]
    path = tmp_path / "floats"
    path.write_bytes(_idx_bytes(0x0D, (2,), struct.pack(">2f", 1.5, -0.25)))
    assert formats.read_idx(path).tolist() == [1.5, -0.25]


def test_idx_gzipped_whatever_the_name(tmp_path):
    path = tmp_path / "labels.idx"  # gzip is detected by its magic bytes, not the suffix
    path.write_bytes(gzip.compress(_idx_bytes(0x08, (4,), bytes([3, 1, 4, 1]))))
    assert formats.read_idx(path).tolist() == [3, 1, 4, 1]


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("name", ["x.idx", "x.idx.gz"])
def test_idx_round_trip(tmp_path, dtype, name):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    back = formats.read_idx(formats.write_idx(tmp_path / name, array))
    assert back.dtype == np.dtype(dtype) and np.array_equal(back, array)


def test_idx_bad_magic_names_the_file(tmp_path):
    path = tmp_path / "notidx"
    path.write_bytes(b"\x01\x02\x08\x01" + b"\x00" * 8)
    with pytest.raises(DataError, match=r"notidx: not an IDX file \(magic bytes 01020801\)"):
        formats.read_idx(path)


def test_idx_truncated_and_oversized(tmp_path):
    good = _idx_bytes(0x08, (2, 5), bytes(10))
    (tmp_path / "short").write_bytes(good[:-3])
    with pytest.raises(DataError, match=r"short: IDX data truncated: shape \(2, 5\) needs 10"):
        formats.read_idx(tmp_path / "short")
    (tmp_path / "long").write_bytes(good + b"\x00")
    with pytest.raises(DataError, match="longer than its header says"):
        formats.read_idx(tmp_path / "long")
    (tmp_path / "header").write_bytes(good[:6])
    with pytest.raises(DataError, match="header truncated"):
        formats.read_idx(tmp_path / "header")


def test_idx_empty_missing_nan_and_bad_gzip(tmp_path):
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(DataError, match="magic bytes missing"):
        formats.read_idx(tmp_path / "empty")
    with pytest.raises(DataNotFoundError, match="no such file"):
        formats.read_idx(tmp_path / "absent")
    (tmp_path / "nan").write_bytes(_idx_bytes(0x0D, (3,), struct.pack(">3f", 1, float("nan"), 2)))
    with pytest.raises(DataError, match="1 non-finite values"):
        formats.read_idx(tmp_path / "nan")
    (tmp_path / "cut.gz").write_bytes(gzip.compress(_idx_bytes(0x08, (9,), bytes(9)))[:-6])
    with pytest.raises(DataError, match="corrupt or truncated gzip"):
        formats.read_idx(tmp_path / "cut.gz")


def test_write_idx_refuses_unsupported_dtype(tmp_path):
    with pytest.raises(DataError, match="IDX cannot hold dtype int64"):
        formats.write_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))


# ----------------------------------------------------------------------------- pickles


class _Payload:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_restricted_load_admits_arrays_and_containers(tmp_path):
    obj = {"a": [np.arange(5, dtype=np.int64), (1.5, "x")], b"k": np.float32(2.0)}
    path = tmp_path / "ok.pkl.gz"
    path.write_bytes(gzip.compress(pickle.dumps(obj, protocol=2)))
    back = formats.restricted_load(path)
    assert np.array_equal(back["a"][0], np.arange(5)) and back["a"][1] == (1.5, "x")
    assert back[b"k"] == 2.0


@pytest.mark.parametrize("protocol", [2, 4])
def test_restricted_load_refuses_code(tmp_path, protocol):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"x": _Payload()}, protocol=protocol))
    with pytest.raises(DataError, match=r"evil.pkl: the pickle asks for (posix|os)\.system"):
        formats.restricted_load(path)


def test_restricted_load_truncated(tmp_path):
    path = tmp_path / "cut.pkl"
    path.write_bytes(pickle.dumps([np.arange(100)], protocol=2)[:-20])
    with pytest.raises(DataError, match="cut.pkl: not a readable pickle"):
        formats.restricted_load(path)


# ----------------------------------------------------------------------------- CIFAR


def _cifar_batch(path, n, label_key=b"labels", seed=0, **extra):
    rng = np.random.default_rng(seed)
    batch = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
             label_key: list(rng.integers(0, 10, n)), **extra}  # fmt: skip
    path.write_bytes(pickle.dumps(batch, protocol=2))
    return batch


def test_cifar_batch_layout(tmp_path):
    batch = _cifar_batch(tmp_path / "data_batch_1", 3)
    x, y = formats.read_cifar_batch(tmp_path / "data_batch_1")
    assert x.shape == (3, 3, 32, 32) and x.dtype == np.uint8 and y.dtype == np.int64
    row = batch[b"data"][2]  # 1024 red, then 1024 green, then 1024 blue, each row-major 32x32
    assert (
        x[2, 0, 0, 5] == row[5] and x[2, 1, 1, 0] == row[1024 + 32] and x[2, 2, 31, 31] == row[-1]
    )
    assert y.tolist() == [int(v) for v in batch[b"labels"]]


def test_cifar_batch_errors(tmp_path):
    _cifar_batch(tmp_path / "b", 2)
    with pytest.raises(DataError, match="needs keys 'data' and 'fine_labels'"):
        formats.read_cifar_batch(tmp_path / "b", "fine_labels")
    (tmp_path / "list").write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(DataError, match="a CIFAR batch is a dict, found list"):
        formats.read_cifar_batch(tmp_path / "list")
    bad = {b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}
    (tmp_path / "short").write_bytes(pickle.dumps(bad))
    with pytest.raises(DataError, match=r"must be uint8 \(N, 3072\), got uint8 \(2, 100\)"):
        formats.read_cifar_batch(tmp_path / "short")
    bad = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}
    (tmp_path / "labels").write_bytes(pickle.dumps(bad))
    with pytest.raises(DataError, match="'labels' must hold 2 integers"):
        formats.read_cifar_batch(tmp_path / "labels")


def test_cifar_names(tmp_path):
    (tmp_path / "meta").write_bytes(pickle.dumps({b"label_names": [b"cat", b"dog"]}, protocol=2))
    assert formats.read_cifar_names(tmp_path / "meta", "label_names") == ["cat", "dog"]
    with pytest.raises(DataError, match="without a 'fine_label_names' list"):
        formats.read_cifar_names(tmp_path / "meta", "fine_label_names")


# ----------------------------------------------------------------------------- image folders


def _png(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def test_image_folder_exact_pixels_and_sorted_classes(tmp_path):
    rng = np.random.default_rng(0)
    cat = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    dog = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    _png(tmp_path / "dog" / "a.png", dog)
    _png(tmp_path / "cat" / "b.png", cat)
    (tmp_path / "cat" / "notes.txt").write_text("ignored: not an image suffix")
    x, y, classes = formats.read_image_folder(tmp_path)
    assert classes == ["cat", "dog"] and y.tolist() == [0, 1]
    assert x.shape == (2, 3, 5, 7) and x.dtype == np.uint8
    assert np.array_equal(x[0], cat.transpose(2, 0, 1))  # (H, W, C) -> (C, H, W)
    assert np.array_equal(x[1], dog.transpose(2, 0, 1))


def test_image_folder_grey_and_resize(tmp_path):
    _png(tmp_path / "a" / "1.png", np.full((4, 4), 200, np.uint8))
    _png(tmp_path / "b" / "2.png", np.full((6, 8), 10, np.uint8))
    x, _, _ = formats.read_image_folder(tmp_path, size=(3, 5))
    assert x.shape == (2, 1, 3, 5) and (x[0] == 200).all() and (x[1] == 10).all()
    x, _, _ = formats.read_image_folder(tmp_path, size=4, channels=3)
    assert x.shape == (2, 3, 4, 4)


def test_image_folder_errors(tmp_path):
    with pytest.raises(DataNotFoundError, match="no such image folder"):
        formats.read_image_folder(tmp_path / "absent")
    (tmp_path / "empty" / "cls").mkdir(parents=True)
    with pytest.raises(DataError, match=r"no images found .* class folders found: \['cls'\]"):
        formats.read_image_folder(tmp_path / "empty")
    _png(tmp_path / "sizes" / "a" / "1.png", np.zeros((4, 4, 3), np.uint8))
    _png(tmp_path / "sizes" / "a" / "2.png", np.zeros((5, 4, 3), np.uint8))
    with pytest.raises(DataError, match=r"2.png: image is 5x4 but 1.png is 4x4; pass a size"):
        formats.read_image_folder(tmp_path / "sizes")
    (tmp_path / "junk" / "a").mkdir(parents=True)
    (tmp_path / "junk" / "a" / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(DataError, match="broken.png: not a readable image"):
        formats.read_image_folder(tmp_path / "junk")
    with pytest.raises(DataError, match="channels must be 1 or 3, got 2"):
        formats.read_image_folder(tmp_path / "sizes", size=4, channels=2)


def _png_claiming(width: int, height: int) -> bytes:
    """A grey PNG whose header claims width x height pixels; one row of data follows."""
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = chunk(b"IDAT", zlib.compress(b"\x00" * (width + 1)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + body + chunk(b"IEND", b"")


def test_a_decompression_bomb_in_an_image_folder_is_a_data_error(tmp_path):
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / label / "ok.png")
    (tmp_path / "b" / "bomb.png").write_bytes(_png_claiming(100_000, 100_000))
    with pytest.raises(DataError, match=r"bomb.png: image claims 10,000,000,000 pixels"):
        formats.read_image_folder(tmp_path)
    with pytest.raises(DataError, match=r"the resize target: image claims 100000x100000"):
        formats.read_image_folder(tmp_path, size=100_000)


def test_hostile_csv_fields_name_the_line(tmp_path):
    from reti.data.series import read_csv

    path = tmp_path / "wide.csv"
    path.write_text("t,v\n0,1\n1," + "7" * 200_000 + "\n", encoding="ascii")
    with pytest.raises(DataError, match=r"wide.csv: line 3 is not readable CSV \(field larger"):
        read_csv(path)
    path.write_bytes(b"t,v\n0,1\n")
    assert read_csv(path, ["v"]).values.tolist() == [[1.0]]


def test_gzip_and_idx_headers_cannot_ask_for_unbounded_memory(tmp_path, monkeypatch):
    monkeypatch.setenv("RETI_MEMORY_LIMIT", "2000")  # half of it (1000 bytes) may be unpacked
    path = tmp_path / "bomb-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 1]) + struct.pack(">i", 5000) + bytes(5000)))
    with pytest.raises(DataError, match=r"ubyte.gz: gzip data expands past 1.0 KB"):
        formats.read_idx(path)
    monkeypatch.delenv("RETI_MEMORY_LIMIT")
    assert formats.read_idx(path).shape == (5000,)
    # dimensions whose product wraps a 64-bit integer to the file's real size: still refused
    raw = bytes([0, 0, 8, 3]) + struct.pack(">iii", 2**31 - 1, 2**31 - 1, 4) + bytes(8)
    (tmp_path / "wrap").write_bytes(raw)
    with pytest.raises(DataError, match="IDX data truncated"):
        formats.read_idx(tmp_path / "wrap")
    (tmp_path / "neg").write_bytes(bytes([0, 0, 8, 1]) + struct.pack(">i", -4))
    with pytest.raises(DataError, match="negative dimension"):
        formats.read_idx(tmp_path / "neg")
