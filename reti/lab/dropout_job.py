"""The Dropout page's live training: the same MLP on a few hundred images, once without and once
with dropout, trained one after the other by ``reti.tasks.vision.train``. After each scored epoch
the checkpoint it saves is reloaded and scored in eval mode on the training images and on the
test images, so the page draws both arms' train and test curves as they come in.

notes: Dropout, "Tecnica di regolarizzazione per prevenire l'overfitting" and "Non è sempre
efficace". Two regimes, one click apart (``regime``), each measured over seeds 0-2 (docs/lab.md):

* ``narrows`` (the default), claim 8's recipe scaled to seconds: an MLP with two hidden layers
  of 256 on 500 MNIST images for 60 epochs at a small learning rate (3e-4), with the classic
  dropout (0.2 on the input pixels, ``p`` after each hidden layer), scored on 1,000 test
  images. Without dropout it fits every training image and its test loss climbs; with dropout
  the train-test loss gap ends narrower (by 0.07-0.09 nats over seeds 0-2).
* ``contrast``: claim 8's second half, a tiny MLP (8 hidden units) on all the training digits.
  It is too small to overfit, so dropout has no gap to close and only costs test accuracy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from reti.errors import ConfigError
from reti.lab.jobs import Job
from reti.lab.runners import load_classifier
from reti.lab.settings import Setting, read_settings
from reti.metrics import accuracy
from reti.models.mlp import MLPConfig
from reti.tasks import vision as vt
from reti.train import TrainConfig

ARMS = ("no dropout", "dropout")
DIGITS = 1497  # training images of the built-in digits
MAX_POINTS = 20  # scored epochs per arm: enough for a curve, few enough to stay fast


@dataclass(frozen=True)
class Regime:
    """One setting of the comparison: the MLP, the data budget and the optimizer's."""

    data: str
    test_limit: int | None  # test images scored (the curve's cost), None: all
    hidden: int
    layers: int
    input_p: float  # dropout on the input pixels in the dropout arm (0: none)
    p: float
    epochs: int
    limit: int
    batch_size: int
    lr: float


REGIMES = {
    "narrows": Regime(data="mnist", test_limit=1000, hidden=256, layers=2, input_p=0.2, p=0.5,
                      epochs=60, limit=500, batch_size=50, lr=3e-4),
    "contrast": Regime(data="digits", test_limit=None, hidden=8, layers=1, input_p=0.0, p=0.5,
                       epochs=30, limit=DIGITS, batch_size=64, lr=1e-3),
}  # fmt: skip


def dropout_params(raw: dict) -> dict:
    """The checked params of a dropout job (an error names the bad one); ``regime`` picks the
    defaults of the others."""
    name = raw.get("regime", "narrows")
    if name not in REGIMES:
        raise ConfigError(f"regime must be one of {', '.join(REGIMES)}, got {name!r}")
    r = REGIMES[name]
    table = {
        "p": Setting(MLPConfig, r.p, "dropout"),
        "epochs": Setting(TrainConfig, r.epochs),
        "limit": Setting(vt.VisionConfig, r.limit),
        "seed": Setting(TrainConfig, 0),
    }
    settings = read_settings(raw, "dropout", table, extra=("regime",))
    if r.data == "digits" and settings["limit"] > DIGITS:  # more than the set holds
        raise ConfigError(f"limit must be in [20, {DIGITS}] for digits, got {settings['limit']}")
    return {"regime": name, **settings}


def arm_pattern(arm: str, p: float, regime: str = "narrows") -> str:
    """The MLP of one arm as a pattern: ``layers`` hidden FC layers, with DROPOUT(p) after each
    (and the regime's input dropout first) in the dropout arm, without in the other."""
    r = REGIMES[regime]
    if arm != "dropout":
        return f"(FC@{r.hidden}-RELU)*{r.layers},SOFTMAX"
    first = f"DROPOUT({r.input_p})-" if r.input_p else ""
    return f"{first}(FC@{r.hidden}-RELU-DROPOUT({p}))*{r.layers},SOFTMAX"


