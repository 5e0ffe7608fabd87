"""MNIST speed run: test accuracy and wall seconds of a small CNN trained through reti, beside
the same recipe as a plain hand-written PyTorch loop (the peer).

What it measures: for each seed, `reti.tasks.vision.train` (pattern CNN, reti's `fit`) and then
the peer loop (same model from the same seed, same batches' size, same AdamW + linear one-cycle
schedule, same label smoothing) are timed with ``time.perf_counter`` from the first step to the
end of training, test evaluation excluded; data loading (uint8 -> float, cached set) is outside
the timing. Accuracy is on the 10,000 official test images. Run alternately, one after the
other, so both see the same machine load.

The recipe (airbench-style, sized for a 2-core CPU): a stride-2 5x5 conv so nothing runs at
28x28, three BN+ReLU conv stages (24/48/96 channels, ~4.2M multiply-adds per image), a
linear head on the 3x3x96 features; batch 128, AdamW
lr 5e-3, weight decay 5e-4, one-cycle (30% linear warm-up from lr/25, linear down to 0), label
smoothing 0.1, 2 epochs, channels_last, no augmentation.

    python bench/mnist_speed.py                  # seed 0: reti and the peer
    python bench/mnist_speed.py --seeds 3        # the spread over seeds 0, 1, 2
    python bench/mnist_speed.py --data fashion-mnist
    python bench/mnist_speed.py --quick          # 10k training images, 1 epoch, reti only

Measured here (2-core CPU shared with 7 other engineers' jobs, load average ~8: the seconds are
disturbed, several times slower than on a quiet machine; rerun to get real figures):
see docs/vision.md, "Measured figures".
"""

from __future__ import annotations

import argparse
import json
import time

import torch
import torch.nn.functional as F

from reti.data.images import load_images
from reti.models.registry import build_model
from reti.tasks.vision import VisionConfig, channel_stats, to_float, train
from reti.train import TrainConfig
from reti.train import evaluate as reti_evaluate

NET = "CONV5@24(stride=2)-BN-RELU-CONV3@48-BN-RELU-POOL-CONV3@96-BN-RELU-POOL,SOFTMAX"
RECIPE = dict(
    epochs=2, batch_size=128, lr=5e-3, optimizer="adamw", weight_decay=5e-4,
    schedule="onecycle", channels_last=True, device="cpu", quiet=True,
)  # fmt: skip
SMOOTHING = 0.1


def run_reti(data: str, seed: int, epochs: int, limit: int | None) -> tuple[float, float]:
    cfg = VisionConfig(
        data=data, model=NET, label_smoothing=SMOOTHING, limit=limit,
        train=TrainConfig(**{**RECIPE, "epochs": epochs}, seed=seed),
    )  # fmt: skip
    start = time.perf_counter()
    history = train(cfg)  # evaluates the test split once per epoch: subtract below
    seconds = time.perf_counter() - start
    # fit's val pass per epoch is not training time: time one and take it off per epoch
    images = load_images(data)
    test = (to_float(images.test_x), images.test_y)
    t0 = time.perf_counter()
    acc = reti_evaluate(
        history.model, test, loss_fn=F.cross_entropy, device="cpu",
        metrics={"accuracy": lambda o, y: (o.argmax(-1) == y).float()},
    )["accuracy"]  # fmt: skip
    eval_seconds = time.perf_counter() - t0
    return acc, seconds - epochs * eval_seconds


def _onecycle(step: int, total: int) -> float:
    """Linear from 1/25 up to 1 over the first 30% of the steps, then linear down to 0."""
    warm = max(1, int(0.3 * total))
    if step < warm:
        return 1 / 25 + (1 - 1 / 25) * step / warm
    return max(0.0, (total - step) / max(1, total - warm))


def run_peer(data: str, seed: int, epochs: int, limit: int | None) -> tuple[float, float]:
    """The same recipe written as the plain PyTorch loop one would write by hand."""
    images = load_images(data)
    x, y = to_float(images.train_x[:limit]), images.train_y[:limit]
    mean, std = (torch.tensor(v).view(1, -1, 1, 1) for v in channel_stats(images.train_x[:limit]))
    x = ((x - mean) / std).contiguous(memory_format=torch.channels_last)
    torch.manual_seed(seed)
    model = build_model(NET, 10, 1, 28).to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(
        model.parameters(), lr=RECIPE["lr"], weight_decay=RECIPE["weight_decay"], fused=True
    )
    bs = RECIPE["batch_size"]
    total = epochs * (len(x) // bs + (len(x) % bs > 0))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: _onecycle(s, total))
    g = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), bs):
            idx = order[i : i + bs]
            loss = F.cross_entropy(model(x[idx]), y[idx], label_smoothing=SMOOTHING)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    seconds = time.perf_counter() - start
    model.eval()
    tx = ((to_float(images.test_x) - mean) / std).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        pred = torch.cat([model(tx[i : i + 1000]).argmax(-1) for i in range(0, len(tx), 1000)])
    return (pred == images.test_y).float().mean().item(), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="mnist", choices=["mnist", "fashion-mnist"])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="10k images, 1 epoch, reti only")
    parser.add_argument("--no-peer", action="store_true", help="time reti only")
    args = parser.parse_args()
    epochs, limit = (1, 10_000) if args.quick else (RECIPE["epochs"], None)
    load_images(args.data)  # fetch / cache outside the timing
    print(f"{args.data}: {NET}\n{'seed':>4} {'impl':<5} {'test acc':>9} {'seconds':>8}")
    rows = {"reti": [], "peer": []}
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        impls = ["reti"] if args.quick or args.no_peer else ["reti", "peer"]
        for impl in impls:
            runner = run_reti if impl == "reti" else run_peer
            acc, seconds = runner(args.data, seed, epochs, limit)
            rows[impl].append((acc, seconds))
            print(f"{seed:>4} {impl:<5} {acc:>9.4f} {seconds:>8.1f}", flush=True)
    reti_acc = [a for a, _ in rows["reti"]]
    reti_s = sum(s for _, s in rows["reti"]) / len(rows["reti"])
    peer_s = sum(s for _, s in rows["peer"]) / len(rows["peer"]) if rows["peer"] else None
    result = {
        "bench": f"{args.data.replace('-', '_')}_speed",
        "reti": round(reti_s, 1),
        "peer": round(peer_s, 1) if peer_s else None,
        "unit": "s",
        "ratio": round(reti_s / peer_s, 3) if peer_s else None,
        "accuracy": round(sum(reti_acc) / len(reti_acc), 4),
        "accuracy_min": round(min(reti_acc), 4),
        "accuracy_max": round(max(reti_acc), 4),
        "seconds": round(reti_s, 1),
        "seeds": args.seeds,
        "quick": args.quick,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
