"""The Normalization card's live training: the same small MLP on a few hundred digits with
batch norm trained on batches of 2, with batch norm on batches of 64, and with layer norm on
batches of 2, trained one after the other by ``reti.train.fit``. After each epoch the model is
scored in eval mode (BN uses its moving averages) on the training and on the test images; at
the end each BN arm is scored again with population statistics (``recompute_bn_stats``).

notes: BN Sfide, "Con batch piccoli, la stima di media e varianza è poco affidabile"; Layer
Normalization "Normalizza gli input a un layer attraverso le features (non mini-batch)"; BN
Inferenza: Moving Average vs Post-Training Stats. The page shows what this costs here (measured,
not assumed).
"""

from __future__ import annotations

from collections.abc import Callable

import torch.nn.functional as F
from torch import nn

from reti.lab.dropout_job import arm_row, scores
from reti.lab.jobs import Job
from reti.lab.settings import Setting, read_settings
from reti.layers import recompute_bn_stats
from reti.runtime import seeded
from reti.tasks import vision as vt
from reti.train import TrainConfig, fit

ARMS = {"BN, batch 2": ("bn", 2), "BN, batch 64": ("bn", 64), "LN, batch 2": ("ln", 2)}
HIDDEN = 128
SETTINGS = {
    "epochs": Setting(TrainConfig, 20),
    "limit": Setting(vt.VisionConfig, 200),
    "seed": Setting(TrainConfig, 0),
}


def params(raw: dict) -> dict:
    """The checked params of a norm job (an error names the bad one)."""
    return read_settings(raw, "norm", SETTINGS)


def arm_model(norm: str, features: int, classes: int) -> nn.Sequential:
    """Two hidden FC layers of ``HIDDEN`` units, each followed by BN or LN and ReLU."""
    layers: list[nn.Module] = [nn.Flatten()]
    for n_in in (features, HIDDEN):
        norm_layer = nn.BatchNorm1d(HIDDEN) if norm == "bn" else nn.LayerNorm(HIDDEN)
        layers += [nn.Linear(n_in, HIDDEN), norm_layer, nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(HIDDEN, classes))


def run(job: Job, emit: Callable[[dict], None]) -> dict:
    """Train the three arms; emit an ``arm`` event per epoch with train/test loss and accuracy."""
    p = params(job.params)
    data = vt.load_data("digits", p["limit"])
    n = len(data.train_y) - len(data.train_y) % 2  # no one-sample last batch for BN in training
    train_x, train_y = vt.to_float(data.train_x)[:n], data.train_y[:n]
    test_x, test_y = vt.to_float(data.test_x), data.test_y
    features, classes = train_x[0].numel(), len(data.classes)
    result: dict = {**p, "images": n, "arms": {}}
    for arm, (norm, batch) in ARMS.items():
        if job.control.stop_requested:
            break
        emit({"kind": "status", "status": "training", "arm": arm})
        train = TrainConfig(epochs=p["epochs"], batch_size=batch, lr=1e-3, seed=p["seed"],
                            device="cpu", quiet=True)  # fmt: skip
        with seeded(p["seed"]):  # the init's and fit's draws; the worker's generators put back
            model = arm_model(norm, features, classes)
            curves: list[dict] = []

            def listen(event, arm=arm, model=model, curves=curves) -> None:
                if event.kind != "epoch":
                    return
                row = arm_row(arm, event, model, (train_x, train_y), (test_x, test_y))
                curves.append(row)
                emit(row)

            fit(model, (train_x, train_y), train, loss_fn=F.cross_entropy, callbacks=[listen],
                control=job.control)  # fmt: skip
        if not curves:
            continue
        final = {k: v for k, v in curves[-1].items() if k.startswith(("train_", "test_"))}
        if norm == "bn":
            recompute_bn_stats(model, (train_x[i : i + 256] for i in range(0, n, 256)))
            final["population_test_loss"], final["population_test_accuracy"] = scores(
                model, test_x, test_y
            )
        result["arms"][arm] = {"norm": norm, "batch_size": batch, "final": final}
    return result