def scores(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) in eval mode (dropout off, BN on its moving averages);
    the model's mode is put back after."""
    was = model.training
    model.eval()
    with torch.no_grad():
        logits = model(x).float()
    model.train(was)
    loss = F.cross_entropy(logits, y).item()
    return loss, accuracy(y, logits.argmax(-1))


def arm_row(arm: str, event, model: torch.nn.Module, train: tuple, test: tuple) -> dict:
    """The ``arm`` event a live comparison streams: the arm's train and test loss and accuracy
    at ``event``'s step."""
    train_loss, train_acc = scores(model, *train)
    test_loss, test_acc = scores(model, *test)
    return {
        "kind": "arm", "arm": arm, "step": event.step, "epoch": event.epoch,
        "train_loss": train_loss, "train_accuracy": train_acc,
        "test_loss": test_loss, "test_accuracy": test_acc,
    }  # fmt: skip


def run_dropout(job: Job, emit: Callable[[dict], None]) -> dict:
    """Train both arms; emit an ``arm`` event per epoch with train/test loss and accuracy."""
    p = dropout_params(job.params)
    regime = REGIMES[p["regime"]]
    data = vt.load_data(regime.data, p["limit"], regime.test_limit)
    train_x, test_x = vt.to_float(data.train_x), vt.to_float(data.test_x)
    batch = regime.batch_size
    steps_per_epoch = -(-len(train_x) // batch)
    every = steps_per_epoch * -(-p["epochs"] // MAX_POINTS)  # steps between two scored points
    result: dict = {**p, "arms": {}, "look_for": f"lab.look.dropout_{p['regime']}"}
    # resumed: the epochs already streamed are kept and each arm goes on from its last checkpoint
    earlier = [e for e in job.events if e.get("kind") == "arm"] if job.params.get("resume") else []
    for arm in ARMS:
        if job.control.stop_requested:
            break
        pattern = arm_pattern(arm, p["p"], p["regime"])
        curves = [e for e in earlier if e["arm"] == arm]
        out = job.run_dir / arm.replace(" ", "-")
        resume = bool(curves) and out.is_dir()

        def listen(event, arm=arm, curves=curves) -> None:
            if event.kind != "checkpoint" or (curves and curves[-1]["step"] == event.step):
                return
            if event.step % every and event.step != p["epochs"] * steps_per_epoch:
                return
            model, _ = load_classifier(event.path)
            row = arm_row(arm, event, model, (train_x, data.train_y), (test_x, data.test_y))
            curves.append(row)
            emit(row)

        train = TrainConfig(
            epochs=p["epochs"], batch_size=batch, lr=regime.lr, seed=p["seed"], device="cpu",
            quiet=True, checkpoint_every=steps_per_epoch, log_every=steps_per_epoch,
            eval_every=steps_per_epoch,
        )  # fmt: skip
        cfg = vt.VisionConfig(  # plain cross-entropy: the gap is dropout's alone
            data=regime.data, model=pattern, out=str(out), label_smoothing=0.0,
            limit=p["limit"], test_limit=regime.test_limit, train=train,
        )  # fmt: skip
        if not (resume and curves[-1]["step"] >= p["epochs"] * steps_per_epoch):  # else: finished
            emit({"kind": "status", "status": "training", "arm": arm, "pattern": pattern})
            vt.train(cfg, resume=resume, overwrite=not resume, callbacks=[listen],
                     control=job.control)  # fmt: skip
        if curves:
            last = curves[-1]
            final = {k: last[k] for k in ("train_loss", "train_accuracy", "test_loss")}
            final["test_accuracy"] = last["test_accuracy"]
            final["gap"] = last["train_accuracy"] - last["test_accuracy"]
            final["loss_gap"] = last["test_loss"] - last["train_loss"]  # claim 8's measure
            result["arms"][arm] = {"pattern": pattern, "final": final}
    return result
