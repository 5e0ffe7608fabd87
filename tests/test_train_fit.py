"""fit / evaluate: learning happens, the knobs do what they say, bad settings are refused."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import TensorDataset

from reti.errors import ConfigError, ShapeError, TrainingError
from reti.runtime import seed_everything
from reti.train import TrainConfig, evaluate, fit, flops, load_weights


def accuracy(out, y):
    return (out.argmax(-1) == y).float()


def blobs(n=256, seed=0):
    """Three linearly separable classes in 6-D."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 6, generator=g)
    y = (X @ torch.randn(6, 3, generator=g)).argmax(-1)
    return X, y


def mlp(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 3))


def cfg(**kw):
    return TrainConfig(**{"device": "cpu", "quiet": True, "batch_size": 32, "lr": 1e-2, **kw})


def test_fit_learns_and_writes_a_run(tmp_path):
    X, y = blobs()
    model = mlp()
    before = evaluate(model, (X, y), loss_fn=F.cross_entropy, metrics={"acc": accuracy})
    h = fit(
        model,
        (X, y),
        cfg(epochs=6),
        loss_fn=F.cross_entropy,
        val=(X, y),
        metrics={"acc": accuracy},
        run_dir=tmp_path,
        model_config={"kind": "mlp"},
    )
    assert h.model is model and h.run_dir == tmp_path
    assert len(h.rows) == 6 and h.final is h.rows[-1]
    assert h.rows[-1]["train_loss"] < 0.5 * h.rows[0]["train_loss"]
    assert h.final["val_acc"] > 0.9 > before["acc"] + 0.3
    assert h.rows[-1]["step"] == 6 * 8
    columns = {"epoch", "step", "train_loss", "val_loss", "val_acc", "lr", "samples_per_s"}
    assert set(h.rows[0]) >= columns | {"seconds"}
    for name in ("metrics.csv", "metrics.jsonl", "config.json", "curves.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert len((tmp_path / "metrics.jsonl").read_text().splitlines()) == 6
    assert (tmp_path / "metrics.csv").read_text().splitlines()[0].startswith("epoch,step,")
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["train_config"]["epochs"] == 6 and saved["model_config"] == {"kind": "mlp"}
    after = evaluate(model, (X, y), loss_fn=F.cross_entropy, metrics={"acc": accuracy})
    assert after["acc"] == pytest.approx(h.final["val_acc"])
    assert after["loss"] == pytest.approx(h.final["val_loss"], rel=1e-5)


def test_evaluate_matches_a_hand_computation():
    X, y = blobs(50)
    model = mlp()
    got = evaluate(model, (X, y), loss_fn=F.cross_entropy, metrics={"acc": accuracy}, batch_size=7)
    with torch.no_grad():
        out = model(X)
    assert got["loss"] == pytest.approx(F.cross_entropy(out, y).item(), rel=1e-6)
    assert got["acc"] == pytest.approx(accuracy(out, y).mean().item())


def test_dataset_and_tensor_paths_train_identically():
    X, y = blobs(96)
    a = fit(mlp(), (X, y), cfg(epochs=2), loss_fn=F.cross_entropy).model
    b = fit(mlp(), TensorDataset(X, y), cfg(epochs=2), loss_fn=F.cross_entropy).model
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)


def test_same_seed_same_weights_other_seed_other_weights():
    X, y = blobs(96)
    runs = [fit(mlp(), (X, y), cfg(seed=s), loss_fn=F.cross_entropy).model for s in (1, 1, 2)]
    assert torch.equal(runs[0][0].weight, runs[1][0].weight)
    assert not torch.equal(runs[0][0].weight, runs[2][0].weight)


