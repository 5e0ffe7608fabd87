"""Resource guards: a size is checked against what the machine can hold *before* it is allocated,
and refused in one line saying what and how much (``model 'FC@1000000000000' needs 4.0 TB for
its weights; this machine has 24 GB``) instead of a ``DefaultCPUAllocator`` crash.

Models are measured by building them once on PyTorch's ``meta`` device (shapes only, no memory,
no random numbers drawn), so every builder gets the same exact count for free.

>>> human_bytes(4 * 10**12), human_bytes(1536)
('4.0 TB', '1.5 KB')
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from itertools import chain

import torch
from torch import nn

from reti.errors import ConfigError, DataError

# Pillow's own default (0.25 GiB of 24-bit pixels, "a decompression bomb" past it): reti reads
# no image whose header claims more pixels, whatever the machine.
MAX_IMAGE_PIXELS = 89_478_485
# Crop padding / sizes above this are a typo, not an image (Pillow's limit is ~9459^2 pixels).
MAX_IMAGE_SIDE = 16_384
# Pretend the machine holds this much (bytes; "512MB", "2GB" also read): for shared machines/tests.
LIMIT_ENV = "RETI_MEMORY_LIMIT"
_UNITS = ("B", "KB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
_measuring = threading.local()
_budget = threading.local()


def human_bytes(n: float) -> str:
    """``n`` bytes in decimal units with one decimal (``"4.0 TB"``); whole bytes below 1 KB."""
    n = float(n)
    for unit in _UNITS:
        if abs(n) < 1000 or unit == _UNITS[-1]:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} {_UNITS[-1]}"  # pragma: no cover - the loop always returns


def _parse_limit(text: str) -> int:
    raw = text.strip().upper().replace(" ", "")
    for power, unit in reversed(list(enumerate(_UNITS))):
        if unit != "B" and raw.endswith(unit):
            number, scale = raw[: -len(unit)], 1000**power
            break
    else:
        number, scale = raw.removesuffix("B"), 1
    try:
        value = float(number) * scale
    except ValueError:
        value = -1.0
    if not 0 < value < 2**63:
        raise ConfigError(f"{LIMIT_ENV} must be a size such as 2GB or 500000000, got {text!r}")
    return int(value)


def machine_memory(device: str | torch.device | None = None) -> tuple[int, str]:
    """(bytes, how to name them): RAM for the CPU, the GPU's memory for a CUDA device, or the
    ``RETI_MEMORY_LIMIT`` override."""
    budget = getattr(_budget, "value", None)
    if budget is not None:
        return budget
    override = os.environ.get(LIMIT_ENV)
    if override:
        limit = _parse_limit(override)
        return limit, f"the memory limit ({LIMIT_ENV}) is {human_bytes(limit)}"
    dev = torch.device(device) if device is not None else torch.device("cpu")
    if dev.type == "cuda" and torch.cuda.is_available():
        total = torch.cuda.get_device_properties(dev.index or 0).total_memory
        return total, f"the GPU has {human_bytes(total)}"
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not every system names these
        return 2**62, "this machine's memory is unknown"
    return total, f"this machine has {human_bytes(total)}"


@contextlib.contextmanager
def memory_budget(nbytes: int, name: str) -> Iterator[None]:
    """Within the block, in this thread only, every check above compares against ``nbytes``
    (named ``name`` in its message) instead of the machine: a web request's own budget.

    >>> with memory_budget(10**6, "the preview budget"):
    ...     check_bytes(10**9, "a tensor")
    Traceback (most recent call last):
    reti.errors.ConfigError: a tensor needs 1.0 GB; the preview budget is 1.0 MB
    """
    old = getattr(_budget, "value", None)
    limit = min(nbytes, machine_memory()[0])
    _budget.value = (limit, f"{name} is {human_bytes(nbytes)}")
    try:
        yield
    finally:
        _budget.value = old


def check_bytes(
    nbytes: int, what: str, purpose: str = "", *, device=None, error: type = ConfigError
) -> None:
    """Raise ``error`` when ``nbytes`` is more than the memory of ``device`` (default: RAM):
    ``a tensor needs 1000000.0 YB; this machine has 24.3 GB``."""
    limit, machine = machine_memory(device)
    if nbytes > limit:
        purpose = f" {purpose}" if purpose else ""
        raise error(f"{what} needs {human_bytes(nbytes)}{purpose}; {machine}")


def check_elements(shape: tuple[int, ...], itemsize: int, what: str, **kwargs) -> None:
    """``check_bytes`` for a tensor of ``shape`` with ``itemsize`` bytes per element."""
    count = 1
    for size in shape:
        count *= int(size)
    check_bytes(count * itemsize, what, **kwargs)


def module_bytes(model: nn.Module) -> int:
    """Bytes of a module's parameters and buffers (shared tensors counted once)."""
    seen, total = set(), 0
    for tensor in chain(model.parameters(), model.buffers()):
        if id(tensor) not in seen:
            seen.add(id(tensor))
            total += tensor.numel() * tensor.element_size()
    return total


