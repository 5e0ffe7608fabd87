"""`reti vision` end to end on the tiny built-in digits set (8x8): train, eval, predict, show,
and every bad input answered with one line and exit status 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from reti.cli import vision as cli_vision
from reti.cli.main import main
from reti.data.images import load_images
from reti.models.registry import MODELS

PATTERN = "CONV3@8-BN-RELU-POOL-FC@32-RELU,SOFTMAX"
pytestmark = pytest.mark.network


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One small training run shared by the tests: ~230 steps of a small CNN on digits."""
    out = tmp_path_factory.mktemp("vision") / "run"
    code = main(
        ["vision", "train", "--data", "digits", "--model", PATTERN, "--epochs", "5",
         "--batch-size", "32", "--lr", "3e-3", "--schedule", "onecycle", "--quiet",
         "--device", "cpu", "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    return out


def _png(path, array):
    Image.fromarray(np.asarray(array, dtype=np.uint8)).save(path)
    return str(path)


def test_train_learns_far_above_chance(run, capsys):
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["step"] >= 200
    assert rows[-1]["val_accuracy"] > 0.8  # 10 classes: chance is 0.1
    assert rows[-1]["train_loss"] < rows[0]["train_loss"]
    saved = json.loads((run / "config.json").read_text())
    assert saved["model_config"]["vision"]["model"] == PATTERN
    assert saved["train_config"]["epochs"] == 5


def test_eval_prints_loss_and_accuracy(run, capsys):
    assert main(["vision", "eval", "--checkpoint", str(run)]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["n"] == 300 and scores["accuracy"] > 0.8
    assert main(["vision", "eval", "--checkpoint", str(run), "--device", "auto"]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] == pytest.approx(scores["accuracy"])


def test_predict_top_k_on_test_images(run, tmp_path, capsys):
    digits = load_images("digits")
    paths = [_png(tmp_path / f"d{i}.png", digits.test_x[i, 0]) for i in range(6)]
    assert main(["vision", "predict", "--checkpoint", str(run), *paths, "--top-k", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 6
    right = 0
    for i, line in enumerate(lines):
        fields = line.split()
        assert fields[0] == paths[i] and len(fields) == 5  # path, then 2 x (label:, prob)
        probs = [float(fields[2]), float(fields[4])]
        assert 0 <= probs[1] <= probs[0] <= 1
        right += fields[1].rstrip(":") == digits.classes[int(digits.test_y[i])]
    assert right >= 4


def test_predict_resize_and_wrong_inputs(run, tmp_path, capsys):
    big = _png(tmp_path / "big.png", np.full((16, 16), 200))
    colour = _png(tmp_path / "colour.png", np.random.default_rng(0).integers(0, 255, (8, 8, 3)))
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png at all")
    cases = [
        (big, "image is 16x16, the model wants 8x8 (pass --resize"),
        (colour, "a colour image, the model wants 1 channel"),
        (str(broken), "not a readable image"),
        (str(tmp_path / "missing.png"), "no such image file"),
    ]
    for path, words in cases:
        assert main(["vision", "predict", "--checkpoint", str(run), path]) == 2
        err = capsys.readouterr().err
        assert words in err and err.count("\n") == 1
    assert main(["vision", "predict", "--checkpoint", str(run), big, colour, "--resize"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 2


def test_show_writes_three_pngs(run, tmp_path, capsys):
    image = _png(tmp_path / "d.png", load_images("digits").test_x[0, 0])
    out = tmp_path / "pictures"
    assert (
        main(["vision", "show", "--checkpoint", str(run), "--image", image, "--out", str(out)]) == 0
    )
    assert main(["vision", "show", "--checkpoint", str(run), "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["confusion.png", "feature_maps.png", "filters.png"]
    assert all((out / n).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for n in names)


def test_models_lists_parameter_counts(monkeypatch, capsys):
    subset = {k: MODELS[k] for k in ("cnn", "vgg16", "resnet18", "resnet20", "plain20")}
    monkeypatch.setattr(cli_vision, "MODELS", subset)  # the full table takes seconds on 2 cores
    assert main(["vision", "models", "--num-classes", "1000", "--image-size", "224"]) == 0
    table = dict(line.split() for line in capsys.readouterr().out.splitlines()[1:])
    assert table["vgg16"] == "138,357,544" and table["resnet18"] == "11,689,512"
    assert table["resnet20"] == table["plain20"]  # option A shortcuts have no parameters
    assert main(["vision", "models", "--image-size", "0"]) == 2


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--model", "[(CONV3@32-RELU)*2-POOL]*2-(FC-RELU)*1"], "FC@128 at column 31"),
        (["--model", "CONV-RELLU"], "unknown layer 'RELLU'"),
        (["--model", "(CONV-RELU*2"], "missing ')'"),
        (["--model", "[CONV-POOL]*4,SOFTMAX"], "layer 8 (POOL at column 7) shrinks the 1x1"),
        (["--model", "resnet21"], "unknown model 'resnet21'"),
        (["--model", "resnet20", "--option", "shortcut=C"], "shortcut must be one of"),
        (["--model", "resnet20", "--option", "nonsense"], "--option must be KEY=VALUE"),
        (["--data", "folder:/no/such/folder"], "no such image folder"),
        (["--data", "nosuchset"], "unknown image data set"),
        (["--label-smoothing", "1.5"], "label_smoothing must be in [0, 1)"),
        (["--lr", "abc"], "lr"),
        (["--augment", "rotate(15"], "column"),
    ],
)
def test_train_bad_input_is_one_line_exit_2(argv, words, tmp_path, capsys):
    base = ["vision", "train", "--data", "digits", "--epochs", "1", "--quiet"]
    code = main([*base, "--out", str(tmp_path / "r"), *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert words in err, err
    assert err.startswith("reti: error:") and "Traceback" not in err


def test_empty_class_folder_is_an_error(tmp_path, capsys):
    for name, count in (("cats", 3), ("dogs", 0), ("owls", 3)):
        folder = tmp_path / "pics" / name
        folder.mkdir(parents=True)
        for i in range(count):
            _png(folder / f"{i}.png", np.full((8, 8), 40 * i))
    code = main(["vision", "train", "--data", f"folder:{tmp_path / 'pics'}", "--quiet"])
    assert code == 2
    assert "dogs have no training images" in capsys.readouterr().err


def test_bad_checkpoints(run, tmp_path, capsys):
    assert main(["vision", "eval", "--checkpoint", str(tmp_path / "nothing")]) == 2
    assert "nothing" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["vision", "eval", "--checkpoint", str(empty)]) == 2
    assert "neither" in capsys.readouterr().err
    # a run whose weights were truncated
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(run, broken)
    for f in (broken / "checkpoints").rglob("*.safetensors"):
        f.write_bytes(f.read_bytes()[:100])
    assert main(["vision", "eval", "--checkpoint", str(broken)]) == 2
    assert capsys.readouterr().err.startswith("reti: error:")


def test_population_bn_statistics_are_saved(tmp_path):
    from reti.layers import recompute_bn_stats
    from reti.tasks.vision import load_run, to_float

    out = tmp_path / "pop"
    argv = ["vision", "train", "--data", "digits", "--model", PATTERN, "--epochs", "1", "--quiet",
            "--device", "cpu", "--bn-stats", "population", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    model, mc = load_run(out)
    assert mc["bn_stats"] == "population"
    saved = model.net[1].running_mean.clone()
    recompute_bn_stats(model, [to_float(load_images("digits").train_x)])
    torch.testing.assert_close(model.net[1].running_mean, saved, rtol=1e-4, atol=1e-5)


def test_train_named_model_with_option_and_augment(tmp_path, capsys):
    from reti.tasks.vision import load_run

    out = tmp_path / "res"
    argv = ["vision", "train", "--data", "digits", "--model", "resnet20", "--option",
            "shortcut=B", "--augment", "mixup(0.2)", "--max-steps", "4", "--quiet",
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    assert "test accuracy" in capsys.readouterr().out
    model, mc = load_run(out)
    assert mc["options"] == {"shortcut": "B"} and mc["model"] == "resnet20"
    assert model.net.config.shortcut == "B"


def test_eval_on_data_of_another_shape(run, tmp_path, capsys):
    for name in ("a", "b"):
        (tmp_path / "pics" / name).mkdir(parents=True)
        for i in range(3):
            _png(tmp_path / "pics" / name / f"{i}.png", np.full((16, 16), 50 * i))
    code = main(["vision", "eval", "--checkpoint", str(run), "--data", f"folder:{tmp_path}/pics"])
    assert code == 2
    assert "the model wants (1, 8, 8)" in capsys.readouterr().err
