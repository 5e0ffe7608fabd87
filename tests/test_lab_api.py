"""The lab's JSON API through Starlette's test client: every endpoint against hand-worked values,
the bad requests (each a 4xx JSON error), the token, uploads' caps and path traversal."""

from __future__ import annotations

import io
import json
import math
import time
import zipfile

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from starlette.testclient import TestClient  # noqa: E402

from reti.data.images import load_images  # noqa: E402
from reti.lab.app import Limits, create_app  # noqa: E402

LAB = "http://127.0.0.1:8765"  # the lab answers only requests addressed to itself


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("lab")


@pytest.fixture(scope="module")
def client(root):
    limits = Limits(body_bytes=20_000, upload_bytes=5_000, csv_rows=50, image_pixels=64 * 64,
                    zip_files=50, zip_unpacked_bytes=1_000_000)  # fmt: skip
    with TestClient(create_app(root, limits=limits, gpt_steps=20), base_url=LAB) as c:
        yield c


def bad(response, status=400) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"error"} and "Traceback" not in body["error"]
    return body["error"]


def wait(client, job_id, timeout=120):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


def test_every_page_and_static_file_is_served(client):
    for page in ("connectivity", "cnn", "normalization", "augment", "series", "text", "claims"):
        r = client.get(f"/page/{page}")
        assert r.status_code == 200 and f'data-page="{page}"' in r.text
        assert client.get(f"/static/{page}.js").status_code == 200
    assert client.get("/").status_code == 200
    assert "no page" in bad(client.get("/page/nothing"), 404)
    bad(client.get("/api/does-not-exist"), 404)
    bad(client.post("/api/connectivity"), 405)


def test_i18n_has_the_same_keys_in_both_languages(client):
    en, it = client.get("/api/i18n?lang=en").json(), client.get("/api/i18n?lang=it").json()
    assert set(en) == set(it) and len(en) > 50
    assert en["lab.nav.text"] == "Text" and it["lab.nav.text"] == "Testo"
    assert "lang" in bad(client.get("/api/i18n?lang=fr"))


def test_connectivity_marks_the_notes_counts(client):
    rows = client.get("/api/connectivity").json()["rows"]
    assert [r["total"] for r in rows] == [10**12, 10**8, 10**4]
    assert all(r["matches_notes"] for r in rows)
    q = "image=32&hidden=100&kernel=5&filters=8"
    rows = client.get(f"/api/connectivity?{q}").json()["rows"]
    # FC 32*32 inputs x 100 units; LC 100 units x 5*5; conv 8 filters x 5*5
    assert [r["total"] for r in rows] == [102_400, 2_500, 200]
    assert not any(r["matches_notes"] for r in rows)
    assert "hidden" in bad(client.get("/api/connectivity?hidden=abc"))
    assert "kernel" in bad(client.get("/api/connectivity?image=4&kernel=9"))


def test_pattern_table_has_shapes_and_params(client):
    data = client.get("/api/pattern?model=CONV3@16-RELU-POOL-FC@10,SOFTMAX&data=digits").json()
    assert data["input"] == [1, 8, 8]
    shapes = [r["shape"] for r in data["layers"]]
    assert shapes[:3] == [[16, 8, 8], [16, 8, 8], [16, 4, 4]]
    assert data["layers"][0]["params"] == 16 * 9 + 16
    assert data["total"] == 160 + (16 * 4 * 4 * 10 + 10) + (10 * 10 + 10)
    for name in ("vgg11", "resnet20"):
        assert client.get(f"/api/pattern?model={name}&data=mnist").json()["total"] > 10_000
    r = client.get("/api/pattern?model=CONV3@8-RELU-POOX")
    bad(r)
    assert r.json()["column"] == 14  # 'POOX' starts at the 14th character
    assert "data" in bad(client.get("/api/pattern?data=imagenet"))
    bad(client.get("/api/pattern?model=" + "CONV-" * 200))
    models = client.get("/api/models").json()
    assert "resnet20" in models["models"] and models["default"].endswith("SOFTMAX")


