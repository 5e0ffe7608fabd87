"""Model-FLOPs utilisation: how much of the machine's measured matmul peak a run uses.

A model may declare ``flops_per_sample()``: the FLOPs of one forward pass on one sample
(a multiply-add counts 2). Training costs about three forward passes (forward, and a backward
that is twice the forward -- the usual estimate, e.g. the PaLM paper's appendix B), so

    MFU = 3 * flops_per_sample * samples_per_second / peak

where ``peak`` is measured once per process and device: the best of a few timed square
matmuls in fp32 (bf16 on CUDA). A measured peak, not the datasheet's, so the figure says how
well the run feeds *this* machine.
"""

from __future__ import annotations

import time

import torch

_PEAK: dict[str, float] = {}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measured_peak(device: torch.device, size: int = 1024, repeats: int = 5) -> float:
    """FLOP/s of the fastest of ``repeats`` ``size x size`` matmuls on ``device`` (cached)."""
    key = str(device)
    if key in _PEAK:
        return _PEAK[key]
    if device.type == "cuda":
        size, dtype = 4096, torch.bfloat16
    else:
        dtype = torch.float32
    gen = torch.Generator(device=device).manual_seed(0)
    a = torch.randn(size, size, device=device, dtype=dtype, generator=gen)
    b = torch.randn(size, size, device=device, dtype=dtype, generator=gen)
    a @ b  # warm-up: first call pays for kernel selection
    _sync(device)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        _sync(device)
        best = min(best, time.perf_counter() - start)
    _PEAK[key] = 2 * size**3 / max(best, 1e-12)
    return _PEAK[key]


def mfu(flops_per_sample: float, samples_per_s: float, device: torch.device) -> float:
    """``3 * flops_per_sample * samples_per_s / measured_peak(device)`` (a fraction, not %)."""
    return 3.0 * flops_per_sample * samples_per_s / measured_peak(device)
