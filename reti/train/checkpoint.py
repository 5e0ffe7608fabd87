"""Full training state on disk, for exact resume: model, optimizer, EMA, step, every RNG.

A run folder holds ``checkpoints/step-0000120/`` folders (``reti.io`` format: safetensors +
meta.json, written atomically) and a ``checkpoints/latest`` file naming the newest one; the
pointer is replaced atomically *after* the folder is complete, so a crash at any moment leaves
the previous checkpoint readable. Only the last ``keep_last`` folders are kept.

Tensor names: ``model/<param>`` (the unwrapped model: no ``_orig_mod.`` / ``module.``),
``ema/<param>``, ``optim/<index>/<state>``, ``rng/<name>``. Everything else lives in meta.
"""

from __future__ import annotations

import os
import random
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from reti.errors import CheckpointError, DataNotFoundError
from reti.io import META_FILE, atomic_write_text, load_checkpoint, save_checkpoint
from reti.jsonio import Field, check_schema

CHECKPOINTS = "checkpoints"
LATEST = "latest"
STEP_PREFIX = "step-"
WRAPPER_PREFIXES = ("_orig_mod.", "module.")


def unwrap(model: nn.Module) -> nn.Module:
    """The plain module under ``torch.compile`` and DDP wrappers."""
    while True:
        inner = getattr(model, "_orig_mod", None) or getattr(model, "module", None)
        if not isinstance(inner, nn.Module):
            return model
        model = inner


def clean_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """``state_dict`` of the unwrapped model, any wrapper prefix stripped from the names."""
    out = {}
    for name, value in unwrap(model).state_dict().items():
        for prefix in WRAPPER_PREFIXES:
            name = name.replace(prefix, "")
        out[name] = value
    return out


# ----------------------------------------------------------------------------- optimizer state
def optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """Split ``optimizer.state_dict()`` into tensors (moments, step counts) and JSON meta."""
    state = optimizer.state_dict()
    tensors, scalars = {}, {}
    for index, slots in state["state"].items():
        for slot, value in slots.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim/{index}/{slot}"] = value
            elif value is not None:
                scalars[f"{index}/{slot}"] = value
    groups = [{k: v for k, v in g.items()} for g in state["param_groups"]]
    for g in groups:
        if isinstance(g.get("betas"), tuple):
            g["betas"] = list(g["betas"])
    return tensors, {"param_groups": groups, "scalars": scalars}


def load_optimizer(optimizer: torch.optim.Optimizer, tensors: dict, meta: dict) -> None:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith("optim/"):
            _, index, slot = name.split("/", 2)
            state.setdefault(int(index), {})[slot] = value
    for key, value in meta["scalars"].items():
        index, slot = key.split("/", 1)
        state.setdefault(int(index), {})[slot] = value
    groups = [dict(g) for g in meta["param_groups"]]
    for g in groups:
        if isinstance(g.get("betas"), list):
            g["betas"] = tuple(g["betas"])
    try:
        optimizer.load_state_dict({"state": state, "param_groups": groups})
    except (ValueError, KeyError) as exc:
        raise CheckpointError(f"optimizer state does not fit this model: {exc}") from None
    # Saved tensors come back contiguous; a channels-last weight needs its moments laid out as
    # itself, or the fused step (which walks memory in order) would pair the wrong elements.
    for group in optimizer.param_groups:
        for p in group["params"]:
            slots = optimizer.state.get(p, {})
            for slot, value in slots.items():
                if (
                    torch.is_tensor(value)
                    and value.shape == p.shape
                    and value.stride() != p.stride()
                ):
                    slots[slot] = torch.empty_like(p, dtype=value.dtype).copy_(value)


# ----------------------------------------------------------------------------- RNG state
def rng_state(generators: dict[str, torch.Generator]) -> tuple[dict[str, torch.Tensor], dict]:
    """Every random stream a run draws from: torch CPU/CUDA, NumPy, Python, reti's generators."""
    tensors = {"rng/torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng/cuda{i}"] = s
    for name, gen in generators.items():
        tensors[f"rng/gen/{name}"] = gen.get_state()
    np_kind, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    tensors["rng/numpy"] = torch.from_numpy(np_keys.astype(np.int64))
    py_version, py_state, py_gauss = random.getstate()
    tensors["rng/python"] = torch.tensor(py_state, dtype=torch.int64)
    meta = {
        "numpy": [np_kind, int(np_pos), int(np_has_gauss), float(np_gauss)],
        "python": [py_version, py_gauss],
    }
    return tensors, meta


def restore_rng(tensors: dict, meta: dict, generators: dict[str, torch.Generator]) -> None:
    torch.set_rng_state(tensors["rng/torch"])
    if torch.cuda.is_available():
        states = [tensors[k] for k in sorted(tensors) if k.startswith("rng/cuda")]
        if states:
            torch.cuda.set_rng_state_all(states)
    for name, gen in generators.items():
        gen.set_state(tensors[f"rng/gen/{name}"])
    kind, pos, has_gauss, gauss = meta["numpy"]
    keys = tensors["rng/numpy"].numpy().astype(np.uint32)
    np.random.set_state((kind, keys, pos, has_gauss, gauss))
    version, py_gauss = meta["python"]
    random.setstate((version, tuple(int(v) for v in tensors["rng/python"].tolist()), py_gauss))


