"""The CUDA paths, checked in one short run on a GPU machine (not a test: no GPU in CI).

What it checks, each with ``reti.train.fit`` on a small CNN and random data:
bf16 autocast (``precision="bf16"``), fp16 with a GradScaler (``precision="fp16"``),
``torch.compile`` (and that the checkpoint holds the unwrapped model), channels_last, a GPT step
with ``scaled_dot_product_attention`` under bf16, KV-cached generation on the GPU, and a
1-GPU ``torchrun`` (NCCL) run of the same training. Then the speed figures a lent GPU should
give at once: the LM bench's largest size (6 layers, 6 heads, width 384, context 256, batch 64,
nanoGPT's shakespeare-char model) for the nanoGPT-equivalent peer (bench/_nanogpt.py; on CUDA
with nanoGPT's own GPU recipe: bf16 autocast, fused AdamW, torch.compile) and for reti's GPT
(bf16, fused AdamW, compile), tokens/s and MFU over a bf16 8192^3 matmul peak measured here;
and the ResNet-20 training step (batch 256, 32x32) in bf16 with channels_last, eager and
compiled, in samples/s. Compile times are reported apart. Last, bench/time_to_quality.py
``--quick --device cuda`` in a subprocess (its JSON line under ``time_to_quality``): every
pipeline's time to the target against its peer, a smoke test of those paths on the GPU. On a
machine without CUDA it says so and exits 0. Usage: ``python bench/gpu_check.py`` (a few
minutes on one GPU).
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
from reti.models.registry import build_model
from reti.train import TrainConfig, fit

LM = (6, 6, 384, 256, 64)  # layers, heads, width, context, batch
CUDA = torch.device("cuda")


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


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _timed(step, iters: int, device: torch.device) -> tuple[float, float]:
    """(seconds of the first call: compilation and warm-up, seconds per later step)."""
    start = time.perf_counter()
    step()
    _sync(device)
    first = time.perf_counter() - start
    for _ in range(3):
        step()
    _sync(device)
    start = time.perf_counter()
    for _ in range(iters):
        step()
    _sync(device)
    return first, (time.perf_counter() - start) / iters


def _bf16_peak(n: int = 8192, reps: int = 20) -> float:
    a = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    a @ b
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    torch.cuda.synchronize()
    return 2 * n**3 * reps / (time.perf_counter() - start)


def _lm_speed(peak: float, iters=30, device=CUDA, size=LM, compile=True) -> dict:
    """tokens/s and MFU of a training step, nanoGPT-equivalent vs reti, bf16 + compile."""
    from _nanogpt import NanoGPT, reti_twin  # bench/ is on the path: python bench/gpu_check.py

    n_layer, n_head, width, ctx, batch = size
    torch.manual_seed(0)
    nano = NanoGPT(65, ctx, n_layer, n_head, width).to(device)
    gpt = reti_twin(nano, 65, ctx, n_layer, n_head).to(device)
    fpt = gpt.flops_per_sample(ctx) / ctx
    x = torch.randint(0, 65, (batch, ctx), device=device)
    y = torch.randint(0, 65, (batch, ctx), device=device)
    out = {"size": dict(zip(("layers", "heads", "width", "ctx", "batch"), size, strict=True))}
    for name, model in (("nanogpt", nano), ("reti", gpt)):
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), fused=True)
        compiled = torch.compile(model) if compile else model

        def step(model=compiled, opt=opt):
            with torch.autocast(device.type, torch.bfloat16):
                _, loss = model(x, y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)

        first, per_step = _timed(step, iters, device)
        tps = batch * ctx / per_step
        out[name] = {"tokens_s": round(tps), "mfu": round(fpt * tps / peak, 4),
                     "compile_s": round(first, 1)}  # fmt: skip
    out["ratio"] = round(out["reti"]["tokens_s"] / out["nanogpt"]["tokens_s"], 3)
    return out


def _resnet_speed(iters=30, device=CUDA, modes=("eager", "compile"), batch=256):
    """samples/s of a ResNet-20 training step (batch 256) in bf16, channels_last."""
    x = torch.randn(batch, 3, 32, 32, device=device).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch,), device=device)
    out = {}
    for name in modes:
        torch.manual_seed(0)
        model = build_model("resnet20", 10, 3, 32).to(device).to(memory_format=torch.channels_last)
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, fused=True)
        run = torch.compile(model) if name == "compile" else model

        def step(run=run, opt=opt):
            with torch.autocast(device.type, torch.bfloat16):
                loss = F.cross_entropy(run(x), y)
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)

        first, per_step = _timed(step, iters, device)
        out[name] = {"samples_s": round(batch / per_step), "first_step_s": round(first, 1)}
    return out


def _time_to_quality(timeout: int = 600) -> dict | str:
    """bench/time_to_quality.py --quick on CUDA; its JSON line, or why there is none."""
    cmd = [sys.executable, str(Path(__file__).with_name("time_to_quality.py")), "--quick",
           "--device", "cuda", "--threads", "0"]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"FAILED: over {timeout} s"
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return f"FAILED (exit {proc.returncode}): {proc.stderr[-800:]}"
    try:
        return json.loads(lines[-1])
    except ValueError:
        return f"FAILED: its last line is not JSON: {lines[-1][:300]}"


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
    peak = _bf16_peak()
    results["bf16_matmul_tflops"] = round(peak / 1e12, 1)
    for name, fn in (("lm_train", lambda: _lm_speed(peak)), ("resnet20_step", _resnet_speed)):
        try:
            results[name] = fn()
        except Exception as exc:  # report every path, even a failing one
            results[name] = f"FAILED: {exc.__class__.__name__}: {exc}"
        print(name, results[name], flush=True)
    results["time_to_quality"] = _time_to_quality()
    print("time_to_quality", results["time_to_quality"], flush=True)
    print(json.dumps({"bench": "gpu_check", "cuda": True, **results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
