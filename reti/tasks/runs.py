"""What the three pipelines share about run folders: reading a run's meta (no tensors), the
settings saved in its ``config.json``, and how they open the run folder. Each pipeline
holds ``reti.train.run_folder`` around all its writes, so a failed run loses nothing.

A run folder holds what ``reti.train.fit`` writes: ``config.json`` (``train_config`` and
``model_config``), ``metrics.csv``, ``checkpoints/step-N/{model.safetensors, meta.json}``. Each
pipeline puts its own settings (data, model, everything but the training loop and the run
folder) in ``model_config[<pipeline name>]``, so that ``--config RUN/config.json`` re-runs it.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from reti.errors import CheckpointError, DataNotFoundError
from reti.io import META_FILE
from reti.jsonio import read_json
from reti.train import RunOptions, latest_checkpoint

NOT_SAVED = ("out", "train")  # where a run goes and how it trains are not its settings


def settings(cfg: Any) -> dict[str, Any]:
    """The pipeline settings a run saves: ``asdict(cfg)`` without the run folder and training."""
    return {k: v for k, v in asdict(cfg).items() if k not in NOT_SAVED}


@dataclass(frozen=True)
class RunMeta:
    """A checkpoint's meta.json: where it is, the run folder, and the configs it was made with."""

    checkpoint: Path
    run_dir: Path
    model_config: dict[str, Any]
    train_config: dict[str, Any]
    step: int


def read_run(path: str | Path) -> RunMeta:
    """The meta of a run folder's latest checkpoint (or of a checkpoint folder); reads only the
    JSON, never the tensors (``load_weights`` reads those once, checking their hash).

    Raises:
        DataNotFoundError: no such path. CheckpointError: no checkpoint, or unreadable meta.
    """
    path = Path(path)
    if not path.exists():
        raise DataNotFoundError(f"checkpoint or run folder {path} does not exist")
    folder = latest_checkpoint(path) if (path / "checkpoints").is_dir() else path
    if folder is None or not (folder / META_FILE).is_file():
        raise CheckpointError(f"{path} is neither a run with checkpoints nor a checkpoint folder")
    meta = read_json(folder / META_FILE, "checkpoint meta", error=CheckpointError)
    model_config = meta.get("model_config") if isinstance(meta, dict) else None
    if not isinstance(model_config, dict):
        raise CheckpointError(f"{folder / META_FILE} has no model_config object")
    train_config = meta.get("train_config")
    step = meta.get("step", 0)
    run_dir = folder.parent.parent if folder.parent.name == "checkpoints" else folder
    return RunMeta(
        folder,
        run_dir,
        model_config,
        train_config if isinstance(train_config, dict) else {},
        step if isinstance(step, int) else 0,
    )


def open_run(opts: RunOptions) -> contextlib.AbstractContextManager:
    """The run folder the pipeline holds around all its writes (``RunOptions.folder``)."""
    return opts.folder()


__all__ = ["RunMeta", "open_run", "read_run", "settings"]
