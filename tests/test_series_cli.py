"""`reti series` from the command line: the commands of docs/series.md, and bad input -> exit 2."""

from __future__ import annotations

import json
import math

import pytest
import torch

from reti.cli.main import main

SMALL = ["--epochs", "1", "--max-steps", "2", "--quiet", "--device", "cpu"]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _csv(tmp_path, text, name="s.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _sine_csv(tmp_path, n=200):
    rows = "".join(f"d{i},{5 + math.sin(i / 3):.4f},{i % 7}\n" for i in range(n))
    return _csv(tmp_path, "date,load,other\n" + rows, "my.csv")


def test_data_lists_the_builtin_sets(capsys):
    assert main(["series", "data"]) == 0
    out = capsys.readouterr().out
    assert "co2 (52)" in out and "GunPoint" in out and "kdd-tsad-135" in out


def test_train_csv_then_forecast_writes_csv_and_png(tmp_path, capsys):
    path = _sine_csv(tmp_path)
    run = tmp_path / "run"
    cmd = ["series", "train", "--data", f"csv:{path}", "--columns", "load", "--time-column",
           "date", "--horizon", "24", "--out", str(run)]  # fmt: skip
    assert main(cmd + SMALL) == 0
    out = capsys.readouterr().out
    assert "tcn (direct head)" in out and "seasonal naive" not in out  # no season for csv
    results = json.loads((run / "results.json").read_text())
    assert "naive" in results["baselines"]
    assert main(["series", "forecast", "--checkpoint", str(run), "--steps", "30"]) == 0
    lines = (run / "forecast.csv").read_text().splitlines()
    assert lines[0] == "step,forecast,truth,seasonal_naive" and len(lines) == 31
    assert (run / "forecast.png").stat().st_size > 1000


@pytest.mark.network
def test_docs_commands_on_builtin_sets(tmp_path, capsys):
    co2 = str(tmp_path / "co2")
    cmd = ["series", "train", "--data", "co2", "--missing", "interpolate", "--task", "forecast",
           "--model", "tcn", "--horizon", "12", "--out", co2]  # fmt: skip
    assert main(cmd + SMALL) == 0
    assert "seasonal naive (m=52)" in capsys.readouterr().out
    assert main(["series", "forecast", "--checkpoint", co2, "--steps", "52"]) == 0
    air = ["series", "train", "--data", "airline", "--horizon", "12", "--window", "24",
           "--levels", "2", "--compare", "--out", str(tmp_path / "air")]  # fmt: skip
    assert main(air + SMALL) == 0
    assert "autoregressive rollout" in capsys.readouterr().out
    gun = ["series", "classify", "--data", "GunPoint", "--model", "fcn", "--channels", "8",
           "--batch-size", "16", "--lr", "0.003", "--schedule", "cosine", "--warmup-steps", "20",
           "--out", str(tmp_path / "gun")]  # fmt: skip
    assert main(gun + SMALL) == 0
    assert "majority class (baseline)" in capsys.readouterr().out
    kdd = ["series", "anomalies", "--data", "kdd-tsad-135", "--window", "64",
           "--out", str(tmp_path / "kdd")]  # fmt: skip
    assert main(kdd + SMALL) == 0
    assert (tmp_path / "kdd" / "anomalies.png").is_file()
    assert "point-adjusted f1" in capsys.readouterr().out
    filt = ["series", "filter", "--data", "airline", "--noise", "0.5", "--out", str(tmp_path / "f")]
    assert main(filt + SMALL) == 0
    assert "moving average (baseline)" in capsys.readouterr().out


def test_constant_series_trains_without_dividing_by_zero(tmp_path, capsys):
    path = _csv(tmp_path, "v\n" + "3.0\n" * 120)
    args = ["series", "train", "--data", f"csv:{path}", "--horizon", "2", "--levels", "2"]
    assert main(args + ["--out", str(tmp_path / "c")] + SMALL) == 0
    assert "n/a" in capsys.readouterr().out  # MASE is undefined for a constant training part


def _fails(capsys, argv, match):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("reti: error:") and match in err, err
    assert "Traceback" not in err


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    good = _sine_csv(tmp_path)
    train = ["series", "train", "--out", str(tmp_path / "bad")]
    ragged = _csv(tmp_path, "a,b\n1,2\n3\n", "ragged.csv")
    _fails(capsys, train + ["--data", f"csv:{ragged}"], "row 3 has 1 fields")
    short = _csv(tmp_path, "v\n" + "".join(f"{i}\n" for i in range(20)), "short.csv")
    _fails(capsys, train + ["--data", f"csv:{short}", "--window", "16"], "shorter than window")
    _fails(capsys, train + ["--data", f"csv:{good}", "--columns", "load", "--window", "10"],
           "shorter than the model's receptive field 61")  # fmt: skip
    nan = _csv(tmp_path, "a,b\n" + "1,\n" * 50, "nan.csv")
    _fails(capsys, train + ["--data", f"csv:{nan}", "--missing", "interpolate"], "all NaN")
    _fails(capsys, train + ["--data", f"csv:{good}", "--horizon", "0"], "horizon must be >= 1")
    _fails(capsys, train + ["--data", f"csv:{good}", "--columns", "nope"], "unknown column 'nope'")
    _fails(capsys, train + ["--data", f"csv:{tmp_path / 'none.csv'}"], "does not exist")
    fcn_b = ["--data", f"csv:{good}", "--columns", "load", "--model", "fcn", "--method", "rollout"]
    _fails(capsys, train + fcn_b, "needs a causal model")
    _fails(capsys, train + ["--data", f"csv:{good}"], "'d0' is not a number")
    _fails(capsys, train + ["--task", "dance"], "task must be one of")
    _fails(capsys, train + ["--data", f"csv:{good}", "--lr", "-1"], "lr must be")


def test_bad_ts_header_and_bad_checkpoint(tmp_path, capsys):
    folder = tmp_path / "Toy"
    folder.mkdir()
    (folder / "Toy_TRAIN.ts").write_text("@problemName Toy\n@bogus x\n@data\n1,2:a\n")
    (folder / "Toy_TEST.ts").write_text("@problemName Toy\n@data\n1,2:a\n")
    _fails(capsys, ["series", "classify", "--data", f"ts:{folder}"], "line 2: unknown header tag")
    broken = tmp_path / "ckpt"
    broken.mkdir()
    (broken / "meta.json").write_text("{not json")
    (broken / "model.safetensors").write_bytes(b"garbage")
    _fails(capsys, ["series", "forecast", "--checkpoint", str(broken)], "")
    _fails(capsys, ["series", "forecast", "--checkpoint", str(tmp_path / "none")], "does not exist")
    _fails(capsys, ["series", "forecast", "--checkpoint", str(broken), "--steps", "0"], "--steps")


def test_transformer_rollout_and_forecast_from_a_non_forecast_run(tmp_path, capsys):
    path = _sine_csv(tmp_path)
    data = ["--data", f"csv:{path}", "--columns", "load", "--horizon", "4", "--window", "16"]
    run = str(tmp_path / "tr")
    cmd = ["series", "train", *data, "--model", "transformer", "--method", "rollout", "--levels",
           "1", "--channels", "16", "--out", run]  # fmt: skip
    assert main(cmd + SMALL) == 0
    assert "transformer (autoregressive rollout)" in capsys.readouterr().out
    assert main(["series", "forecast", "--checkpoint", run, "--steps", "5"]) == 0
    filt = str(tmp_path / "filt")
    assert main(["series", "filter", *data[:4], "--out", filt] + SMALL) == 0
    _fails(capsys, ["series", "forecast", "--checkpoint", filt], "holds a 'filter' model")
    _fails(capsys, ["series", "anomalies", "--data", f"csv:{path}", "--model", "fcn"], "causal")
    _fails(capsys, ["series", "anomalies", "--data", f"csv:{path}"], "need a column is_anomaly")


@pytest.mark.parametrize(
    "argv, task, recipe",
    [
        (["train"], "forecast", (150, 16, 1e-2)),
        (["classify"], "classify", (150, 16, 3e-3)),
        (["train", "--task", "filter"], "filter", (150, 16, 3e-3)),
        (["anomalies"], "anomaly", (1, 64, 1e-3)),  # the trainer's own
    ],
)
def test_the_cli_default_is_the_documented_recipe(argv, task, recipe, tmp_path, monkeypatch):
    """`reti series train` without flags runs SeriesConfig(): 150 epochs of batch 16 at lr 1e-2,
    the recipe docs/performance.md times to seasonal naive's MASE (the trainer's own 1 epoch of
    batch 64 left airline's forecast worse than naive); each task's command takes its own."""
    from reti.cli import series as cli_series
    from reti.tasks import series

    seen = []

    def fake_run(cfg, **kwargs):
        seen.append(cfg)
        raise SystemExit(0)  # what was asked for is all this test needs

    monkeypatch.setattr(cli_series.series, "run", fake_run)
    with pytest.raises(SystemExit):
        main(["series", *argv, "--out", str(tmp_path / "run")])
    (cfg,) = seen
    train = series.series_train_config(task)
    assert cfg == series.SeriesConfig(task=task, out=str(tmp_path / "run"), train=train)
    assert (cfg.train.epochs, cfg.train.batch_size, cfg.train.lr) == recipe
    if task == "forecast":
        assert cfg == series.SeriesConfig(out=str(tmp_path / "run"))  # the API's default too


@pytest.mark.parametrize("task", ["forecast", "classify", "anomaly", "filter"])
def test_a_series_config_without_train_takes_its_tasks_defaults(task):
    from reti.tasks import series

    cfg = series.SeriesConfig(task=task)
    assert cfg.train == series.series_train_config(task)
    mine = series.series_train_config(task, epochs=2)
    assert series.SeriesConfig(task=task, train=mine).train is mine  # a given one is kept
