"""``History``: what ``fit`` returns (rows, best and final row, the trained model)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn


@dataclass
class History:
    """What ``fit`` returns: one row per epoch (``rows``), the step-level rows (``steps``: train
    rows every ``log_every`` steps and evaluation rows every ``eval_every`` steps, in the order
    they were logged, each with its ``step``), the best and last epoch rows, and the model."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    best: dict[str, Any] | None = None
    final: dict[str, Any] | None = None
    stopped_early: bool = False
    stopped: bool = False  # a RunControl asked the run to stop
    run_dir: Path | None = None
    model: nn.Module | None = None