def test_same_seed_twice_gives_bit_identical_weights_and_metric_files(tmp_path):
    """Seeded before the model is built, with dropout, augmentation, shuffling and step rows:
    two runs agree bit for bit, files included (timing columns apart)."""
    X, y = blobs(96)

    def noisy(x, y, generator):
        return x + 0.1 * torch.randn(x.shape, generator=generator), y

    def once(name):
        seed_everything(7)
        model = nn.Sequential(nn.Linear(6, 32), nn.Dropout(0.5), nn.ReLU(), nn.Linear(32, 3))
        torch.rand(5 if name == "b" else 1)  # global draws between build and fit: fit re-seeds
        c = cfg(epochs=2, seed=7, log_every=2, eval_every=3)
        h = fit(model, (X, y), c, loss_fn=F.cross_entropy, val=blobs(32, 1),
                batch_transform=noisy, run_dir=tmp_path / name)  # fmt: skip
        return h, tmp_path / name

    (a, dir_a), (b, dir_b) = once("a"), once("b")
    for (name, wa), wb in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        assert torch.equal(wa, wb), name
    timing = {"samples_per_s", "seconds", "tokens_per_s", "mfu"}
    for file in ("metrics.jsonl", "steps.jsonl"):
        rows_a = [json.loads(line) for line in (dir_a / file).read_text().splitlines()]
        rows_b = [json.loads(line) for line in (dir_b / file).read_text().splitlines()]
        assert len(rows_a) > 1
        assert [{k: v for k, v in r.items() if k not in timing} for r in rows_a] == [
            {k: v for k, v in r.items() if k not in timing} for r in rows_b
        ]
    seed_everything(8)  # another seed: another model, another run
    other = nn.Sequential(nn.Linear(6, 32), nn.Dropout(0.5), nn.ReLU(), nn.Linear(32, 3))
    assert not torch.equal(other[0].weight, a.model[0].weight)


def test_accumulate_two_batches_of_8_is_one_batch_of_16():
    X, y = blobs(64)
    big = fit(mlp(), (X, y), cfg(batch_size=16, epochs=2), loss_fn=F.cross_entropy)
    small = fit(mlp(), (X, y), cfg(batch_size=8, accumulate=2, epochs=2), loss_fn=F.cross_entropy)
    assert big.rows[-1]["step"] == small.rows[-1]["step"] == 8
    for pa, pb in zip(big.model.parameters(), small.model.parameters()):
        torch.testing.assert_close(pa, pb, rtol=1e-5, atol=1e-6)
    plain = fit(mlp(), (X, y), cfg(batch_size=8, epochs=2), loss_fn=F.cross_entropy)
    assert not torch.allclose(plain.model[0].weight, big.model[0].weight, atol=1e-4)


def test_max_steps_stops_mid_epoch():
    X, y = blobs(256)
    h = fit(mlp(), (X, y), cfg(epochs=5, max_steps=3), loss_fn=F.cross_entropy)
    assert len(h.rows) == 1 and h.rows[0]["step"] == 3


def test_grad_clip_bounds_the_sgd_step():
    X, y = blobs(32)
    model = mlp()
    start = [p.detach().clone() for p in model.parameters()]
    c = cfg(batch_size=32, optimizer="sgd", momentum=0.0, lr=1.0, grad_clip=1e-3, max_steps=1)
    fit(model, (X, y), c, loss_fn=F.cross_entropy)
    moved = torch.cat([(p.detach() - s).flatten() for p, s in zip(model.parameters(), start)])
    assert moved.norm().item() == pytest.approx(1e-3, rel=1e-4)  # lr * clip, the norm was larger


def test_early_stopping_on_a_validation_metric():
    X, y = blobs(64)
    calls = []

    def score(out, y):  # gets worse at every call: epoch 1 stays the best
        calls.append(1)
        return torch.full((len(y),), 1.0 / len(calls))

    c = cfg(epochs=10, early_stop_patience=2, monitor="val_score", monitor_mode="max")
    h = fit(mlp(), (X, y), c, loss_fn=F.cross_entropy, val=(X, y), metrics={"score": score})
    assert h.stopped_early and len(h.rows) == 3
    assert h.best["epoch"] == 1