# ----------------------------------------------------------------------------- folders
def checkpoint_dir(run_dir: str | os.PathLike) -> Path:
    return Path(run_dir) / CHECKPOINTS


def latest_checkpoint(run_dir: str | os.PathLike) -> Path | None:
    """The folder named by ``run_dir/checkpoints/latest``, or None when the run has none yet."""
    pointer = checkpoint_dir(run_dir) / LATEST
    if not pointer.is_file():
        return None
    with open(pointer, "rb") as fh:
        raw = fh.read(256)  # "step-0000120\n"; anything longer is not a pointer reti wrote
    try:
        name = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        name = None
    if name is None or len(raw) == 256 or not re.fullmatch(rf"{STEP_PREFIX}\d{{1,12}}", name):
        shown = "holds bytes that are not UTF-8 text" if name is None else f"names {name[:40]!r}"
        raise CheckpointError(f"{pointer} {shown}, not a checkpoint folder (step-NNNNNNN)")
    path = pointer.parent / name
    if not path.is_dir():
        raise CheckpointError(f"{pointer} names {name!r}, which is not a checkpoint folder here")
    return path


def clear_checkpoints(run_dir: str | os.PathLike) -> None:
    """Remove a previous run's ``step-*`` folders and ``latest`` (a fresh run into the folder)."""
    root = checkpoint_dir(run_dir)
    (root / LATEST).unlink(missing_ok=True)
    for old in root.glob(f"{STEP_PREFIX}*"):
        shutil.rmtree(old, ignore_errors=True)


def write_checkpoint(
    run_dir: str | os.PathLike,
    step: int,
    tensors: dict[str, torch.Tensor],
    meta: dict[str, Any],
    keep_last: int = 2,
) -> Path:
    """Save ``step-XXXXXXX`` atomically, then point ``latest`` at it, then prune old ones."""
    root = checkpoint_dir(run_dir)
    name = f"{STEP_PREFIX}{step:07d}"
    path = save_checkpoint(root / name, tensors, {**meta, "step": step})
    atomic_write_text(root / LATEST, name + "\n")
    folders = sorted(p for p in root.glob(f"{STEP_PREFIX}*") if p.is_dir())
    for old in folders[: max(0, len(folders) - keep_last)]:
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)
    return path


# ----------------------------------------------------------------------------- training state
@dataclass
class Progress:
    """Where the run is; all of it goes into the checkpoint meta."""

    epoch: int = 0
    micro: int = 0  # micro-batches of the current epoch already consumed
    step: int = 0  # optimizer steps so far
    rows: list[dict[str, Any]] = field(default_factory=list)
    best_value: float | None = None
    best_row: dict[str, Any] | None = None
    bad_epochs: int = 0
    loss_sum: float = 0.0  # read from checkpoints of older versions only (now a tensor)
    seen: int = 0  # this epoch's samples (this rank)
    tokens: int = 0  # this epoch's tokens when x is integer (B, T) (this rank)
    seconds: float = 0.0  # this epoch's training time so far
    row_seen: int = 0  # samples since the last train row (this rank)
    row_tokens: int = 0  # tokens since the last train row (this rank)
    row_seconds: float = 0.0  # training time since the last train row

    def record(self, row: dict[str, Any], monitor: str, mode: str) -> None:
        """Append an epoch's row; track the best ``monitor`` value and epochs since it improved."""
        self.rows.append(row)
        value = row.get(monitor)
        better = value is not None and (
            self.best_value is None
            or (value < self.best_value if mode == "min" else value > self.best_value)
        )
        if better:
            self.best_value, self.best_row, self.bad_epochs = value, row, 0
        else:
            self.bad_epochs += 1


@dataclass
class LiveState:
    """The live objects a checkpoint saves and a resume restores."""

    model: nn.Module  # unwrapped
    optimizer: torch.optim.Optimizer
    generators: dict[str, torch.Generator]
    ema: Any  # reti.train.optim.WeightEMA or None
    scaler: torch.amp.GradScaler | None


TRAINING_STATE = "reti-training-state"
# What a resume reads from a training checkpoint's meta.json (checked before it is used).
TRAINING_META = {
    "optimizer": {"param_groups": [dict], "scalars": dict},
    "rng": {"numpy": [(int, float, str)], "python": [Field((int, float), nullable=True)]},
    "scaler": Field(dict, nullable=True, required=False),
}


