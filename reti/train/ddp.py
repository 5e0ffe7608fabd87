"""Data-parallel training under ``torchrun``: process group, sharded data order, DDP, reductions.

``torchrun --nproc-per-node N`` sets RANK / LOCAL_RANK / WORLD_SIZE; ``setup`` then joins the
process group (NCCL on GPUs, gloo on the CPU) and gives each rank its device. Every rank draws
the same shuffled order from the same seed; ``shard`` cuts it into global batches of
``batch_size * world_size`` and hands rank r the r-th slice of each, which is what
``DistributedSampler`` does, with the trailing partial global batch dropped so that every rank
takes the same number of steps (an unequal count would hang the gradient all-reduce).
Alone (WORLD_SIZE 1) every function here is a no-op. ``Source`` turns those index batches
into ``(x, y)`` batches on the device.
"""

from __future__ import annotations

import atexit
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, Dataset

from reti.errors import DataError, ShapeError
from reti.runtime import resolve_device, world


@dataclass
class Dist:
    """Where this process stands: its rank, its local rank, how many there are, its device."""

    rank: int
    local_rank: int
    world_size: int
    device: torch.device

    @property
    def active(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(device: str = "auto") -> Dist:
    """Read the torchrun environment; join the process group when there is more than one rank.

    The group is joined once per process and left at exit, so a script may call ``fit``
    several times (the demo trains two models) under one torchrun.
    """
    rank, local_rank, world_size = world()
    dev = resolve_device(device)
    if world_size > 1 and dev.type == "cuda":
        dev = torch.device("cuda", local_rank)
        torch.cuda.set_device(dev)
    if world_size > 1 and not dist.is_initialized():
        backend = "nccl" if dev.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size)
        atexit.register(_leave)
    return Dist(rank, local_rank, world_size, dev)


def _leave() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


class IndexBatches:
    """A lazy sequence of index batches: ``order[s : s + batch_size]`` for each ``s`` in
    ``starts`` (a ``range``). Nothing is cut up front, so an epoch over millions of samples
    starts at once; slicing gives another ``IndexBatches`` (resuming mid-epoch, grouping)."""

    def __init__(self, order: torch.Tensor, starts: range, batch_size: int):
        self.order, self.starts, self.batch_size = order, starts, batch_size

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i: int | slice) -> torch.Tensor | IndexBatches:
        if isinstance(i, slice):
            return IndexBatches(self.order, self.starts[i], self.batch_size)
        s = self.starts[i]
        return self.order[s : s + self.batch_size]

    def __iter__(self):
        for s in self.starts:
            yield self.order[s : s + self.batch_size]

    def sizes(self) -> int:
        """How many indices the batches hold together (the last one may be short)."""
        return sum(min(self.batch_size, len(self.order) - s) for s in self.starts)


def shard(order: torch.Tensor, batch_size: int, info: Dist) -> IndexBatches:
    """This rank's micro-batches of indices from the epoch's shuffled ``order`` (lazily).

    Alone: ``order`` in consecutive chunks of ``batch_size`` (the last may be shorter, but never
    a single sample after full batches: that one is left out of the epoch, as batch norm cannot
    train on one sample; the order is reshuffled every epoch, so it is another sample each time).
    """
    if not info.active:
        return IndexBatches(
            order, range(0, _usable_alone(len(order), batch_size), batch_size), batch_size
        )
    span = batch_size * info.world_size
    usable = (len(order) // span) * span
    return IndexBatches(order, range(info.rank * batch_size, usable, span), batch_size)


def batches_per_epoch(n: int, batch_size: int, info: Dist) -> int:
    """How many micro-batches each rank takes per epoch (see ``shard``)."""
    if not info.active:
        return -(-_usable_alone(n, batch_size) // batch_size)
    return n // (batch_size * info.world_size)


def _usable_alone(n: int, batch_size: int) -> int:
    """How many of ``n`` samples one process trains on per epoch (see ``shard``)."""
    return n - 1 if n > batch_size and n % batch_size == 1 else n


def wrap(model: nn.Module, info: Dist) -> nn.Module:
    """``DistributedDataParallel(model)`` under torchrun, else ``model`` itself."""
    if not info.active:
        return model
    from torch.nn.parallel import DistributedDataParallel

    ids = [info.device.index] if info.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)


def all_reduce_sum(values: torch.Tensor, info: Dist) -> torch.Tensor:
    """Sum a tensor over ranks (in place, returned); alone it is returned unchanged."""
    if info.active:
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def barrier(info: Dist) -> None:
    if info.active:
        dist.barrier()


class Source:
    """Training or validation data: an ``(X, y)`` tensor pair indexed directly (no DataLoader
    overhead), or a ``Dataset`` read through a ``DataLoader`` over the same index batches."""

    def __init__(self, data: Dataset | tuple[torch.Tensor, torch.Tensor], name: str):
        self.name = name
        if isinstance(data, tuple | list):
            if len(data) != 2 or not all(isinstance(t, torch.Tensor) for t in data):
                raise ShapeError(f"{name} must be a Dataset or a tuple (X, y) of two tensors")
            if data[0].dim() == 0 or data[1].dim() == 0 or len(data[0]) != len(data[1]):
                raise ShapeError(
                    f"{name} X and y must have the same length, got {tuple(data[0].shape)} "
                    f"and {tuple(data[1].shape)}"
                )
            self.tensors, self.dataset, self.n = (data[0], data[1]), None, len(data[0])
        elif hasattr(data, "__getitem__") and hasattr(data, "__len__"):
            self.tensors, self.dataset, self.n = None, data, len(data)
        else:
            raise ShapeError(f"{name} must be a Dataset or a tuple (X, y), got {type(data)}")
        if self.n == 0:
            raise DataError(f"{name} data is empty")

    def batches(self, index_batches: IndexBatches, device: torch.device):
        """Yield ``(x, y)`` on ``device`` for each tensor of indices (read as they come)."""
        blocking = device.type != "cuda"
        if self.tensors is not None:
            X, y = self.tensors
            for idx in index_batches:
                idx = idx.to(X.device)
                x_b, y_b = X[idx], y[idx]
                yield x_b.to(device, non_blocking=not blocking), y_b.to(device, non_blocking=True)
            return
        loader = DataLoader(
            self.dataset,
            batch_sampler=(i.tolist() for i in index_batches),
            pin_memory=device.type == "cuda",
        )
        for x_b, y_b in loader:
            yield x_b.to(device, non_blocking=not blocking), y_b.to(device, non_blocking=True)