def test_dropout_inverted_vs_standard(client):
    d = client.get("/api/dropout?p=0.5&seed=3").json()
    x = d["x"]
    inv, std = d["inverted"], d["standard"]
    assert inv["eval"] == pytest.approx(x)  # inverted: eval is the identity
    assert std["eval"] == pytest.approx([0.5 * v for v in x])  # standard: (1 - p) x
    for v, t in zip(x, inv["train"]):
        assert t == pytest.approx(0) or t == pytest.approx(2 * v)
    for v, t in zip(x, std["train"]):
        assert t == pytest.approx(0) or t == pytest.approx(v)
    assert inv["train_mean"] == pytest.approx(inv["eval_mean"], rel=0.05)
    assert std["train_mean"] == pytest.approx(std["eval_mean"], rel=0.05)
    assert "p" in bad(client.get("/api/dropout?p=1.5"))


def test_batch_norm_spreads_with_tiny_batches_layer_norm_does_not(client):
    tiny, big = client.get("/api/norm?batch=2").json(), client.get("/api/norm?batch=256").json()
    # with two samples BN maps each feature to exactly -1 or +1 (up to eps)
    assert all(abs(abs(v) - 1) < 1e-2 for v in tiny["bn_values"])
    assert tiny["bn_std"] > 3 * big["bn_std"]
    assert big["bn_mean"] == pytest.approx(big["population"], abs=0.15)
    assert tiny["ln_value"] == big["ln_value"]
    assert big["moving_mean"] == pytest.approx(big["true_mean"], abs=0.3)  # the moving average
    bad(client.get("/api/norm?batch=1"))


def test_augmentation_grid_is_seeded_and_real(client):
    raw = client.get("/api/augment?spec=&count=16").json()
    assert raw["shape"] == [16, 1, 8, 8]
    assert raw["pixels"] == load_images("digits").test_x[:16].flatten().tolist()
    a = client.get("/api/augment?spec=rotate(30),crop(2)&seed=1").json()
    b = client.get("/api/augment?spec=rotate(30),crop(2)&seed=1").json()
    c = client.get("/api/augment?spec=rotate(30),crop(2)&seed=2").json()
    assert a["pixels"] == b["pixels"] != c["pixels"]
    mixed = client.get("/api/augment?spec=mixup(1.0)&count=8").json()
    for row in mixed["labels"]:
        assert sum(row) == pytest.approx(1.0) and sum(v > 0 for v in row) <= 2
    png = client.get("/api/augment?spec=hflip&format=png")
    assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
    r = client.get("/api/augment?spec=hflip,crop(")
    assert "column" in bad(r)
    bad(client.get("/api/augment?count=1000"))


def test_causal_output_ignores_the_future(client):
    d = client.get("/api/series/causal?step=30&kernel=3&levels=3").json()
    causal, ordinary = d["causal"], d["ordinary"]
    assert max(causal["field"]) == 30 and len(causal["field"]) == 1 + 2 * (1 + 2 + 4)
    assert causal["change_at_step"] == 0.0
    assert max(ordinary["field"]) > 30 and ordinary["change_at_step"] > 0
    assert causal["output"][:31] == causal["output_perturbed"][:31]
    assert "odd" in bad(client.get("/api/series/causal?kernel=4"))
    bad(client.get("/api/series/causal?step=-1"))


def test_tokenizers_side_by_side(client):
    d = client.post("/api/tokenize", json={"text": "Hello world"}).json()["tokenizers"]
    assert d["gpt2"]["ids"] == [15496, 995]  # GPT-2's own ids for "Hello" and " world"
    assert "".join(d["char"]["pieces"]) == "Hello world" and d["char"]["count"] == 11
    assert "".join(d["bpe"]["pieces"]) == "Hello world" and d["bpe"]["count"] < 11
    one = client.post("/api/tokenize", json={"text": "ciao 🙂", "kinds": ["gpt2"]}).json()
    assert list(one["tokenizers"]) == ["gpt2"]
    bad(client.post("/api/tokenize", json={"text": "x" * 3000}))
    bad(client.post("/api/tokenize", json={"text": "x", "kinds": ["nope"]}))
    as_json = {"Content-Type": "application/json"}
    bad(client.post("/api/tokenize", content=b"not json", headers=as_json))
    bad(client.post("/api/tokenize", content=b"[1, 2]", headers=as_json))
    bad(client.post("/api/tokenize", content=b"x" * 30_000, headers=as_json), 413)


def gpt_ready(client) -> None:
    """Wait for the char GPT's training job (first in the queue of a new lab folder)."""
    (job,) = [j for j in client.get("/api/jobs").json()["jobs"] if j["kind"] == "chargpt"]
    assert wait(client, job["id"])["status"] == "done"