def save_training_state(
    run_dir: str | os.PathLike,
    step: int,
    *,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    generators: dict[str, torch.Generator],
    ema=None,
    scaler=None,
    tensors: dict[str, torch.Tensor] | None = None,
    meta: dict[str, Any] | None = None,
    keep_last: int = 2,
) -> Path:
    """Everything a run needs to go on exactly: weights, EMA, optimizer, scaler, RNG, ``meta``."""
    out = {f"model/{k}": v for k, v in clean_state_dict(model).items()}
    if ema is not None:
        out.update({f"ema/{k}": v for k, v in ema.state_dict().items()})
    opt_tensors, opt_meta = optimizer_tensors(optimizer)
    rng_tensors, rng_meta = rng_state(generators)
    out.update({**opt_tensors, **rng_tensors, **(tensors or {})})
    full = {
        **(meta or {}),
        "kind": TRAINING_STATE,
        "optimizer": opt_meta,
        "rng": rng_meta,
        "scaler": scaler.state_dict() if scaler is not None else None,
    }
    return write_checkpoint(run_dir, step, out, full, keep_last)


def load_training_state(
    run_dir: str | os.PathLike,
    model_config: Any,
    *,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    generators: dict[str, torch.Generator],
    ema=None,
    scaler=None,
) -> tuple[dict[str, torch.Tensor], dict[str, Any]] | None:
    """Restore the latest checkpoint of ``run_dir`` into the live objects; None if it has none.

    Raises:
        CheckpointError: not a training checkpoint, or one made for another ``model_config``.
    """
    folder = latest_checkpoint(run_dir)
    if folder is None:
        return None
    tensors, meta = load_checkpoint(folder)
    if meta.get("kind") != TRAINING_STATE:
        raise CheckpointError(f"{folder} is not a reti training checkpoint; cannot resume from it")
    check_schema(meta, TRAINING_META, str(folder / META_FILE), error=CheckpointError)
    if meta.get("model_config") != model_config:
        raise CheckpointError(
            f"{folder} was made for model config {meta.get('model_config')!r}, "
            f"not {model_config!r}; resume needs the same model"
        )
    weights = {k[6:]: v for k, v in tensors.items() if k.startswith("model/")}
    load_state_into(model, weights, str(folder))
    load_optimizer(optimizer, tensors, meta["optimizer"])
    if ema is not None:  # a run that had no EMA before starts averaging from its weights now
        averaged = {k[4:]: v for k, v in tensors.items() if k.startswith("ema/")}
        ema.load_state_dict(averaged or weights)
    if scaler is not None and meta.get("scaler"):
        scaler.load_state_dict(meta["scaler"])
    restore_rng(tensors, meta["rng"], generators)
    return tensors, meta


def _resolve(path: str | os.PathLike) -> Path:
    """A checkpoint folder, or a run folder (its latest checkpoint)."""
    path = Path(path)
    if not path.exists():
        raise DataNotFoundError(f"checkpoint or run folder {path} does not exist")
    if path.is_dir() and not (path / "meta.json").exists():
        latest = latest_checkpoint(path)
        if latest is None:
            raise CheckpointError(f"{path} is neither a reti checkpoint nor a run with checkpoints")
        return latest
    return path


def load_state_into(model: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """``load_state_dict`` with a CheckpointError naming what is missing, extra or misshapen."""
    target = unwrap(model)
    own = target.state_dict()
    missing = sorted(set(own) - set(state))
    extra = sorted(set(state) - set(own))
    shapes = [
        f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}"
        for k in own
        if k in state and state[k].shape != own[k].shape
    ]
    if missing or extra or shapes:
        parts = []
        for label, items in (("missing", missing), ("unexpected", extra), ("shape", shapes)):
            if items:
                parts.append(f"{label}: {', '.join(items[:4])}{' ...' if len(items) > 4 else ''}")
        raise CheckpointError(f"{source} does not fit this model ({'; '.join(parts)})")
    target.load_state_dict(state)


def load_weights(
    model: nn.Module, path: str | os.PathLike, *, ema: bool | None = None
) -> dict[str, Any]:
    """Load a checkpoint's weights into ``model``; return the checkpoint's meta.

    ``path`` is a checkpoint folder or a run folder (its latest checkpoint). ``ema=None`` takes
    the EMA weights when the checkpoint has them (they are what the run evaluated).

    Raises:
        DataNotFoundError: no such path.
        CheckpointError: foreign / corrupt checkpoint, or weights that do not fit ``model``.
    """
    folder = _resolve(path)
    tensors, meta = load_checkpoint(folder)
    has_ema = any(k.startswith("ema/") for k in tensors)
    prefix = "ema/" if (has_ema if ema is None else ema) else "model/"
    if prefix == "ema/" and not has_ema:
        raise CheckpointError(f"{folder} holds no EMA weights (the run had no ema_decay)")
    state = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
    if not state:
        raise CheckpointError(f"{folder} holds no model weights (no {prefix}* tensors)")
    if prefix == "ema/":  # EMA keeps floating tensors only; integer buffers come from the model
        state = {**{k[6:]: v for k, v in tensors.items() if k.startswith("model/")}, **state}
    load_state_into(model, state, str(folder))
    return meta
