"""The pipeline contract (``reti.tasks.contract``) checked the same way over vision, series and
text, on tiny budgets: the same seed gives the same run, a stopped run resumed ends where one
run ends, a run's own config re-runs it, and a clean stop leaves a run that loads, evaluates
and predicts."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from reti.data.images import load_images
from reti.tasks import series, text, vision
from reti.tasks.contract import LoadedRun, Pipeline
from reti.train import RunControl, TrainConfig, TrainStep

CPU = {"device": "cpu", "quiet": True, "log_every": 1}


def _vision(tmp: Path, seed: int) -> vision.VisionConfig:
    return vision.VisionConfig(
        data="digits", model="CONV3@8-BN-RELU-POOL-FC@16-RELU-DROPOUT(0.2),SOFTMAX", limit=96,
        bn_stats="population", train=TrainConfig(batch_size=32, epochs=2, seed=seed, **CPU),
    )  # fmt: skip


def _series(tmp: Path, seed: int) -> series.SeriesConfig:
    rows = "".join(f"{i},{5 + math.sin(i / 3) + 0.01 * i:.4f}\n" for i in range(120))
    path = tmp / "s.csv"
    path.write_text("t,load\n" + rows, encoding="utf-8")
    return series.SeriesConfig(
        data=f"csv:{path}", time_column="t", window=24, horizon=4, channels=8, levels=2,
        dropout=0.1, train=TrainConfig(batch_size=16, epochs=2, seed=seed, **CPU),
    )  # fmt: skip


def _text(tmp: Path, seed: int) -> text.TextConfig:
    corpus = tmp / "corpus.txt"
    corpus.write_text("to be or not to be, that is the question. " * 20, encoding="utf-8")
    train = text.text_train_config(max_steps=6, batch_size=8, warmup_steps=2, seed=seed, **CPU)
    return text.TextConfig(data=str(corpus), n_ctx=16, n_layer=1, n_head=2, d_model=16,
                           dropout=0.1, val_windows=8, train=train)  # fmt: skip


def _digit_files(tmp: Path) -> list[str]:
    images = load_images("digits").test_x[:2]  # uint8 (2, 1, 8, 8)
    paths = []
    for i, image in enumerate(images):
        path = tmp / f"digit{i}.png"
        Image.fromarray(image[0].numpy().astype(np.uint8), mode="L").save(path)
        paths.append(str(path))
    return paths


CASES = {
    "vision": (vision.PIPELINE, _vision, _digit_files),
    "series": (series.PIPELINE, _series, lambda tmp: [2, 5]),
    "text": (text.PIPELINE, _text, lambda tmp: ["to be", "the "]),
}


@pytest.fixture(scope="module", params=list(CASES))
def case(request, tmp_path_factory):
    """(pipeline, a config maker, inputs to predict, the folder of one finished seed-0 run)."""
    pipeline, make, inputs = CASES[request.param]
    tmp = tmp_path_factory.mktemp(request.param)

    def config(name: str, seed: int = 0):
        return replace(make(tmp, seed), out=str(tmp / name))

    reference = config("reference")
    assert pipeline.train(reference).final is not None
    return pipeline, config, inputs(tmp), reference.out


def weights(pipeline: Pipeline, run: str) -> dict[str, torch.Tensor]:
    return pipeline.load_run(run).model.state_dict()


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def generators() -> tuple:
    """Python's, NumPy's and torch's global generator states, comparable with ``==``."""
    return random.getstate(), np.random.get_state()[1].tobytes(), torch.get_rng_state().tolist()


def test_same_seed_same_run_another_seed_another(case):
    pipeline, config, _, reference = case
    again, other = config("again"), config("other", seed=1)
    for cfg in (again, other):
        random.seed(7), np.random.seed(7), torch.manual_seed(7)  # the caller's own streams
        before = generators()
        assert pipeline.train(cfg).final is not None
        assert generators() == before  # the run seeded them for itself and put them back
    assert same(weights(pipeline, reference), weights(pipeline, again.out))
    assert not same(weights(pipeline, reference), weights(pipeline, other.out))


def test_a_stopped_run_resumed_ends_where_one_run_ends(case):
    pipeline, config, _, reference = case
    control = RunControl()

    def stop_at_step_3(event) -> None:
        if isinstance(event, TrainStep) and event.step == 3:
            control.request_stop()

    parts = config("parts")
    assert pipeline.train(parts, callbacks=[stop_at_step_3], control=control).stopped
    assert not same(weights(pipeline, reference), weights(pipeline, parts.out))
    assert not pipeline.train(parts, resume=True).stopped
    assert same(weights(pipeline, reference), weights(pipeline, parts.out))


def test_a_runs_own_config_re_runs_it(case):
    pipeline, config, _, reference = case
    again = replace(pipeline.config_of_run(reference), out=reference + "-again")
    assert isinstance(again, pipeline.config_type) and again.train == config("x").train
    pipeline.train(again)
    assert same(weights(pipeline, reference), weights(pipeline, again.out))


def test_a_clean_stop_leaves_a_run_that_loads_evaluates_and_predicts(case):
    pipeline, config, inputs, _ = case
    control = RunControl()
    control.request_stop()  # before the first step: the run takes one step and stops
    cfg = config("stopped")
    history = pipeline.train(cfg, control=control)
    assert history.stopped and history.steps[0]["step"] == 1
    loaded = pipeline.load_run(cfg.out)
    assert isinstance(loaded, LoadedRun) and not loaded.model.training
    assert loaded.config == replace(cfg, out=None)
    scores = pipeline.evaluate(cfg.out)
    assert scores and all(isinstance(v, float) and math.isfinite(v) for v in scores.values())
    answers = pipeline.predict(cfg.out, inputs)
    assert len(answers) == len(inputs)
