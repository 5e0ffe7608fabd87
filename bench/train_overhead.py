"""Training-loop overhead: reti.train.fit against a plain hand-written PyTorch loop.

What: a ResNet-20-sized CNN (3 stages of 16/32/64 channels, 3 basic blocks each, batch norm;
0.27 M parameters) trained on random 3x32x32 images, 10 classes, batch 128, SGD with Nesterov
momentum and weight decay, for a fixed number of steps.

How: each round runs (a) the plain eager loop -- index the tensors, forward, cross-entropy,
zero_grad, backward, step -- and (b) ``fit`` with the same data, model and optimizer settings,
alternately, each from the same start weights and each in its own worker process (as a user's
script and a reti run would be: reti's process-wide allocator setting stays out of the plain
loop's process); the wall time of the whole call
(setup included) over the steps gives img/s; the median over rounds is reported, and each
ratio is the median of (reti run / the plain run just before it), which follows the load of a
shared machine better than a ratio of medians. Then the
settings that might help on this CPU are measured the same way against the plain loop:
``nchw`` (the default layout before channels-last became the default for conv nets on images),
``precision="bf16"``, ``compile`` (torch.compile; its one-off compile time is
paid in a warm-up call and reported apart) and their combination.

Run: ``python bench/train_overhead.py`` (about 5 minutes on 2 quiet cores), ``--quick``,
``--settings bf16,compile`` for some paths only, ``--steps N --rounds R`` for a longer A/B.
The last line is one JSON object: reti = fit's default path, peer = the plain loop.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

from reti.train import TrainConfig, fit

BATCH = 128
SETTINGS = {  # the default now keeps conv nets on images channels-last (TrainConfig.channels_last)
    "nchw": {"channels_last": False},
    "bf16": {"precision": "bf16"},
    "compile": {"compile": True},
    "compile+nchw": {"compile": True, "channels_last": False},
}
LR, MOMENTUM, WEIGHT_DECAY = 0.05, 0.9, 5e-4


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers and a shortcut (1x1 conv when the shape changes)."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = nn.Sequential()
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.short(x))


def resnet20(classes: int = 10) -> nn.Module:
    layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    cin = 16
    for cout, stride in ((16, 1), (32, 2), (64, 2)):
        for i in range(3):
            layers.append(BasicBlock(cin, cout, stride if i == 0 else 1))
            cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, classes)]
    return nn.Sequential(*layers)


def plain_loop(model: nn.Module, X: torch.Tensor, y: torch.Tensor, steps: int) -> float:
    """The loop a person writes by hand; returns seconds for ``steps`` steps."""
    start = time.perf_counter()
    opt = torch.optim.SGD(
        model.parameters(), lr=LR, momentum=MOMENTUM, nesterov=True, weight_decay=WEIGHT_DECAY
    )
    model.train()
    order = torch.randperm(len(X))
    for i in range(steps):
        idx = order[i * BATCH : (i + 1) * BATCH]
        loss = F.cross_entropy(model(X[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def reti_fit(model: nn.Module, X, y, steps: int, **settings) -> float:
    """``fit`` on the same data for ``steps`` steps; returns seconds for the whole call."""
    cfg = TrainConfig(
        epochs=1,
        max_steps=steps,
        batch_size=BATCH,
        lr=LR,
        optimizer="sgd",
        momentum=MOMENTUM,
        nesterov=True,
        weight_decay=WEIGHT_DECAY,
        device="cpu",
        quiet=True,
        **settings,
    )
    start = time.perf_counter()
    fit(model, (X, y), cfg, loss_fn=F.cross_entropy)
    return time.perf_counter() - start


def make_data(steps: int) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """The images, labels and start weights (the same in every process: fixed seeds)."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(steps * BATCH, 3, 32, 32, generator=g)
    y = torch.randint(0, 10, (steps * BATCH,), generator=g)
    torch.manual_seed(0)
    return X, y, resnet20().state_dict()


