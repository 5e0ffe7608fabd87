"""reti.io: atomic writes and the safetensors + JSON checkpoint format."""

from __future__ import annotations

import json
import pickle

import pytest
import torch

from reti.errors import CheckpointError, ConfigError, DataNotFoundError
from reti.io import (
    META_FILE,
    TENSORS_FILE,
    atomic_dir,
    atomic_write_json,
    atomic_write_text,
    load_checkpoint,
    save_checkpoint,
)


def test_checkpoint_round_trip_and_resave_with_old_meta(tmp_path):
    tensors = {"w": torch.randn(3, 4), "step": torch.tensor(7)}
    save_checkpoint(tmp_path / "a", tensors, {"config": {"lr": 0.1}})
    back, meta = load_checkpoint(tmp_path / "a")
    assert torch.equal(back["w"], tensors["w"]) and back["step"].item() == 7
    assert meta["config"] == {"lr": 0.1} and meta["format"] == "reti-checkpoint"
    # Saving new tensors with the old meta (hash included) must still give a valid checkpoint.
    save_checkpoint(tmp_path / "b", {"w": torch.zeros(2)}, meta)
    back, _ = load_checkpoint(tmp_path / "b")
    assert torch.equal(back["w"], torch.zeros(2))


def test_shared_storage_is_saved(tmp_path):
    w = torch.randn(4, 4)
    save_checkpoint(tmp_path / "c", {"a": w, "b": w}, {})
    back, _ = load_checkpoint(tmp_path / "c")
    assert torch.equal(back["a"], back["b"])


def test_refuses_pickles_foreign_and_truncated(tmp_path):
    pkl = tmp_path / "model.pt"
    pkl.write_bytes(pickle.dumps({"w": [1, 2]}))
    with pytest.raises(CheckpointError, match="pickle"):
        load_checkpoint(pkl)
    with pytest.raises(DataNotFoundError, match="does not exist"):
        load_checkpoint(tmp_path / "nope")
    save_checkpoint(tmp_path / "d", {"w": torch.randn(100)}, {})
    data = (tmp_path / "d" / TENSORS_FILE).read_bytes()
    (tmp_path / "d" / TENSORS_FILE).write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or changed"):
        load_checkpoint(tmp_path / "d")
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / TENSORS_FILE).write_bytes(b"x")
    (tmp_path / "e" / META_FILE).write_text(json.dumps({"format": "someone-else"}))
    with pytest.raises(CheckpointError, match="not a reti checkpoint"):
        load_checkpoint(tmp_path / "e")
    (tmp_path / "e" / META_FILE).write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(tmp_path / "e")


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "x.json"
    atomic_write_json(path, {"v": 1})

    with pytest.raises(TypeError):
        atomic_write_json(path, {"v": object()})
    assert json.loads(path.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]  # no temp file left behind


def test_atomic_dir_replaces_whole_or_not_at_all(tmp_path):
    target = tmp_path / "run"
    with atomic_dir(target) as tmp:
        (tmp / "a.txt").write_text("one")
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        (tmp / "a.txt").write_text("half")
        raise RuntimeError("crash mid-write")
    assert (target / "a.txt").read_text() == "one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_writing_under_a_file_is_a_config_error(tmp_path):
    (tmp_path / "f").write_text("i am a file")
    with pytest.raises(ConfigError):
        atomic_write_text(tmp_path / "f" / "x.txt", "nope")
