"""The CUDA paths, checked in one short run on a GPU machine (not a test: no GPU in CI).

What it checks, each with ``reti.train.fit`` on a small CNN and random data:
bf16 autocast (``precision="bf16"``), fp16 with a GradScaler (``precision="fp16"``),
``torch.compile`` (and that the checkpoint holds the unwrapped model), channels_last, a GPT step
with ``scaled_dot_product_attention`` under bf16, KV-cached generation on the GPU, and a
1-GPU ``torchrun`` (NCCL) run of the same training. On a machine without CUDA it says so and
exits 0. Usage: ``python bench/gpu_check.py`` (about a minute on one GPU).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from reti.generate import SamplingConfig, generate
from reti.io import load_checkpoint
from reti.models.gpt import GPT, GPTConfig
from reti.train import TrainConfig, fit


def _cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.BatchNorm2d(64),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(64, 10),
    )


def _data(n: int = 2048) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 10, (n,), generator=g)
    x = torch.randn(n, 3, 32, 32, generator=g) * 0.5 + y[:, None, None, None] * 0.1
    return x, y


def _train(run_dir: Path | None, **cfg) -> dict:
    start = time.perf_counter()
    history = fit(
        _cnn(),
        _data(),
        TrainConfig(epochs=2, batch_size=128, lr=3e-3, quiet=True, device="cuda", **cfg),
        loss_fn=F.cross_entropy,
        run_dir=run_dir,
    )
    row = history.final
    return {
        "train_loss": round(row["train_loss"], 4),
        "samples_per_s": round(row.get("samples_per_s", 0.0)),
        "seconds": round(time.perf_counter() - start, 1),
    }


def main() -> int:
    if "--ddp-child" in sys.argv:
        _train(Path(sys.argv[-1]))
        return 0
    if not torch.cuda.is_available():
        print("no CUDA device here: nothing to check")
        print(json.dumps({"bench": "gpu_check", "cuda": False}))
        return 0
    results: dict[str, object] = {"device": torch.cuda.get_device_name(0)}
    checks = {
        "fp32": {"precision": "fp32"},
        "bf16": {"precision": "bf16"},
        "fp16+scaler": {"precision": "fp16"},
        "channels_last+bf16": {"precision": "bf16", "channels_last": True},
    }
    for name, cfg in checks.items():
        try:
            results[name] = _train(None, **cfg)
        except Exception as exc:  # report every path, even a failing one
            results[name] = f"FAILED: {exc.__class__.__name__}: {exc}"
        print(name, results[name], flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            results["compile+bf16"] = _train(Path(tmp) / "c", precision="bf16", compile=True)
            latest = (Path(tmp) / "c" / "checkpoints" / "latest").read_text().strip()
            tensors, _ = load_checkpoint(Path(tmp) / "c" / "checkpoints" / latest)
            results["compile_checkpoint_unwrapped"] = not any(
                "_orig_mod" in k or k.startswith("module.") for k in tensors
            )
        except Exception as exc:
            results["compile+bf16"] = f"FAILED: {exc.__class__.__name__}: {exc}"
        print("compile", results["compile+bf16"], flush=True)
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc-per-node",
            "1",
            __file__,
            "--ddp-child",
            str(Path(tmp) / "ddp"),
        ]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        results["torchrun_1gpu"] = "ok" if proc.returncode == 0 else proc.stderr[-800:]
        print("torchrun", results["torchrun_1gpu"], flush=True)
    model = GPT(
        GPTConfig(vocab_size=65, n_ctx=256, n_layer=4, n_head=4, d_model=128, pos="alibi")
    ).cuda()
    with torch.autocast("cuda", dtype=torch.bfloat16):
        logits = model(torch.randint(0, 65, (8, 256), device="cuda"))
    results["gpt_bf16_logits_finite"] = bool(torch.isfinite(logits.float()).all())
    prompt = [1, 2, 3]
    a = generate(model, prompt, SamplingConfig(max_tokens=200, greedy=True, use_cache=True))
    b = generate(model, prompt, SamplingConfig(max_tokens=200, greedy=True, use_cache=False))
    results["kv_cache_equal_on_gpu"] = a == b
    print(json.dumps({"bench": "gpu_check", "cuda": True, **results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