def test_sampling_step_temperature_zero_is_the_argmax(client):
    gpt_ready(client)
    assert client.get("/api/text/ready").json() == {"ready": True, "error": None}
    body = {"prompt": "ROMEO:", "temperature": 0}
    a = client.post("/api/text/step", json=body).json()
    b = client.post("/api/text/step", json=body).json()
    assert a == b and a["top"][0]["p"] == 1.0 and a["token"] == a["top"][0]["id"]
    k1 = client.post("/api/text/step", json={**body, "temperature": 1.5, "top_k": 1}).json()
    assert k1["token"] == a["token"]  # top-k 1 leaves only the most likely token
    warm = client.post("/api/text/step", json={**body, "temperature": 1.0}).json()
    assert sum(t["p"] for t in warm["top"]) <= 1.0 + 1e-6
    assert "temperature" in bad(client.post("/api/text/step", json={**body, "temperature": -1}))
    assert "top_p" in bad(client.post("/api/text/step", json={**body, "top_p": 2}))
    assert "empty" in bad(client.post("/api/text/step", json={"prompt": ""}))


def test_attention_maps_are_causal_distributions(client):
    gpt_ready(client)
    d = client.post("/api/text/attention", json={"prompt": "To be"}).json()
    assert d["tokens"] == list("To be")
    for layer in d["layers"]:
        for head in layer:
            for i, row in enumerate(head):
                assert sum(row) == pytest.approx(1.0, abs=1e-5)
                assert all(v == 0 for v in row[i + 1 :])


def test_position_biases(client):
    d = client.get("/api/text/positions?n=4").json()
    assert d["alibi"][0][0][1] is None  # the future is masked
    assert d["alibi"][0][3][0] == pytest.approx(-0.25 * 3)  # 4 heads: slope 2^-2, distance 3
    assert d["sinusoidal"][0][:2] == [0.0, 1.0]  # p(0): sin 0, cos 0
    assert d["relative_buckets"][2][0] == 2  # distances below half the buckets are exact
    bad(client.get("/api/text/positions?n=1000"))


def test_claims_are_listed(client):
    from reti.claims.registry import CLAIMS

    claims = client.get("/api/claims").json()["claims"]
    assert [c["name"] for c in claims] == [c.name for c in CLAIMS]