def serve(conn, steps: int) -> None:
    """A worker process: answers ("plain" | setting name, steps) with the seconds it took.

    The plain loop and reti run in separate processes, as a user's script and a reti run would:
    process-wide settings reti makes (the allocator's, see ``reti.runtime.keep_freed_memory``)
    must not leak into the plain loop's measurement.
    """
    X, y, start_weights = make_data(steps)
    models: dict[str, nn.Module] = {}  # one instance per path, so compiled code is reused

    def fresh(name: str) -> nn.Module:
        model = models.setdefault(name, resnet20())
        model.load_state_dict(start_weights)
        return model.to(memory_format=torch.contiguous_format)

    while (job := conn.recv()) is not None:
        name, n = job
        if name == "plain":
            conn.send(plain_loop(fresh(name), X, y, n))
        else:
            conn.send(reti_fit(fresh(name), X, y, n, **({"default": {}} | SETTINGS)[name]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps, rounds and settings")
    parser.add_argument(
        "--settings",
        default=None,
        help=f"comma list of reti paths to measure besides default: {', '.join(SETTINGS)} "
        "(default: all; --quick: nchw)",
    )
    parser.add_argument("--steps", type=int, default=None, help="steps per run (default 8)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 3)")
    args = parser.parse_args()
    steps, rounds = (3, 1) if args.quick else (8, 3)
    steps, rounds = args.steps or steps, args.rounds or rounds
    chosen = args.settings.split(",") if args.settings else None
    chosen = chosen or (["nchw"] if args.quick else list(SETTINGS))
    unknown = sorted(set(chosen) - set(SETTINGS))
    if unknown:
        parser.error(f"unknown settings {unknown}; choose from {', '.join(SETTINGS)}")
    variants = {"default": {}, **{name: SETTINGS[name] for name in chosen}}

    ctx = mp.get_context("spawn")
    workers = {}
    for who in ("plain", "reti"):
        ours, theirs = ctx.Pipe()
        proc = ctx.Process(target=serve, args=(theirs, steps), daemon=True)
        proc.start()
        workers[who] = (ours, proc)

    def timed(who: str, name: str, n: int) -> float:
        workers[who][0].send((name, n))
        return workers[who][0].recv()

    # warm-up: first calls pay for allocation, kernel choice and (for compile) compilation
    timed("plain", "plain", 1)
    compile_s = {}
    for name, settings in variants.items():
        t = timed("reti", name, 2)
        if settings.get("compile"):
            compile_s[name] = t
            print(f"warm-up {name}: {t:.0f} s (compile included)", flush=True)

    seconds: dict[str, list[float]] = {"plain": [], **{name: [] for name in variants}}
    for r in range(rounds):
        for name in variants:  # plain and each reti path alternate
            seconds["plain"].append(timed("plain", "plain", steps))
            seconds[name].append(timed("reti", name, steps))
            plain, own = (steps * BATCH / seconds[k][-1] for k in ("plain", name))
            print(f"round {r + 1}: plain {plain:7.1f}  reti {name} {own:7.1f} img/s", flush=True)
    for conn, proc in workers.values():
        conn.send(None)
        proc.join()
    rate = {name: steps * BATCH / statistics.median(ts) for name, ts in seconds.items()}
    # each reti run against the plain run just before it: robust to load that drifts over time
    pairs = [seconds["plain"][i :: len(variants)] for i in range(len(variants))]
    ratio = {
        name: statistics.median(p / t for p, t in zip(pairs[i], seconds[name]))
        for i, name in enumerate(variants)
    }

    print(f"threads {torch.get_num_threads()}, steps {steps}, rounds {rounds}, batch {BATCH}")
    print(f"{'path':<26}{'img/s':>10}{'vs plain':>10}   (vs the plain run beside it)")
    print(f"{'plain loop':<26}{rate['plain']:>10.1f}{1.0:>10.2f}")
    for name in variants:
        extra = f"   (compile {compile_s[name]:.0f} s once)" if name in compile_s else ""
        print(f"{'reti ' + name:<26}{rate[name]:>10.1f}{ratio[name]:>10.2f}{extra}")
    best = max(variants, key=lambda n: ratio[n])
    print(
        json.dumps(
            {
                "bench": "train_overhead",
                "reti": round(rate["default"], 1),
                "peer": round(rate["plain"], 1),
                "unit": "img/s",
                "ratio": round(ratio["default"], 3),
                "best": best,
                "best_ratio": round(ratio[best], 3),
            }
        )
    )


if __name__ == "__main__":
    main()
