"""Where computation runs and how randomness is seeded: devices, generators, autocast."""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
import random
import sys
from collections.abc import Iterator

import numpy as np
import torch

from reti.errors import ConfigError

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def resolve_device(spec: str | torch.device = "auto") -> torch.device:
    """``"auto"`` picks cuda > mps > cpu; ``"cuda:1"`` and friends are checked for availability.

    Raises:
        ConfigError: unknown device name, or a device this machine does not have.
    """
    if isinstance(spec, torch.device):
        return spec
    name = str(spec).strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    kind = name.split(":")[0]
    if kind not in DEVICES[1:]:
        raise ConfigError(
            f"device must be one of {', '.join(DEVICES)} (cuda:N allowed), got {spec!r}"
        )
    if kind == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {spec!r} was asked for but CUDA is not available here")
    if kind == "mps" and not (
        getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
    ):
        raise ConfigError(f"device {spec!r} was asked for but MPS is not available here")
    try:
        return torch.device(name)
    except RuntimeError as exc:
        raise ConfigError(f"bad device {spec!r}: {exc}") from None


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (all devices); return a CPU ``torch.Generator`` for the seed.

    reti code draws its randomness from explicit generators; the global seeds are set too, so
    that user code and torch internals (dropout, init) are reproducible.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return make_generator(seed)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[torch.Generator]:
    """``seed_everything(seed)`` for the block, and the generators put back as they were after
    it: Python's, NumPy's and torch's global ones (CPU, and every CUDA device already in use).

    The one owner of the global generators in reti: torch's ``nn`` init and ``F.dropout`` take
    no generator, so a run must seed the global one; each pipeline run (and each lab job that
    trains outside one) holds it seeded only while it runs, so a caller (the lab's worker
    thread, a test, a notebook) finds its own random stream where it left it. Inside it,
    ``fit`` reseeds with ``seed + rank`` before its first step (dropout differs per rank).
    Yields the CPU generator of ``seed_everything``.

    Raises:
        ConfigError: a seed that is not an integer >= 0.
    """
    saved = (random.getstate(), np.random.get_state(), torch.get_rng_state())
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
    try:
        yield seed_everything(seed)
    finally:
        random.setstate(saved[0])
        np.random.set_state(saved[1])
        torch.set_rng_state(saved[2])
        if cuda is not None:
            torch.cuda.set_rng_state_all(cuda)


def make_generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A fresh ``torch.Generator`` on ``device`` seeded with ``seed``."""
    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed))
    return gen


def resolve_precision(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``precision`` on ``device``; ``None`` means plain fp32.

    ``auto``: bf16 on CUDA devices that support it, fp16 on older CUDA, fp32 on the CPU. On a
    CPU with bf16 units bf16 autocast is faster (measured 1.4-2.6x, bench/train_overhead.py and
    bench/lm_train.py) but rounds differently, so it stays a choice (``precision="bf16"``,
    ``reti text train --fast``) and the default keeps fp32's numbers.
    """
    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "fp32":
        return None
    if precision == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return None
    if precision == "fp16" and device.type == "cpu":
        raise ConfigError("precision 'fp16' needs a GPU; use 'bf16' or 'fp32' on the CPU")
    return torch.bfloat16 if precision == "bf16" else torch.float16


def autocast(device: torch.device, dtype: torch.dtype | None):
    """``torch.autocast`` for ``dtype`` on ``device``, or a no-op context when ``dtype`` is None."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def world() -> tuple[int, int, int]:
    """``(rank, local_rank, world_size)`` from the torchrun environment; ``(0, 0, 1)`` alone."""
    return (
        int(os.environ.get("RANK", 0)),
        int(os.environ.get("LOCAL_RANK", 0)),
        int(os.environ.get("WORLD_SIZE", 1)),
    )


# glibc mallopt parameters (malloc.h): return freed heap memory to the OS above this size / serve
# allocations of at least this size with their own mmap.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_KEEP_BYTES, _MMAP_BYTES = 1 << 30, 32 << 20  # 32 MiB is the largest mmap threshold glibc takes
_allocator_tuned = False


def keep_freed_memory() -> bool:
    """Let glibc keep the memory that tensors free for the next ones instead of returning it.

    A training step frees and re-allocates the same activation buffers every step. By default
    glibc hands large freed blocks back to the OS and the next step pays a page fault for every
    4 KiB page of them again (measured: thousands of faults a step on bench/train_overhead.py's
    ResNet, 5-8 % of its time). This raises the trim threshold to 1 GiB and keeps blocks under
    32 MiB on the heap (``mallopt``), the effect jemalloc or tcmalloc would have, for this process.

    Does nothing (and returns False) off Linux/glibc, when a ``MALLOC_*`` variable or an
    ``LD_PRELOAD``-ed allocator says the user chose the allocator's settings, or when it already
    ran; returns True when it changed the settings.
    """
    global _allocator_tuned
    if _allocator_tuned or not sys.platform.startswith("linux"):
        return False
    if platform.libc_ver()[0] != "glibc":
        return False
    if any(k.startswith(("MALLOC_", "GLIBC_TUNABLES")) for k in os.environ):
        return False
    if "malloc" in os.environ.get("LD_PRELOAD", ""):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    ok = libc.mallopt(_M_TRIM_THRESHOLD, _KEEP_BYTES) == 1
    ok = libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_BYTES) == 1 and ok
    _allocator_tuned = ok
    return ok