def test_vision_job_streams_events_and_gives_a_model(client):
    params = {"data": "digits", "epochs": 1, "limit": 320, "batch_size": 32}
    r = client.post("/api/jobs", json={"kind": "vision", "params": params})
    assert r.status_code == 201
    job = wait(client, r.json()["id"])
    assert job["status"] == "done", job
    with client.stream("GET", f"/api/jobs/{job['id']}/events") as s:
        text = "".join(s.iter_text())
    events = [json.loads(line[6:]) for line in text.splitlines() if line.startswith('data: {"n')]
    assert sum(e["kind"] == "train" for e in events) >= 1
    assert any(e["kind"] == "pictures" and e["filters"]["shape"][0] == 16 for e in events)
    assert events[-1] == {"n": len(events) - 1, "kind": "status", "status": "done", "error": None}
    later = client.get(f"/api/jobs/{job['id']}/events?after={len(events) - 1}").text
    assert later.count('data: {"n"') == 1
    result = job["result"]
    assert sum(map(sum, result["confusion"])) == 300 and 0 <= result["accuracy"] <= 1
    assert result["command"].startswith("reti vision train --data digits --model ")
    zipped = zipfile.ZipFile(io.BytesIO(client.get(f"/api/jobs/{job['id']}/checkpoint").content))
    names = {n.split("/")[-1] for n in zipped.namelist()}
    assert "meta.json" in names and any(n.endswith(".safetensors") for n in names)
    bar = [float(k % 8 == 4) for k in range(64)]  # a drawn "1": one column of ink
    probs = client.post(f"/api/jobs/{job['id']}/predict", json={"pixels": bar}).json()
    assert len(probs["probs"]) == 10 and sum(probs["probs"]) == pytest.approx(1.0, abs=1e-5)
    assert len(probs["input"]) == 8 and len(probs["input"][0]) == 8  # what the 8x8 net saw
    assert "no ink" in bad(
        client.post(f"/api/jobs/{job['id']}/predict", json={"pixels": [0.0] * 64})
    )
    bad(client.post(f"/api/jobs/{job['id']}/predict", json={"pixels": [0.0] * 10}))
    bad(client.post(f"/api/jobs/{job['id']}/predict", json={"pixels": [2.0] * 64}))
    assert "only a queued or running" in bad(client.post(f"/api/jobs/{job['id']}/stop"))
    bad(client.post(f"/api/jobs/{job['id']}/resume"))
    assert job["id"] in [j["id"] for j in client.get("/api/jobs").json()["jobs"]]
    # an uploaded image goes through Pillow, capped in bytes and pixels
    from PIL import Image

    def png(side):  # a dark stroke on white paper
        buffer = io.BytesIO()
        image = Image.new("L", (side, side), 255)
        image.paste(0, (side // 2 - 1, 2, side // 2 + 1, side - 2))
        image.save(buffer, format="PNG")
        return buffer.getvalue()

    url = f"/api/jobs/{job['id']}/predict"
    ok = client.post(url, files={"image": ("d.png", png(16), "image/png")})
    assert ok.status_code == 200 and len(ok.json()["probs"]) == 10
    assert "pixels" in bad(client.post(url, files={"image": ("d.png", png(100), "image/png")}))
    assert "readable" in bad(client.post(url, files={"image": ("d.png", b"GIF89a..", "image/png")}))


def test_a_lab_job_trains_what_its_command_trains(client, tmp_path):
    """Same seed, same run: the job's final numbers equal those of the pipeline the printed
    ``reti vision train`` command runs (the pictures drawn during training draw no randomness);
    and the lab's model loader gives the same predictions as reti.tasks.vision.load_run."""
    import torch

    from reti.lab.runners import load_classifier
    from reti.tasks import vision as vt

    params = {"data": "digits", "epochs": 1, "limit": 256, "batch_size": 32, "seed": 5,
              "model": "CONV3@8-RELU-DROPOUT(0.3)-POOL-FC@10,SOFTMAX"}  # fmt: skip
    job = client.post("/api/jobs", json={"kind": "vision", "params": params}).json()
    job = wait(client, job["id"])
    assert job["status"] == "done", job
    assert "pictures" in client.get(f"/api/jobs/{job['id']}/events").text
    # what `reti vision train --data digits --model ... --epochs 1 --batch-size 32 --lr 0.003
    # --seed 5 --limit 256` runs (the job also logs, evaluates and checkpoints more often)
    assert "--epochs 1 --batch-size 32 --lr 0.003 --seed 5 --limit 256" in job["result"]["command"]
    train = vt.vision_train_config(
        epochs=1, batch_size=32, lr=0.003, seed=5, device="cpu", quiet=True
    )
    alone = vt.train(vt.VisionConfig(
        data="digits", model=params["model"], out=str(tmp_path / "alone"), limit=256, train=train
    ))  # fmt: skip
    assert alone.final["val_loss"] == job["result"]["final"]["val_loss"]
    run_dir = client.app.state.lab.jobs.get(job["id"]).run_dir
    ours, _ = load_classifier(run_dir)
    theirs, _ = vt.load_run(run_dir)
    x = torch.rand(4, 1, 8, 8)
    assert torch.equal(ours(x), theirs(x))


def test_bad_jobs_are_refused_before_any_work(client):
    def submit(kind, params):
        return client.post("/api/jobs", json={"kind": kind, "params": params})

    assert "kind" in bad(submit("nope", {}))
    assert "kind" in bad(submit("chargpt", {}))  # the lab's own job, not a user's
    assert "kind" in bad(submit(["vision"], {}))
    assert "unknown: 'epoch'" in bad(submit("vision", {"epoch": 1}))
    assert "epochs" in bad(submit("vision", {"epochs": 0}))
    assert "data" in bad(submit("vision", {"data": "../../etc"}))
    assert bad(submit("vision", {"model": "CONV3-RELU-(("}))
    assert "series data" in bad(submit("series", {"data": "/etc/passwd"}))
    assert "unknown claim" in bad(submit("claim", {"claim": "nope"}))
    bad(client.post("/api/jobs", json={"kind": "vision", "params": [1]}))


def test_queue_stop_and_resume(client):
    long = {"data": "digits", "epochs": 30, "batch_size": 8}
    first = client.post("/api/jobs", json={"kind": "vision", "params": long}).json()
    second = client.post("/api/jobs", json={"kind": "vision", "params": long}).json()
    assert client.get(f"/api/jobs/{second['id']}").json()["status"] == "queued"
    assert client.get("/api/jobs").json()["queued"] >= 1
    assert client.post(f"/api/jobs/{second['id']}/stop").json()["status"] == "stopped"
    while client.get(f"/api/jobs/{first['id']}").json()["events"] < 3:
        time.sleep(0.1)
    client.post(f"/api/jobs/{first['id']}/stop")
    assert wait(client, first["id"])["status"] == "stopped"
    resumed = client.post(f"/api/jobs/{first['id']}/resume").json()
    assert resumed["status"] in ("queued", "running") and resumed["params"]["resume"] is True
    client.post(f"/api/jobs/{first['id']}/stop")
    assert wait(client, first["id"])["status"] == "stopped"


def test_series_job_compares_options_with_the_naive_baselines(client):
    params = {"data": "airline", "epochs": 1, "horizon": 6}
    job = wait(
        client, client.post("/api/jobs", json={"kind": "series", "params": params}).json()["id"]
    )
    assert job["status"] == "done", job
    result = job["result"]
    assert set(result["models"]) == {"tcn (direct head)", "tcn (autoregressive rollout)"}
    assert "naive" in result["baselines"] and result["horizon"] == 6
    assert all(m["mae"] > 0 for m in result["models"].values())


def test_series_anomaly_job_returns_the_flags_to_highlight(client):
    params = {"task": "anomaly", "epochs": 1}
    job = wait(
        client, client.post("/api/jobs", json={"kind": "series", "params": params}).json()["id"]
    )
    assert job["status"] == "done", job
    trace = job["result"]["trace"]
    assert len(trace["values"]) <= 4000 and trace["labels"]
    assert all(0 <= i < len(trace["values"]) for i in trace["flags"] + trace["labels"])
    assert "z-score" in job["result"]["baselines"]
    assert "GunPoint" in bad(client.post("/api/jobs", json={"kind": "series", "params": {
        "task": "classify", "data": "airline"}}))  # fmt: skip
    assert "task" in bad(client.post("/api/jobs", json={"kind": "series", "params": {"task": "x"}}))


def test_dropout_job_streams_both_arms_live(client):
    params = {"p": 0.5, "epochs": 3, "limit": 100}
    r = client.post("/api/jobs", json={"kind": "dropout", "params": params})
    job = wait(client, r.json()["id"])
    assert job["status"] == "done", job
    lines = client.get(f"/api/jobs/{job['id']}/events").text.splitlines()
    events = [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
    arms = [e for e in events if e.get("kind") == "arm"]
    assert [(e["arm"], e["epoch"]) for e in arms] == [
        (arm, epoch) for arm in ("no dropout", "dropout") for epoch in (1, 2, 3)
    ]
    result = job["result"]["arms"]
    assert result["dropout"]["pattern"] == "DROPOUT(0.2)-(FC@256-RELU-DROPOUT(0.5))*2,SOFTMAX"
    assert "DROPOUT" not in result["no dropout"]["pattern"]
    for arm in ("no dropout", "dropout"):
        final, last = result[arm]["final"], [e for e in arms if e["arm"] == arm][-1]
        assert final["test_accuracy"] == last["test_accuracy"]
        assert final["gap"] == pytest.approx(final["train_accuracy"] - final["test_accuracy"])
        assert all(0 <= final[k] <= 1 for k in ("train_accuracy", "test_accuracy"))
        first = [e for e in arms if e["arm"] == arm][0]
        assert last["train_loss"] < first["train_loss"]  # it learns: 10 classes, far above 10%
        assert final["test_accuracy"] > 0.3
    assert "p" in bad(client.post("/api/jobs", json={"kind": "dropout", "params": {"p": 1.5}}))
    assert "unknown" in bad(client.post("/api/jobs", json={"kind": "dropout", "params": {"x": 1}}))


def test_resumed_dropout_job_goes_on_where_it_stopped(tmp_path):
    from reti.lab.dropout_job import run_dropout
    from reti.lab.jobs import Job
    from reti.train import RunControl

    params = {"regime": "contrast", "p": 0.5, "epochs": 3, "limit": 100}  # 2 steps an epoch
    for name in ("full", "cut"):
        (tmp_path / name).mkdir()
    full = Job(tmp_path / "full", "dropout", dict(params))
    whole = run_dropout(full, full.add_event)
    job = Job(tmp_path / "cut", "dropout", dict(params))

    def emit(event):  # stop once the first arm's second epoch is in
        job.add_event(event)
        if sum(e.get("kind") == "arm" for e in job.events) == 2:
            job.control.request_stop()

    assert list(run_dropout(job, emit)["arms"]) == ["no dropout"]  # it stopped in the first arm
    job.control, job.params = RunControl(), {**params, "resume": True}
    resumed = run_dropout(job, job.add_event)
    steps = [(e["arm"], e["step"]) for e in job.events if e.get("kind") == "arm"]
    # no step trained twice: the first arm goes on from its checkpoint, the second starts afresh
    first = [s for a, s in steps if a == "no dropout"]
    assert first == sorted(set(first)) and first[-1] == 6
    assert [s for a, s in steps if a == "dropout"] == [2, 4, 6]
    assert resumed == whole  # same seed, same run, stopped and resumed or not


def test_norm_job_streams_three_arms_and_population_stats(client):
    r = client.post("/api/jobs", json={"kind": "norm", "params": {"epochs": 2, "limit": 61}})
    job = wait(client, r.json()["id"])
    assert job["status"] == "done", job
    lines = client.get(f"/api/jobs/{job['id']}/events").text.splitlines()
    events = [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
    arms = [e for e in events if e.get("kind") == "arm"]
    names = ("BN, batch 2", "BN, batch 64", "LN, batch 2")
    assert [(e["arm"], e["epoch"]) for e in arms] == [(a, ep) for a in names for ep in (1, 2)]
    # 61 images: the odd last one is dropped, so no batch of 2 ends with a single sample
    assert job["result"]["images"] == 60
    result = job["result"]["arms"]
    assert [result[a]["batch_size"] for a in names] == [2, 64, 2]
    for arm in names:
        final, last = result[arm]["final"], [e for e in arms if e["arm"] == arm][-1]
        assert final["test_accuracy"] == last["test_accuracy"]
        assert all(math.isfinite(v) for v in final.values())
        assert all(0 <= v <= 1 for k, v in final.items() if k.endswith("accuracy"))
        assert ("population_test_accuracy" in final) == arm.startswith("BN")
        if arm.startswith("BN"):  # recomputed statistics, not the moving averages again
            assert final["population_test_loss"] != final["test_loss"]
    assert "epochs" in bad(client.post("/api/jobs", json={"kind": "norm", "params": {"epochs": 0}}))
    assert "unknown" in bad(client.post("/api/jobs", json={"kind": "norm", "params": {"p": 1}}))


def test_claim_job_runs_one_claim(client):
    r = client.post("/api/jobs", json={"kind": "claim", "params": {"claim": "1"}})
    job = wait(client, r.json()["id"])
    assert job["status"] == "done" and job["result"]["claim"] == "parameter counts"
    assert job["result"]["verdict"] == "holds"


def test_jobs_are_listed_after_a_restart(root, client):
    ids = {j["id"] for j in client.get("/api/jobs").json()["jobs"]}
    crashed = root / "jobs" / "vision-19990101-000000-abcdef"
    crashed.mkdir()
    info = {"kind": "vision", "params": {}, "status": "running", "created": "1999"}
    (crashed / "job.json").write_text(json.dumps(info))
    with TestClient(create_app(root, gpt_steps=20), base_url=LAB) as again:
        listed = {j["id"]: j for j in again.get("/api/jobs").json()["jobs"]}
        assert ids <= set(listed)
        assert listed[crashed.name]["status"] == "interrupted"


def test_ids_never_reach_the_file_system(client):
    for job_id in ("..", "..%2F..%2Fetc", "%2e%2e", "UPPER", "a" * 60, "x;rm"):
        r = client.get(f"/api/jobs/{job_id}")
        assert r.status_code in (400, 404) and "error" in r.json()
    assert client.get("/api/jobs/../../../etc/passwd").status_code == 404
    assert client.get("/static/../app.py").status_code == 404
    assert client.get("/static/%2e%2e/app.py").status_code == 404
    assert "no job" in bad(client.get("/api/jobs/vision-0-none/events"), 404)
    bad(client.get("/api/jobs/vision-0-none/checkpoint"), 404)


def test_csv_upload_is_capped(client):
    def send(data: bytes, name="s.csv"):
        return client.post("/api/series/csv", files={"file": (name, data, "text/csv")})

    ok = send(b"month,value\n1,10\n2,12\n3,11\n4,15\n").json()
    assert ok["values"] == [10, 12, 11, 15] and ok["naive_mae"] == pytest.approx(7 / 3)
    assert "rows" in bad(send(b"\n".join(b"%d" % i for i in range(60))))
    bad(send(b"1\n" * 3000), 413)
    assert "UTF-8" in bad(send(b"\xff\xfe\x00"))
    assert "no number" in bad(send(b"a\n1\n2\nx\n3\n4\n"))
    assert "file" in bad(client.post("/api/series/csv", files={"x": ("x.csv", b"1")}))
    assert "JSON" in bad(client.post("/api/series/csv", data={"x": "1"}), 415)  # urlencoded


def test_an_uploaded_csv_is_forecast_like_a_built_in_series(tmp_path):
    import math

    rows = [10 + 0.05 * t + 3 * math.sin(2 * math.pi * t / 12) for t in range(200)]
    csv = "t,value\n" + "".join(f"{t},{v:.4f}\n" for t, v in enumerate(rows))
    with TestClient(create_app(tmp_path / "lab", gpt_steps=1), base_url=LAB) as c:
        up = c.post("/api/series/csv", files={"file": ("s.csv", csv.encode(), "text/csv")}).json()
        assert up["rows"] == 200 and up["id"].startswith("u")
        params = {"data": f"upload:{up['id']}", "epochs": 1, "horizon": 6, "season": 12}
        job = wait(c, c.post("/api/jobs", json={"kind": "series", "params": params}).json()["id"])
        assert job["status"] == "done", job
        result = job["result"]
        assert set(result["models"]) == {"tcn (direct head)", "tcn (autoregressive rollout)"}
        assert {"naive", "seasonal naive (m=12)"} <= set(result["baselines"])
        for scores in [*result["models"].values(), *result["baselines"].values()]:
            assert isinstance(scores["mase"], float) and math.isfinite(scores["mase"])
        # the seasonal naive forecast of a pure seasonal + slow trend series beats the naive one
        base = result["baselines"]
        assert base["seasonal naive (m=12)"]["mase"] < base["naive"]["mase"]
        for data in ("upload:../../etc", "upload:u000000000000", "/tmp/x.csv"):
            bad(c.post("/api/jobs", json={"kind": "series", "params": {"data": data}}),
                400 if "000" not in data else 404)  # fmt: skip
        assert "classify" in bad(c.post("/api/jobs", json={"kind": "series", "params": {
            "task": "classify", "data": f"upload:{up['id']}"}}))  # fmt: skip


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def _png(value: int, side: int = 10) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (side, side), value).save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_uploaded_zip_of_class_folders_trains(client):
    members = {f"set/{c}/{i}.png": _png(v + i) for c, v in (("dark", 0), ("light", 240))
               for i in range(6)}  # fmt: skip
    members["set/.DS_Store"] = b"junk"
    r = client.post("/api/uploads/images?size=8", files={"file": ("s.zip", _zip(members))})
    assert r.status_code == 201, r.text
    up = r.json()
    assert up["classes"] == ["dark", "light"] and up["counts"] == {"dark": 6, "light": 6}
    assert up["grey"] is True
    table = client.get(f"/api/pattern?model=CONV3@4-RELU-GAP,SOFTMAX&data=upload:{up['id']}")
    assert table.json()["input"] == [1, 8, 8]
    params = {"data": f"upload:{up['id']}", "model": "CONV3@4-RELU-GAP,SOFTMAX",
              "batch_size": 4, "epochs": 1}  # fmt: skip
    job = client.post("/api/jobs", json={"kind": "vision", "params": params}).json()
    job = wait(client, job["id"])
    assert job["status"] == "done", job
    assert job["result"]["classes"] == ["dark", "light"]
    assert "--data folder:" in job["result"]["command"]
    assert "upload" in bad(client.post("/api/jobs", json={"kind": "vision", "params": {
        "data": "upload:../../etc"}}))  # fmt: skip
    missing = {"kind": "vision", "params": {"data": "upload:u000000000000"}}
    bad(client.post("/api/jobs", json=missing), 404)


def test_bad_zips_are_refused(client):
    def send(raw: bytes):
        return client.post("/api/uploads/images", files={"file": ("s.zip", raw)})

    two = {"a/1.png": _png(0), "b/1.png": _png(255)}
    assert "not a zip" in bad(send(b"PK not really"))
    assert "not allowed" in bad(send(_zip({**two, "../evil/1.png": _png(0)})))
    assert "not allowed" in bad(send(_zip({**two, "/abs/1.png": _png(0)})))
    assert "not allowed" in bad(send(_zip({**two, "a b/../c/1.png": _png(0)})))
    assert "class/image" in bad(send(_zip({**two, "x/y/z/1.png": _png(0)})))
    assert "two class" in bad(send(_zip({"a/1.png": _png(0), "a/2.png": _png(0)})))
    assert "readable" in bad(send(_zip({**two, "a/2.png": b"not an image"})))
    many = {f"a/{i}.png": b"" for i in range(60)}
    bomb = _zip({**two, "a/big.png": b"\0" * 3_000_000})  # deflates to a few KB
    assert "at most" in bad(send(_zip({**two, **many})))
    assert "more bytes" in bad(send(bomb))
    bad(client.post("/api/uploads/images?size=1000", files={"file": ("s.zip", _zip(two))}))
    bad(client.post("/api/uploads/images", files={"x": ("x.zip", b"1")}))
    bad(client.post("/api/uploads/images", data={"x": "1"}), 415)


def test_the_char_gpt_is_not_ready_before_its_job(tmp_path, monkeypatch):
    from reti.errors import DataError
    from reti.lab.runners import RUNNERS
    from reti.lab.sequences import CharGPT, NotReady

    with pytest.raises(NotReady):
        CharGPT(tmp_path / "none").get()

    def no_corpus(job, emit):
        raise DataError("no network to fetch shakespeare")

    monkeypatch.setitem(RUNNERS, "chargpt", no_corpus)  # its job fails: an error, not a wait
    with TestClient(create_app(tmp_path / "lab", gpt_steps=1), base_url=LAB) as c:
        (job,) = c.get("/api/jobs").json()["jobs"]
        assert wait(c, job["id"])["status"] == "failed"
        error = bad(c.post("/api/text/step", json={"prompt": "a"}))
        assert error == "the char GPT could not be trained: no network to fetch shakespeare"
        assert c.get("/api/text/ready").json() == {"ready": False, "error": error}

    import threading

    release = threading.Event()
    monkeypatch.setitem(RUNNERS, "chargpt", lambda job, emit: release.wait(60) and {})
    with TestClient(create_app(tmp_path / "lab2", gpt_steps=1), base_url=LAB) as c:
        r = c.post("/api/text/step", json={"prompt": "a"})
        assert r.status_code == 409 and r.json()["retry"] is True
        assert c.get("/api/text/ready").json() == {"ready": False, "error": None}  # page waits
        release.set()


def test_the_token_is_checked_on_every_request(tmp_path):
    with TestClient(create_app(tmp_path, token="s3cret-token", gpt_steps=1), base_url=LAB) as c:
        assert "token" in bad(c.get("/api/connectivity"), 401)
        bad(c.get("/static/lab.js"), 401)
        bad(c.get("/api/connectivity", headers={"X-Reti-Token": "wrong"}), 401)
        ok = c.get("/api/connectivity", headers={"X-Reti-Token": "s3cret-token"})
        assert ok.status_code == 200
        page = c.get("/page/cnn?token=s3cret-token")
        assert page.status_code == 200 and "reti_token=" in page.headers["set-cookie"]
        assert c.get("/api/connectivity").status_code == 200  # the cookie it set


def test_cli_needs_the_extra_and_a_long_token(monkeypatch, capsys):
    import importlib.util

    from reti.cli import lab as lab_cli
    from reti.cli.main import main

    assert lab_cli.address("127.0.0.1", 8765, None) == "http://127.0.0.1:8765/"
    assert lab_cli.address("0.0.0.0", 80, "t") == "http://0.0.0.0:80/?token=t"
    assert main(["lab", "--host", "0.0.0.0", "--token", "short"]) == 2
    assert "at least 8" in capsys.readouterr().err
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n: None if n == "uvicorn" else real(n))
    assert main(["lab"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "reti: error: reti lab needs the lab extra: pip install 'reti[lab]'"
