"""The lab reads a job's settings by the rules the CLI uses (reti.lab.settings): a bad value is
a 400 whose sentence is the one ``reti ... train`` prints for it, and the lab's budget is a
second, separate check."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from starlette.testclient import TestClient  # noqa: E402

from reti.cli.main import main  # noqa: E402
from reti.errors import ConfigError  # noqa: E402
from reti.lab.app import create_app  # noqa: E402
from reti.lab.dropout_job import dropout_params  # noqa: E402
from reti.lab.norm_job import params as norm_params  # noqa: E402
from reti.lab.runners import series_params, vision_params  # noqa: E402
from reti.lab.sequences import SAMPLING  # noqa: E402
from reti.lab.settings import read_settings  # noqa: E402

LAB = "http://127.0.0.1:8765"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """Without the app's lifespan: no worker starts, a job that gets through only waits."""
    return TestClient(create_app(tmp_path_factory.mktemp("lab"), gpt_steps=20), base_url=LAB)


def refused(response) -> str:
    assert response.status_code == 400, response.text
    return response.json()["error"]


@pytest.mark.parametrize(
    "kind, params, argv",
    [
        ("vision", {"epochs": 0}, ["vision", "train", "--epochs", "0"]),
        ("vision", {"lr": "-1"}, ["vision", "train", "--lr", "-1"]),  # the page sends text
        ("vision", {"limit": 0}, ["vision", "train", "--limit", "0"]),
        ("vision", {"batch_size": "0"}, ["vision", "train", "--batch-size", "0"]),
        ("norm", {"seed": -1}, ["vision", "train", "--seed", "-1"]),
        ("series", {"horizon": "0"}, ["series", "train", "--horizon", "0"]),
        ("series", {"season": 0}, ["series", "train", "--season", "0"]),
        ("series", {"task": "dance"}, ["series", "train", "--task", "dance"]),
        ("dropout", {"epochs": -3}, ["vision", "train", "--epochs", "-3"]),
    ],
)
def test_a_bad_setting_is_refused_in_the_clis_words(client, capsys, kind, params, argv):
    said = refused(client.post("/api/jobs", json={"kind": kind, "params": params}))
    assert main(argv) == 2
    assert capsys.readouterr().err == f"reti: error: {said}\n"
    assert said.startswith(next(iter(params)) + " must be ")


def test_text_that_is_not_of_the_fields_type_names_the_setting(client):
    said = refused(client.post("/api/jobs", json={"kind": "vision", "params": {"epochs": "x"}}))
    assert said == "epochs must be int, got 'x'"
    said = refused(client.post("/api/jobs", json={"kind": "vision", "params": {"epochs": 2.5}}))
    assert said == "epochs must be an integer >= 1, got 2.5"


def test_the_budget_is_a_separate_check_after_the_rule():
    with pytest.raises(ConfigError, match=r"^epochs must be in \[1, 50\] in the lab, got 999$"):
        vision_params({"epochs": 999})
    with pytest.raises(ConfigError, match=r"^horizon must be in \[1, 48\] in the lab, got 49$"):
        series_params({"horizon": "49"})
    with pytest.raises(ConfigError, match=r"^p must be in \[0, 1\), got 1.5$"):  # MLPConfig's
        dropout_params({"p": 1.5})
    with pytest.raises(ConfigError, match=r"^p must be in \[0.05, 0.9\] in the lab, got 0.95$"):
        dropout_params({"p": 0.95})
    with pytest.raises(
        ConfigError, match=r"^seed must be in \[0, 2147483648\] in the lab, got \[\]$"
    ):
        read_settings({"seed": []}, "sampling", SAMPLING)  # a field without a rule: the budget


def test_settings_are_typed_as_the_config_fields_and_defaults_fill_in():
    p = vision_params({"epochs": "2", "lr": "0.01", "limit": ""})
    assert (p["epochs"], p["lr"], p["limit"], p["seed"]) == (2, 0.01, None, 0)
    assert norm_params({"limit": "61"}) == {"epochs": 20, "limit": 61, "seed": 0}
    assert series_params({"task": "anomaly", "season": "none"})["season"] is None
    with pytest.raises(ConfigError, match="norm jobs take epochs, limit, seed; unknown: 'p'"):
        norm_params({"p": 1})


def test_a_lab_job_leaves_the_workers_generators_as_it_found_them(tmp_path):
    """The norm job seeds torch for its models' init and dropout, inside reti.runtime.seeded:
    the thread that ran it finds torch's global generator where it was; same seed, same job."""
    from reti.lab.jobs import Job
    from reti.lab.norm_job import run

    torch.manual_seed(123)
    before = torch.get_rng_state()
    results = [
        run(Job(tmp_path / name, "norm", {"epochs": 1, "limit": 20, "seed": 4}), lambda e: None)
        for name in ("a", "b")
    ]
    assert torch.equal(torch.get_rng_state(), before)
    assert results[0] == results[1] and len(results[0]["arms"]) == 3
