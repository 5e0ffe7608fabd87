"""What a new user meets first: `reti notebooks DIR`, and errors that say what to do next (a
mistyped command, another pipeline's run, a CSV with a text column)."""

from __future__ import annotations

import json

import pytest

from reti.cli import notebooks as cli_notebooks
from reti.cli.main import main
from reti.data.series import read_csv
from reti.errors import DataError, DataNotFoundError

NAMES = [
    "01_foundations_connectivity.ipynb",
    "02_cnn_pattern_vgg.ipynb",
    "03_dropout_residual.ipynb",
    "04_normalization.ipynb",
    "05_data_augmentation.ipynb",
    "06_series.ipynb",
    "07_attention_tokens_temperature.ipynb",
]


def test_notebooks_are_copied_and_the_way_to_open_them_is_printed(tmp_path, capsys):
    target = tmp_path / "corso"
    assert main(["notebooks", str(target)]) == 0
    out = capsys.readouterr().out
    assert sorted(p.name for p in target.iterdir()) == NAMES
    assert "7 notebook(s) copied" in out and f"jupyter lab {target}" in out
    source = cli_notebooks.source_folder()
    assert (target / NAMES[2]).read_bytes() == (source / NAMES[2]).read_bytes()


def test_a_notebook_already_there_is_never_overwritten(tmp_path, capsys):
    (tmp_path / NAMES[0]).write_text("my answers")
    assert main(["notebooks", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / NAMES[0]).read_text() == "my answers"
    assert "6 notebook(s) copied" in out and "1 kept as they were" in out and NAMES[0] in out


def test_a_file_as_the_folder_is_one_line(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    assert main(["notebooks", str(tmp_path / "f")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reti: error:") and "is a file" in err and len(err.splitlines()) == 1


def test_the_package_copy_comes_first_then_the_clone(tmp_path, monkeypatch):
    # a wheel puts them in reti/notebooks (setup.py); a clone has them in notebooks/
    package = tmp_path / "site" / "reti"
    (package / "notebooks").mkdir(parents=True)
    (package / "notebooks" / "01_x.ipynb").write_text("{}")
    monkeypatch.setattr(cli_notebooks, "PACKAGE", package)
    assert cli_notebooks.source_folder() == package / "notebooks"
    (package / "notebooks" / "01_x.ipynb").unlink()
    (tmp_path / "site" / "notebooks").mkdir()
    (tmp_path / "site" / "notebooks" / "01_y.ipynb").write_text("{}")
    assert cli_notebooks.source_folder() == tmp_path / "site" / "notebooks"
    (tmp_path / "site" / "notebooks" / "01_y.ipynb").unlink()
    with pytest.raises(DataNotFoundError, match="has no notebooks"):
        cli_notebooks.source_folder()


@pytest.mark.parametrize(
    ("argv", "suggestion"),
    [
        (["visoin"], "did you mean 'vision'?"),
        (["notebook"], "did you mean 'notebooks'?"),
        (["vision", "trian"], "did you mean 'train'?"),
        (["text", "genrate"], "did you mean 'generate'?"),
        (["xyzzy"], None),
    ],
)
def test_a_mistyped_command_suggests_the_closest(argv, suggestion, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "invalid choice" in err
    if suggestion is None:
        assert "did you mean" not in err
    else:
        assert suggestion in err


def _fake_run(folder, model_config):
    """A checkpoint folder with only its meta: enough for the kind check, which reads no
    tensors (the check must come before any weights are loaded)."""
    folder.mkdir()
    meta = {"model_config": model_config, "train_config": {}, "step": 1}
    (folder / "meta.json").write_text(json.dumps(meta))
    return str(folder)


@pytest.mark.parametrize(
    ("argv", "config", "words"),
    [
        (["text", "generate", "--prompt", "a"], {"task": "vision"},
         ["is a `reti vision` run", "`reti text generate` needs a `reti text` run",
          "reti vision predict"]),
        (["vision", "predict", "x.png"], {"text": {}, "gpt": {}},
         ["is a `reti text` run", "reti text generate"]),
        (["vision", "eval"], {"series": {"task": "forecast"}},
         ["is a `reti series` run", "reti series forecast"]),
        (["series", "forecast"], {"task": "vision"}, ["is a `reti vision` run"]),
    ],
)  # fmt: skip
def test_another_pipelines_run_names_its_kind_and_the_command_that_fits(
    argv, config, words, tmp_path, capsys
):
    checkpoint = _fake_run(tmp_path / "run", config)
    assert main([*argv, "--checkpoint", checkpoint]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reti: error:") and len(err.splitlines()) == 1
    for word in words:
        assert word in err


def test_a_csv_with_a_text_column_suggests_columns(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text("month,city,sold,price\n2020-01,Roma,3,1.5\n2020-02,Roma,4,1.5\n")
    with pytest.raises(DataError) as error:
        read_csv(path)
    message = str(error.value)
    assert "row 2, column 'month': '2020-01' is not a number" in message
    assert "text columns ['month', 'city']" in message and "--columns sold,price" in message
    assert read_csv(path, columns=["sold", "price"]).values.shape == (2, 2)  # the advice works
    # a stray word further down is a typo in one row, not a text column: no advice
    path.write_text("sold\n3\n4\nfour\n")
    with pytest.raises(DataError) as error:
        read_csv(path)
    assert "--columns" not in str(error.value) and "row 4" in str(error.value)