def test_ema_model_is_returned_and_saved(tmp_path):
    X, y = blobs(64)
    h = fit(mlp(), (X, y), cfg(epochs=2, ema_decay=0.5), loss_fn=F.cross_entropy, run_dir=tmp_path)
    raw, avg = mlp(seed=5), mlp(seed=6)
    load_weights(raw, tmp_path, ema=False)
    load_weights(avg, tmp_path)  # EMA by default when present
    assert torch.equal(avg[0].weight, h.model[0].weight)
    assert not torch.equal(raw[0].weight, avg[0].weight)


def test_non_finite_loss_names_the_step_and_keeps_the_checkpoint(tmp_path):
    X, y = blobs(64)
    seen = []

    def poisoned(out, y):
        seen.append(1)
        loss = F.cross_entropy(out, y)
        return loss * float("nan") if len(seen) == 5 else loss

    with pytest.raises(TrainingError, match=r"at step 5 \(epoch 3\).*step-0000004"):
        fit(mlp(), (X, y), cfg(epochs=4), loss_fn=poisoned, run_dir=tmp_path)
    assert (tmp_path / "checkpoints" / "latest").read_text().strip() == "step-0000004"
    assert load_weights(mlp(), tmp_path)["step"] == 4


def test_integer_tokens_report_tokens_per_second():
    X = torch.randint(0, 10, (32, 5))
    y = torch.randint(0, 10, (32,))
    model = nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(20, 10))
    h = fit(model, (X, y), cfg(), loss_fn=F.cross_entropy)
    assert h.rows[0]["tokens_per_s"] == pytest.approx(5 * h.rows[0]["samples_per_s"])


def test_mfu_for_models_that_declare_flops(monkeypatch, tmp_path):
    monkeypatch.setenv("RETI_DATA", str(tmp_path))  # the measured peak is cached there

    class Declared(nn.Linear):
        def flops_per_sample(self):  # a training step: forward 2 x in x out, backward twice that
            return 6 * self.in_features * self.out_features

    X, y = blobs(64)
    h = fit(Declared(6, 3), (X, y), cfg(), loss_fn=F.cross_entropy)
    peak = flops.measured_peak(torch.device("cpu"))  # the peak fit used (once per process)
    assert h.rows[0]["mfu"] == pytest.approx(6 * 6 * 3 * h.rows[0]["samples_per_s"] / peak)
    assert 0 < h.rows[0]["mfu"] < 1


def test_compiled_run_checkpoints_the_unwrapped_model(tmp_path):
    X, y = blobs(64)
    h = fit(
        mlp(), (X, y), cfg(compile=True, max_steps=2), loss_fn=F.cross_entropy, run_dir=tmp_path
    )
    meta = load_weights(mlp(seed=3), tmp_path)
    assert meta["step"] == 2
    names = json.loads((tmp_path / "checkpoints" / "step-0000002" / "meta.json").read_text())
    assert names["train_config"]["compile"] is True
    assert not any("_orig_mod" in k for k in h.model.state_dict())


