"""Model-FLOPs utilisation: how much of the machine's measured matmul peak a run uses.

A model may declare ``flops_per_sample()``: the FLOPs one *training* step spends on one sample,
forward and backward (a multiply-add counts 2; the backward costs about twice the forward, so
this is about 3x the forward pass -- PaLM appendix B, as ``reti.models.gpt.GPT`` counts it), so

    MFU = flops_per_sample * samples_per_second / peak

where ``peak`` is measured, not the datasheet's, so the figure says how well the run feeds
*this* machine: the fastest of ``repeats`` square matmuls (fp32 on the CPU, bf16 on CUDA)
after two warm-up calls. One timing taken while another program holds the cores makes the
peak too low and the MFU too high, so the best of many is kept, and the best ever seen is
cached per machine, device model, dtype and thread count in ``<reti cache>/peak_flops.json``
($RETI_DATA, else $XDG_CACHE_HOME/reti, else ~/.cache/reti): each process measures once more
and keeps the larger, so a busy moment can lower no one's peak. An MFU that would still come
out above 1 is dropped (None) with a warning.
"""

from __future__ import annotations

import contextlib
import json
import platform
import time
import warnings

import torch

from reti.data.fetch import cache_dir
from reti.errors import RetiError
from reti.io import atomic_write_json

PEAK_FILE = "peak_flops.json"
_PEAK: dict[str, float] = {}
_WARNED: set[str] = set()  # warn once per peak, not at every row


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _setting(device: torch.device) -> tuple[int, torch.dtype]:
    return (4096, torch.bfloat16) if device.type == "cuda" else (1024, torch.float32)


def peak_key(device: torch.device) -> str:
    """What a peak depends on: machine, device model, dtype, torch threads."""
    _, dtype = _setting(device)
    if device.type == "cuda":
        model = torch.cuda.get_device_name(device)
    else:
        model = platform.processor() or platform.machine()
    threads = torch.get_num_threads()
    return f"{platform.node()}|{device.type}:{model}|{str(dtype)[6:]}|threads={threads}"


def _read_cache() -> dict[str, float]:
    try:
        data = json.loads((cache_dir() / PEAK_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: float(v) for k, v in data.items() if isinstance(v, int | float) and v > 0}


def _write_cache(key: str, value: float) -> None:
    with contextlib.suppress(OSError, RetiError):  # a read-only cache only costs a re-measure
        atomic_write_json(cache_dir() / PEAK_FILE, {**_read_cache(), key: value})


def time_matmul(device: torch.device, size: int, dtype: torch.dtype, repeats: int) -> float:
    """FLOP/s of the fastest of ``repeats`` ``size x size`` matmuls, after two warm-up calls."""
    gen = torch.Generator(device=device).manual_seed(0)
    a = torch.randn(size, size, device=device, dtype=dtype, generator=gen)
    b = torch.randn(size, size, device=device, dtype=dtype, generator=gen)
    for _ in range(2):  # the first calls pay for kernel selection and page faults
        a @ b
    _sync(device)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        _sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / max(best, 1e-12)


def measured_peak(device: torch.device, size: int | None = None, repeats: int = 10) -> float:
    """This machine's matmul FLOP/s on ``device``: measured once per process (``time_matmul``),
    never below the best the cache has seen, which it raises; ``size`` overrides the matmul size
    (tests)."""
    key = peak_key(device)
    if key in _PEAK:
        return _PEAK[key]
    default_size, dtype = _setting(device)
    measured = time_matmul(device, size or default_size, dtype, repeats)
    cached = _read_cache().get(key, 0.0)
    if measured > cached:
        _write_cache(key, measured)
    _PEAK[key] = max(measured, cached)
    return _PEAK[key]


def mfu(flops_per_sample: float, samples_per_s: float, device: torch.device) -> float | None:
    """``flops_per_sample * samples_per_s / measured_peak(device)`` (a fraction, not %),
    or None when that is above 1 (the peak was measured too low; a warning, once per peak)."""
    value = flops_per_sample * samples_per_s / measured_peak(device)
    if value > 1.0:
        if peak_key(device) in _WARNED:
            return None
        _WARNED.add(peak_key(device))
        warnings.warn(
            f"MFU would be {value:.2f} (over 100 % of the measured peak, which a busy moment "
            f"undercut, or the model's flops_per_sample counts too much): MFU left out",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    return value
