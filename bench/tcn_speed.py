"""TCN training-step throughput: reti's TemporalConvNet vs a plain PyTorch TCN of the same shape.

What: samples/s of one full training step (forward, MSE loss, backward, AdamW step) of a TCN with
4 levels of 64 channels, kernel 3, dilations 1, 2, 4, 8, on a batch of 64 series of length 512
(1 input channel, a 1x1 conv head predicting the next value at every step).

The peer is the usual PyTorch TCN (Bai et al.'s reference code, written here from its
description): Conv1d padded (k-1)d on BOTH sides, then the extra right part chopped off
(``Chomp1d``, a strided copy), weight normalisation on every conv. reti's CausalConv1d pads on
the left only (one F.pad per conv, no chop, no re-parametrisation per step).

How: both models built with the same seed, warmed up, then timed alternately in rounds of
a few steps (reti, peer, reti, peer ...); the rates are medians over rounds and the ratio is
the median of each round's reti/peer pair, which follows the drifting load of a shared machine
better than a ratio of medians. On the CPU unless CUDA is there, with torch's default threads.
``--threads 1`` is the setting for A/B runs on a busy machine: with both of 2 shared cores in
use, two threads were erratic (a round could drop 6x when another job woke up). At one thread
reti ran 1.18-1.30x the peer over five quick runs on 2026-11-30 (docs/performance.md): the left
pad instead of pad-and-chop, no weight norm, and oneDNN's channels-last 2D convolution.
Other processes share this machine's CPU: numbers are disturbed, rerun on a quiet machine.

A third side, ``reti+bf16``, is reti's TCN in bf16 autocast (``TrainConfig(precision="bf16")``):
oneDNN's bf16 convolutions on a CPU with AVX512-BF16 (this AMD EPYC) ran a block's forward and
backward about 2.2x faster than fp32 in a one-thread micro-benchmark. It changes the numerics
(bf16 products, fp32 weights and optimizer), so it is reported apart from the fp32 ratio; the
test suite checks that its outputs stay within bf16 tolerance of fp32.

    python bench/tcn_speed.py [--quick] [--threads N] [--compile]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from reti.layers.causal import TemporalConvNet

LEVELS, CHANNELS, KERNEL, BATCH, LENGTH = 4, 64, 3, 64, 512


class Chomp1d(nn.Module):
    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def forward(self, x):
        return x[:, :, : -self.size].contiguous()


class PlainBlock(nn.Module):
    def __init__(self, c_in, c_out, k, d):
        super().__init__()
        pad = (k - 1) * d
        self.net = nn.Sequential(
            weight_norm(nn.Conv1d(c_in, c_out, k, padding=pad, dilation=d)), Chomp1d(pad),
            nn.ReLU(), nn.Dropout(0.0),
            weight_norm(nn.Conv1d(c_out, c_out, k, padding=pad, dilation=d)), Chomp1d(pad),
            nn.ReLU(), nn.Dropout(0.0),
        )  # fmt: skip
        self.down = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else None

    def forward(self, x):
        res = x if self.down is None else self.down(x)
        return F.relu(self.net(x) + res)


def plain_tcn() -> nn.Module:
    sizes = [1] + [CHANNELS] * LEVELS
    blocks = [PlainBlock(sizes[i], sizes[i + 1], KERNEL, 2**i) for i in range(LEVELS)]
    return nn.Sequential(*blocks, nn.Conv1d(CHANNELS, 1, 1))


def reti_tcn() -> nn.Module:
    return nn.Sequential(TemporalConvNet(1, [CHANNELS] * LEVELS, KERNEL), nn.Conv1d(CHANNELS, 1, 1))


def make_step(model: nn.Module, x: torch.Tensor, y: torch.Tensor, bf16: bool = False):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)

    def step() -> None:
        with torch.autocast(x.device.type, torch.bfloat16, enabled=bf16):
            out = model(x)
        loss = F.mse_loss(out.float(), y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    return step


def time_steps(step, n: int, device: torch.device) -> float:
    """samples/s; on the CPU with one thread over CPU seconds (waits for a busy core left out)."""
    cpu_clock = device.type == "cpu" and torch.get_num_threads() == 1
    clock = time.process_time if cpu_clock else time.perf_counter
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = clock()
    for _ in range(n):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return BATCH * n / (clock() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (about 30 s)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--compile", action="store_true", help="torch.compile both models")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    rounds, steps = (3, 3) if args.quick else (7, 5)
    g = torch.Generator().manual_seed(0)
    series = torch.randn(BATCH, 1, LENGTH + 1, generator=g).cumsum(-1).to(device)
    x, y = series[..., :-1], series[..., 1:]
    models = {}
    for name, build in (("reti", reti_tcn), ("peer", plain_tcn), ("reti+bf16", reti_tcn)):
        torch.manual_seed(0)
        model = build().to(device)
        model = torch.compile(model) if args.compile else model
        models[name] = make_step(model, x, y, bf16=name.endswith("bf16"))
        for _ in range(2):  # warm-up (and compilation)
            models[name]()
    rates: dict[str, list[float]] = {"reti": [], "peer": [], "reti+bf16": []}
    print(f"TCN {LEVELS}x{CHANNELS} k={KERNEL}, batch {BATCH} x length {LENGTH}, {device}, "
          f"{torch.get_num_threads()} threads")  # fmt: skip
    print(f"{'round':>5} {'reti samples/s':>15} {'peer samples/s':>15} {'reti+bf16':>10}")
    for r in range(rounds):
        for name in rates:
            rates[name].append(time_steps(models[name], steps, device))
        print(f"{r + 1:>5} {rates['reti'][-1]:>15.1f} {rates['peer'][-1]:>15.1f} "
              f"{rates['reti+bf16'][-1]:>10.1f}")  # fmt: skip
    med = {k: statistics.median(v) for k, v in rates.items()}
    pairs = {k: [r / p for r, p in zip(rates[k], rates["peer"])] for k in ("reti", "reti+bf16")}
    ratio = statistics.median(pairs["reti"])
    bf16 = statistics.median(pairs["reti+bf16"])
    print(f"median {med['reti']:>14.1f} {med['peer']:>15.1f} {med['reti+bf16']:>10.1f}   "
          f"ratio {ratio:.2f}x, bf16 {bf16:.2f}x (medians of round pairs)")  # fmt: skip
    result = {
        "bench": "tcn_speed",
        "reti": round(med["reti"], 1),
        "peer": round(med["peer"], 1),
        "unit": "samples/s",
        "ratio": round(ratio, 3),
        "ratio_range": [round(min(pairs["reti"]), 3), round(max(pairs["reti"]), 3)],
        "bf16": round(med["reti+bf16"], 1),
        "bf16_ratio": round(bf16, 3),
        "bf16_ratio_range": [round(min(pairs["reti+bf16"]), 3), round(max(pairs["reti+bf16"]), 3)],
        "rounds": rounds,
        "threads": torch.get_num_threads(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