def test_bf16_autocast_on_cpu_still_learns():
    X, y = blobs(128)
    h = fit(mlp(), (X, y), cfg(epochs=4, precision="bf16"), loss_fn=F.cross_entropy, val=(X, y))
    assert h.rows[-1]["val_loss"] < h.rows[0]["val_loss"]
    with pytest.raises(ConfigError, match="fp16"):
        fit(mlp(), (X, y), cfg(precision="fp16"), loss_fn=F.cross_entropy)


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"batch_size": 0}, "batch_size must be an integer >= 1, got 0"),
        ({"lr": -1.0}, "lr must be a finite number > 0, got -1.0"),
        ({"lr": float("nan")}, "lr must be a finite number > 0, got nan"),
        ({"schedule": "linear"}, "schedule must be one of constant, step, cosine, onecycle"),
        ({"accumulate": 0}, "accumulate must be an integer >= 1, got 0"),
        ({"optimizer": "lamb"}, "optimizer must be one of adamw, sgd, muon, got 'lamb'"),
        ({"momentum": 1.0}, "momentum must be in"),
        ({"ema_decay": 1.5}, "ema_decay must be None or in"),
        ({"precision": "fp8"}, "precision must be one of"),
        ({"monitor": "accuracy"}, "monitor must be"),
        ({"epochs": True}, "epochs must be an integer"),
    ],
)
def test_impossible_settings_are_refused(kw, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        TrainConfig(**kw)


def test_bad_data_and_monitor_refused_before_work():
    X, y = blobs(32)
    with pytest.raises(ShapeError, match="same length"):
        fit(mlp(), (X, y[:5]), cfg(), loss_fn=F.cross_entropy)
    with pytest.raises(ConfigError, match="val_f1"):
        fit(mlp(), (X, y), cfg(monitor="val_f1"), loss_fn=F.cross_entropy, val=(X, y))
    with pytest.raises(ConfigError, match="needs val data"):
        fit(mlp(), (X, y), cfg(early_stop_patience=1), loss_fn=F.cross_entropy)
    with pytest.raises(ConfigError, match="resume=True needs a run_dir"):
        fit(mlp(), (X, y), cfg(), loss_fn=F.cross_entropy, resume=True)
    with pytest.raises(ConfigError, match="device must be one of"):
        fit(mlp(), (X, y), cfg(device="tpu"), loss_fn=F.cross_entropy)


def test_channels_last_trains_like_the_default_layout():
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(32, 3, 8, 8, generator=g), torch.randint(0, 2, (32,), generator=g)

    def conv():
        torch.manual_seed(0)
        return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(144, 2))

    plain = fit(conv(), (X, y), cfg(batch_size=8, channels_last=False), loss_fn=F.cross_entropy)
    assert not plain.model[0].weight.is_contiguous(memory_format=torch.channels_last)
    for setting in (True, None):  # None (the default): on for a conv net on images
        nhwc = fit(conv(), (X, y), cfg(batch_size=8, channels_last=setting),
                   loss_fn=F.cross_entropy)  # fmt: skip
        assert nhwc.model[0].weight.is_contiguous(memory_format=torch.channels_last)
        for a, b in zip(plain.model.parameters(), nhwc.model.parameters()):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_channels_last_auto_stays_off_without_images_or_2d_convolutions():
    from reti.train.optim import use_channels_last

    conv = nn.Sequential(nn.Conv2d(3, 4, 3))
    images, series = (torch.zeros(2, 3, 8, 8),), (torch.zeros(2, 3, 8),)
    assert use_channels_last(None, conv, images)
    assert not use_channels_last(None, conv, series)  # the TCN's (B, C, T) inputs
    assert not use_channels_last(None, nn.Linear(3, 2), images)
    assert not use_channels_last(None, conv, None)  # a dataset: left as it is
    assert not use_channels_last(False, conv, images)
    assert use_channels_last(True, nn.Linear(3, 2), series)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_auto_precision_and_compile(tmp_path):
    X, y = blobs(256)
    h = fit(
        mlp(),
        (X, y),
        cfg(device="cuda", epochs=3, compile=True),
        loss_fn=F.cross_entropy,
        val=(X, y),
        run_dir=tmp_path,
    )
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["precision"] in ("torch.bfloat16", "torch.float16")
    assert h.rows[-1]["val_loss"] < h.rows[0]["val_loss"]
    load_weights(mlp(), tmp_path)  # no _orig_mod. prefixes


def test_a_last_batch_of_one_sample_is_left_out_so_batch_norm_trains():
    # 65 samples at batch 64 would end each epoch on one sample, which batch norm cannot train on
    torch.manual_seed(0)
    x, y = torch.randn(65, 4), torch.randint(0, 2, (65,))
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 2))
    cfg = TrainConfig(epochs=2, batch_size=64, device="cpu", quiet=True)
    history = fit(net, (x, y), cfg, loss_fn=torch.nn.functional.cross_entropy)
    assert [r["step"] for r in history.rows] == [1, 2]  # one full batch per epoch
    # 66 samples keep their batch of two
    cfg2 = TrainConfig(epochs=1, batch_size=64, device="cpu", quiet=True)
    x2, y2 = torch.randn(66, 4), torch.randint(0, 2, (66,))
    assert fit(net, (x2, y2), cfg2, loss_fn=torch.nn.functional.cross_entropy).final["step"] == 2
