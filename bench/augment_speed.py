"""Augmentation throughput: reti.augment vs kornia vs a plain per-sample torch loop (CPU).

What: one training-style pipeline — horizontal flip (p=0.5), random crop with zero padding 4,
colour jitter (brightness 0.4, contrast 0.4, saturation 0.4, hue 0.1), random erasing (p=0.25),
cutmix (alpha 1, soft labels for 10 classes) — on batches of 256 float images 3x32x32 and
1x28x28. On one channel the colour jitter is left out for all three contenders alike.

How: each contender runs the same batch in turn (reti, kornia, loop, reti, kornia, loop, ...),
after one warm-up call each; the median seconds per batch over the rounds gives images/s. The
loop draws its parameters from a torch.Generator one image at a time, as a straightforward
Dataset-style transform would. Threads: 1 by default (``--threads N``), the way augmentation
runs inside one data-loader worker; on a loaded machine, two intra-op threads that wait on each
other make every contender 10-30x slower and the ratios meaningless.
Results depend on the machine load: the numbers in docs/augment.md were measured while seven
other engineers were using the same 2 cores, so they are noisy; rerun on a quiet machine.

    python bench/augment_speed.py [--quick]

Ends with one JSON line: {"bench": "augment_speed", "reti": ..., "peer": ..., "unit": ...}.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
import warnings

import torch
import torch.nn.functional as F

from reti.augment import parse_spec

B, K = 256, 10


def reti_pipeline(channels: int):
    colour = "jitter(0.4,0.4,0.4,0.1)," if channels == 3 else ""
    aug = parse_spec(f"hflip,crop(4),{colour}erase(p=0.25),cutmix(1.0)", num_classes=K)
    return lambda x, y, g: aug(x, y, g)


def kornia_pipeline(channels: int):
    import kornia.augmentation as KA

    ops = [KA.RandomHorizontalFlip(p=0.5), KA.RandomCrop((x_size(channels),) * 2, padding=4)]
    if channels == 3:
        ops.append(KA.ColorJitter(0.4, 0.4, 0.4, 0.1, p=1.0))
    ops.append(KA.RandomErasing(p=0.25))
    seq = KA.AugmentationSequential(*ops)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cutmix = KA.RandomCutMixV2(data_keys=["input", "class"], use_correct_lambda=True)

    def run(x, y, g):
        x = seq(x)
        x, params = cutmix(x, y)
        lam = params[0, :, 2]  # (label, partner label, lam) per image; lam = partner's share
        soft = F.one_hot(params[0, :, 0].long(), K) * (1 - lam[:, None])
        return x, soft + F.one_hot(params[0, :, 1].long(), K) * lam[:, None]

    return run


def x_size(channels: int) -> int:
    return 32 if channels == 3 else 28


def _jitter_one(img, g):
    """Brightness, contrast, saturation, hue on one (3, H, W) image, in a random order."""
    w = torch.tensor([0.299, 0.587, 0.114])
    for op in torch.randperm(4, generator=g).tolist():
        u = float(torch.rand(1, generator=g))
        if op == 0:
            img = (img * (0.6 + 0.8 * u)).clamp(0, 1)
        elif op == 1:
            mean = (img * w[:, None, None]).sum(0).mean()
            f = 0.6 + 0.8 * u
            img = (f * img + (1 - f) * mean).clamp(0, 1)
        elif op == 2:
            gray = (img * w[:, None, None]).sum(0, keepdim=True)
            f = 0.6 + 0.8 * u
            img = (f * img + (1 - f) * gray).clamp(0, 1)
        else:
            t = 2 * math.pi * 0.1 * (2 * u - 1)
            k = torch.full((3,), 1 / math.sqrt(3))
            cross = torch.tensor([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
            rot = math.cos(t) * torch.eye(3) + math.sin(t) * cross
            rot = rot + (1 - math.cos(t)) * torch.outer(k, k)
            img = torch.einsum("ij,jhw->ihw", rot, img).clamp(0, 1)
    return img


def loop_pipeline(channels: int):
    def run(x, y, g):
        n, _, H, W = x.shape
        out = torch.empty_like(x)
        for i in range(n):
            img = x[i]
            if float(torch.rand(1, generator=g)) < 0.5:
                img = img.flip(-1)
            padded = F.pad(img, (4, 4, 4, 4))
            top, left = torch.randint(0, 9, (2,), generator=g).tolist()
            img = padded[:, top : top + H, left : left + W]
            if channels == 3:
                img = _jitter_one(img, g)
            if float(torch.rand(1, generator=g)) < 0.25:
                area = H * W * (0.02 + 0.31 * float(torch.rand(1, generator=g)))
                r = math.exp(math.log(0.3) + math.log(11) * float(torch.rand(1, generator=g)))
                h, w = round(math.sqrt(area * r)), round(math.sqrt(area / r))
                if h <= H and w <= W:
                    t = int(torch.randint(0, H - h + 1, (1,), generator=g))
                    left_ = int(torch.randint(0, W - w + 1, (1,), generator=g))
                    img = img.clone()
                    img[:, t : t + h, left_ : left_ + w] = 0
            out[i] = img
        perm = torch.randperm(n, generator=g)
        soft = F.one_hot(y, K).float()
        mixed, labels = out.clone(), torch.empty(n, K)
        for i in range(n):
            lam = float(torch.rand(1, generator=g))  # Beta(1, 1) is U[0, 1]
            h, w = int(H * math.sqrt(1 - lam)), int(W * math.sqrt(1 - lam))
            cy, cx = torch.randint(0, H, (2,), generator=g).tolist()
            t, b = max(cy - h // 2, 0), min(cy - h // 2 + h, H)
            left_, r = max(cx - w // 2, 0), min(cx - w // 2 + w, W)
            mixed[i, :, t:b, left_:r] = out[perm[i], :, t:b, left_:r]
            kept = 1 - (b - t) * (r - left_) / (H * W)
            labels[i] = kept * soft[i] + (1 - kept) * soft[perm[i]]
        return mixed, labels

    return run


def measure(rounds: int, channels: int, batch: int = B) -> dict[str, float]:
    size = x_size(channels)
    x = torch.rand(batch, channels, size, size, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, K, (batch,), generator=torch.Generator().manual_seed(1))
    contenders = {
        "reti": reti_pipeline(channels),
        "kornia": kornia_pipeline(channels),
        "loop": loop_pipeline(channels),
    }
    times: dict[str, list[float]] = {name: [] for name in contenders}
    g = torch.Generator().manual_seed(0)
    for fn in contenders.values():  # warm-up
        fn(x, y, g)
    for _ in range(rounds):
        for name, fn in contenders.items():
            reps = 1 if name == "loop" else 3
            start = time.perf_counter()
            for _ in range(reps):
                fn(x, y, g)
            times[name].append((time.perf_counter() - start) / reps)
    return {name: batch / statistics.median(ts) for name, ts in times.items()}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 10")
    parser.add_argument("--batch", type=int, default=B, help=f"images per batch (default {B})")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rounds = 3 if args.quick else 10
    threads = torch.get_num_threads()
    print(f"batch {args.batch}, {rounds} rounds, torch {torch.__version__}, threads {threads}")
    print(
        f"{'images':<10}{'reti img/s':>12}{'kornia img/s':>14}{'loop img/s':>12}"
        f"{'x kornia':>10}{'x loop':>8}"
    )
    results = {}
    for channels in (3, 1):
        r = measure(rounds, channels, args.batch)
        results[channels] = r
        label = f"{channels}x{x_size(channels)}x{x_size(channels)}"
        print(
            f"{label:<10}{r['reti']:>12.0f}{r['kornia']:>14.0f}{r['loop']:>12.0f}"
            f"{r['reti'] / r['kornia']:>10.2f}{r['reti'] / r['loop']:>8.1f}"
        )
    rgb = results[3]
    summary = {
        "bench": "augment_speed",
        "reti": round(rgb["reti"], 1),
        "peer": round(rgb["kornia"], 1),
        "unit": f"images/s (3x32x32, batch {args.batch})",
        "ratio": round(rgb["reti"] / rgb["kornia"], 2),
        "loop": round(rgb["loop"], 1),
        "gray_ratio": round(results[1]["reti"] / results[1]["kornia"], 2),
    }
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
