"""The text pipeline's run contract on a tiny corpus: one seed gives the same run, a run's
config.json re-runs it, and a failed train into an existing run leaves every file of it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from reti.cli.main import main
from reti.tasks import text as task

pytestmark = pytest.mark.usefixtures("one_thread")
TIMING = {"seconds", "samples_per_s", "tokens_per_s", "mfu"}
CORPUS = "ROMEO: But soft, what light through yonder window breaks?\n" * 40
SMALL = ["--n-layer", "1", "--n-head", "2", "--d-model", "16", "--n-ctx", "16", "--dropout",
         "0.1", "--batch-size", "8", "--max-steps", "6", "--eval-every", "3",
         "--quiet"]  # fmt: skip


@pytest.fixture
def corpus(tmp_path) -> str:
    path = tmp_path / "plays.txt"
    path.write_text(CORPUS, encoding="utf-8")
    return str(path)


def files(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()}


def rows(run: Path, name: str) -> list[dict[str, str]]:
    """A CSV's rows without the timing columns (the only ones that may differ)."""
    with open(run / name, newline="") as fh:
        return [{k: v for k, v in r.items() if k not in TIMING} for r in csv.DictReader(fh)]


def weights(run: Path) -> bytes:
    latest = (run / "checkpoints" / "latest").read_text().strip()
    return (run / "checkpoints" / latest / "tensors.safetensors").read_bytes()


def test_same_command_twice_same_weights_and_the_config_replays_it(corpus, tmp_path, capsys):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for out in (a, b):
        assert main(["text", "train", "--data", corpus, *SMALL, "--out", str(out)]) == 0
    assert weights(a) == weights(b) and rows(a, "metrics.csv") == rows(b, "metrics.csv")
    assert rows(a, "steps.csv") == rows(b, "steps.csv") and len(rows(a, "steps.csv")) >= 2
    assert (a / "tokenizer.json").read_bytes() == (b / "tokenizer.json").read_bytes()
    assert main(["text", "train", "--config", str(a / "config.json"), "--out", str(c)]) == 0
    assert weights(a) == weights(c)
    saved = json.loads((c / "config.json").read_text())
    assert saved["model_config"]["text"]["d_model"] == 16
    assert saved["train_config"]["max_steps"] == 6 and saved["train_config"]["eval_every"] == 3


def test_a_failed_train_into_an_existing_run_leaves_it_intact(corpus, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["text", "train", "--data", corpus, *SMALL, "--out", str(run)]) == 0
    before = files(run)
    capsys.readouterr()
    # impossible settings (a context longer than the text; with another tokenizer) and a
    # refusal without --overwrite: nothing of the old run is touched
    for extra in (["--n-ctx", "5000", "--tokenizer", "word", "--overwrite"], []):
        argv = ["text", "train", "--data", corpus, *SMALL, *extra, "--out", str(run)]
        assert main(argv) == 2
        assert capsys.readouterr().err.startswith("reti: error:")
        assert files(run) == before
    model, tok, cfg = task.load_run(run)
    assert tok.vocab_size == model.config.vocab_size and cfg["tokenizer"] == "char"


def test_the_api_default_evaluates_every_250_steps():
    assert task.TextConfig().train.eval_every == 250
    assert task.TextConfig().train.max_steps == 500
