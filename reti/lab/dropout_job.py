"""The Dropout page's live training: the same small MLP on a few hundred digits, once without and
once with dropout, trained one after the other by ``reti.tasks.vision.train``. After each epoch
the checkpoint it saves is reloaded and scored in eval mode on the training images and on the
test images, so the page draws both arms' train and test curves as they come in.

notes: Dropout, "Tecnica di regolarizzazione per prevenire l'overfitting": with few training
images the plain net fits them (train loss near 0) while the test scores stay behind; the page
shows how far dropout moves the two apart here (measured, not assumed).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from reti.lab.jobs import Job
from reti.lab.runners import _known, load_classifier
from reti.numbers import float_in as _float
from reti.numbers import int_in as _int
from reti.tasks import vision as vt
from reti.train import TrainConfig

ARMS = ("no dropout", "dropout")
HIDDEN = 128


def dropout_params(raw: dict) -> dict:
    """The checked params of a dropout job (an error names the bad one)."""
    _known(raw, ("p", "epochs", "limit", "seed"), "dropout")
    return {
        "p": _float(raw.get("p", 0.5), "p", 0.05, 0.9),
        "epochs": _int(raw.get("epochs", 20), "epochs", 1, 30),
        "limit": _int(raw.get("limit", 200), "limit", 20, 1437),
        "seed": _int(raw.get("seed", 0), "seed", 0, 2**31),
    }


def arm_pattern(arm: str, p: float) -> str:
    """The MLP of one arm as a pattern: two hidden FC layers, with DROPOUT(p) after each or not."""
    drop = f"-DROPOUT({p})" if arm == "dropout" else ""
    return f"(FC@{HIDDEN}-RELU{drop})*2,SOFTMAX"


def scores(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) in eval mode (dropout off, BN on its moving averages);
    the model's mode is put back after."""
    was = model.training
    model.eval()
    with torch.no_grad():
        logits = model(x).float()
    model.train(was)
    loss = F.cross_entropy(logits, y).item()
    return loss, (logits.argmax(-1) == y).float().mean().item()


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
    data = vt.load_data("digits", p["limit"])
    train_x, test_x = vt.to_float(data.train_x), vt.to_float(data.test_x)
    steps_per_epoch = -(-p["limit"] // 32)
    result: dict = {**p, "arms": {}}
    # resumed: the epochs already streamed are kept and each arm goes on from its last checkpoint
    earlier = [e for e in job.events if e.get("kind") == "arm"] if job.params.get("resume") else []
    for arm in ARMS:
        if job.control.stop_requested:
            break
        pattern = arm_pattern(arm, p["p"])
        curves = [e for e in earlier if e["arm"] == arm]
        out = job.run_dir / arm.replace(" ", "-")
        resume = bool(curves) and out.is_dir()

        def listen(event, arm=arm, curves=curves) -> None:
            if event.kind != "checkpoint" or (curves and curves[-1]["step"] == event.step):
                return
            model, _ = load_classifier(event.path)
            row = arm_row(arm, event, model, (train_x, data.train_y), (test_x, data.test_y))
            curves.append(row)
            emit(row)

        train = TrainConfig(
            epochs=p["epochs"], batch_size=32, lr=3e-3, seed=p["seed"], device="cpu",
            quiet=True, checkpoint_every=steps_per_epoch, log_every=steps_per_epoch,
            eval_every=steps_per_epoch,
        )  # fmt: skip
        cfg = vt.VisionConfig(
            data="digits", model=pattern, out=str(out),
            limit=p["limit"], train=train,
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
            result["arms"][arm] = {"pattern": pattern, "final": final}
    return result