def check_model(build: Callable[[], nn.Module], what: str) -> None:
    """Build the model on the meta device and refuse it when its weights outgrow the machine.

    Call it from a model's ``__init__`` (``check_model(lambda: TCN(config), "TCN")``) after the
    config is validated: the measuring build re-enters ``__init__`` and is let through.

    Raises:
        ConfigError: the weights (parameters + buffers) need more bytes than the machine has.
    """
    if getattr(_measuring, "active", False):
        return
    _measuring.active = True
    try:
        with torch.device("meta"):
            model = build()
    except RuntimeError as exc:  # a shape whose byte count does not even fit in 64 bits
        if "overflow" not in str(exc):
            return  # a builder the meta device cannot run; the real build reports its own error
        machine = machine_memory()[1]
        raise ConfigError(
            f"{what} needs more than {human_bytes(2**63)} for its weights (a tensor's size "
            f"overflows 64 bits); {machine}"
        ) from None
    except NotImplementedError:
        return
    finally:
        _measuring.active = False
    check_bytes(module_bytes(model), what, "for its weights")


def activation_bytes(
    build: Callable[[], nn.Module], example: tuple[int, ...], dtype: torch.dtype = torch.float32
) -> int | None:
    """Bytes of every leaf module's output for ONE input of shape ``example`` (no batch axis,
    ``dtype``: token ids are int64), from a forward pass on the meta device: what autograd keeps
    for the backward pass, roughly. None when the model cannot run on the meta device."""
    if getattr(_measuring, "active", False):
        return None
    _measuring.active = True
    total = 0

    def count(module, inputs, output):
        nonlocal total
        if isinstance(output, torch.Tensor):
            total += output.numel() * output.element_size()

    try:
        with torch.device("meta"):
            model = build()
            hooks = [
                m.register_forward_hook(count) for m in model.modules() if not list(m.children())
            ]
            model(torch.zeros((1, *example), dtype=dtype))
        for hook in hooks:
            hook.remove()
    except (RuntimeError, NotImplementedError, ValueError, TypeError):
        return None
    finally:
        _measuring.active = False
    return total


def check_batch(
    build: Callable[[], nn.Module],
    example: tuple[int, ...],
    batch_size: int,
    what: str,
    dtype: torch.dtype = torch.float32,
) -> None:
    """Refuse a batch whose activations (``activation_bytes`` x ``batch_size``) outgrow memory:
    ``one batch of 128 through model 'cnn' needs 40.1 GB for its activations; ...``."""
    per_sample = activation_bytes(build, example, dtype)
    if per_sample is not None:
        check_bytes(
            per_sample * batch_size,
            f"one batch of {batch_size} through {what}",
            "for its activations",
        )


def check_image_pixels(width: int, height: int, source: str, limit: int = MAX_IMAGE_PIXELS) -> None:
    """Refuse an image whose header claims more than ``limit`` pixels (``MAX_IMAGE_PIXELS``, or
    a smaller budget such as the lab's per upload).

    Raises:
        DataError: naming the file and the claimed size.
    """
    if width * height > limit:
        raise DataError(
            f"{source}: image claims {width}x{height} pixels ({width * height:,}); reti reads "
            f"at most {limit:,} pixels per image (a decompression bomb guard)"
        )


def check_side(value: int, what: str) -> None:
    """Refuse an image side, crop size or padding above ``MAX_IMAGE_SIDE`` pixels."""
    if value > MAX_IMAGE_SIDE:
        raise ConfigError(f"{what} must be at most {MAX_IMAGE_SIDE} pixels, got {value}")
