"""The CLI's last tracebacks (issue: the lab is safe to leave running): a checkpoint whose
meta.json cannot rebuild its model, and a disk that fills during training, are each one
``reti: error:`` line naming the file, exit 2, with the earlier checkpoints intact."""

from __future__ import annotations

import json

import pytest
import safetensors

import reti.io
from reti.cli.main import main
from reti.io import load_checkpoint


@pytest.fixture(scope="module")
def vision_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("vision") / "run"
    argv = ["vision", "train", "--data", "digits", "--model", "FC@16-RELU,SOFTMAX",
            "--epochs", "1", "--limit", "64", "--quiet", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    return out


def _broken(run, tmp_path, change) -> str:
    src = next((run / "checkpoints").glob("step-*"))
    folder = tmp_path / "ckpt"
    folder.mkdir()
    for f in src.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    meta = json.loads((folder / "meta.json").read_text())
    change(meta["model_config"])
    (folder / "meta.json").write_text(json.dumps(meta))
    return str(folder)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda mc: mc.pop("classes"), "'classes' must be a list of class names, got missing"),
        (lambda mc: mc.pop("data"), "field 'data' must be a non-empty string, got missing"),
        (lambda mc: mc.update(classes=["a", "b"]), "field 'classes' must be 10 names"),
        (lambda mc: mc.update(image_size=10**18), "'image_size' must be an integer in [1, 16384]"),
        (lambda mc: mc.update(mean=[float("nan")]), "field 'mean' must be a list of 1 finite"),
    ],
)  # fmt: skip
def test_a_malformed_meta_is_one_line_naming_file_and_field(
    vision_run, tmp_path, capsys, change, says
):
    folder = _broken(vision_run, tmp_path, change)
    png = tmp_path / "x.png"
    from PIL import Image

    Image.new("L", (8, 8), 0).save(png)
    for argv in (["vision", "eval", "--checkpoint", folder],
                 ["vision", "predict", "--checkpoint", folder, str(png)]):  # fmt: skip
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"reti: error: {folder}/meta.json: model_config") and says in err
        assert len(err.splitlines()) == 1


def test_a_full_disk_during_training_is_one_line_and_keeps_the_earlier_checkpoints(
    tmp_path, monkeypatch, capsys
):
    out = tmp_path / "text"
    argv = ["text", "train", "--data", "shakespeare", "--tokenizer", "char", "--n-layer", "1",
            "--d-model", "16", "--n-head", "2", "--batch-size", "4", "--max-steps", "6",
            "--checkpoint-every", "2", "--keep-last", "5", "--quiet",
            "--out", str(out)]  # fmt: skip
    real, calls = reti.io.save_file, []

    def fill_up(tensors, filename, *args, **kwargs):
        calls.append(filename)
        if len(calls) >= 2:  # the disk is full from the second checkpoint on
            raise safetensors.SafetensorError(
                "Error while serializing: I/O error: No space left on device (os error 28)"
            )
        return real(tensors, filename, *args, **kwargs)

    monkeypatch.setattr(reti.io, "save_file", fill_up)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "No space left on device" in err, err
    assert "step-0000004" in err
    kept = sorted(p.name for p in (out / "checkpoints").glob("step-*"))
    assert kept == ["step-0000002"]
    tensors, meta = load_checkpoint(out / "checkpoints" / "step-0000002")  # hash checked
    assert meta["step"] == 2 and tensors
