"""Text corpora: UTF-8 files with byte-offset errors, the split by work for Shakespeare (no play
on both sides; First-Folio editions left out)."""

from __future__ import annotations

import pytest

from reti.data.text import (
    TextData,
    decode_utf8,
    load_text,
    read_text_file,
    shakespeare_works,
    split_works,
)
from reti.errors import ConfigError, DataError, DataNotFoundError


def test_file_split_by_position_at_a_line_start(tmp_path):
    path = tmp_path / "corpus.txt"
    lines = [f"line {i}\n" for i in range(100)]
    path.write_text("".join(lines), encoding="utf-8")
    data = load_text(f"file:{path}", val_fraction=0.1)
    assert data.train + data.val == "".join(lines)
    assert data.val.startswith("line ") and data.train.endswith("\n")
    assert 0.08 < len(data.val) / (len(data.train) + len(data.val)) < 0.12
    plain = load_text(str(path), val_fraction=0.0)
    assert plain.val == "" and plain.train == "".join(lines) and plain.name == "corpus.txt"


def test_utf8_with_bom_and_unicode(tmp_path):
    path = tmp_path / "u.txt"
    path.write_bytes("\ufeffcafé 世界 😀\n".encode())
    assert read_text_file(path) == "café 世界 😀\n"


def test_non_utf8_names_the_byte_offset(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"abc caf" + b"\xe9 ok\n")
    with pytest.raises(DataError, match=r"not valid UTF-8: byte b'\\xe9' at byte offset 7"):
        load_text(str(path))
    assert load_text(str(path), errors="replace", val_fraction=0).train == "abc caf\ufffd ok\n"
    assert decode_utf8(b"a\xffb", "x", errors="surrogateescape") == "a\udcffb"


def test_bad_inputs(tmp_path):
    with pytest.raises(DataNotFoundError, match="text file not found"):
        load_text(str(tmp_path / "missing.txt"))
    (tmp_path / "empty.txt").write_text("  \n\n")
    with pytest.raises(DataError, match="is empty"):
        load_text(f"file:{tmp_path / 'empty.txt'}")
    (tmp_path / "ok.txt").write_text("hello\n")
    with pytest.raises(ConfigError, match=r"val_fraction must be in \[0, 1\), got 1.0"):
        load_text(str(tmp_path / "ok.txt"), val_fraction=1.0)
    with pytest.raises(ConfigError, match="text errors must be one of"):
        load_text(str(tmp_path / "ok.txt"), errors="bogus")
    with pytest.raises(ConfigError, match="text spec must be"):
        load_text("")


def _fake_works(folder, sizes):
    for name, size in sizes.items():
        (folder / f"{name}_gut.txt").write_text(f"{name.upper()}\n" + "x" * size)
        (folder / f"{name}_gut_f.txt").write_text("FOLIO " + "y" * size)  # must be ignored


def test_split_by_work_fills_validation_to_the_fraction(tmp_path):
    _fake_works(tmp_path, {f"play{i}": 1000 for i in range(20)})
    works = shakespeare_works(tmp_path)
    assert len(works) == 20 and not any("FOLIO" in t for t in works.values())
    train, val = split_works(works, 0.1, seed=0)
    assert len(val) == 2 and not set(train) & set(val) and len(train) + len(val) == 20
    assert split_works(works, 0.1, seed=0) == (train, val)  # seeded
    assert split_works(works, 0.1, seed=1) != (train, val)
    assert split_works(works, 0.0) == (sorted(works), [])


def test_split_keeps_one_work_for_training(tmp_path):
    _fake_works(tmp_path, {"a": 10, "b": 10})
    train, val = split_works(shakespeare_works(tmp_path), 0.99)
    assert len(train) == 1 and len(val) == 1


def test_text_property_joins_train_and_val():
    data = TextData(train="ab", val="cd", name="x")
    assert data.text == "ab\n\ncd"


@pytest.mark.network
def test_real_shakespeare_split_by_play():
    data = load_text("shakespeare")
    assert len(data.train_parts) + len(data.val_parts) == 42
    assert not set(data.train_parts) & set(data.val_parts)
    assert "hamlet" in data.train_parts + data.val_parts
    fraction = len(data.val) / (len(data.train) + len(data.val))
    assert 0.1 <= fraction < 0.2
    assert "HAMLET" in data.text and len(data.text) > 5_000_000
