"""``RunOptions``: how one run is carried out, apart from the knobs of training (``TrainConfig``):
where its files go, whether it resumes or replaces an earlier run, who listens and who may stop
it. A pipeline's ``train(cfg, *, resume, overwrite, callbacks, control)`` makes one and hands it
to ``fit`` as ``fit(..., **vars(options))``; ``fit`` turns its keywords back into one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reti.errors import ConfigError
from reti.train.events import Callback, RunControl
from reti.train.rundir import run_folder


@dataclass(frozen=True)
class RunOptions:
    """The run folder (None: keep nothing on disk), resume or overwrite, listeners, stop flag."""

    run_dir: Path | None = None
    resume: bool = False
    overwrite: bool = False
    callbacks: Sequence[Callback] = ()
    control: RunControl | None = None

    def __post_init__(self) -> None:
        callbacks, control = self.callbacks, self.control
        if callable(callbacks) or not all(callable(c) for c in callbacks):
            raise ConfigError(f"callbacks must be a list of callables, got {callbacks!r}")
        if control is not None and not isinstance(control, RunControl):
            raise ConfigError(f"control must be a RunControl or None, got {type(control).__name__}")
        if self.run_dir is not None:
            object.__setattr__(self, "run_dir", Path(self.run_dir))
        object.__setattr__(self, "callbacks", tuple(self.callbacks))

    def folder(self) -> contextlib.AbstractContextManager:
        """``run_folder(run_dir)`` (a failure restores the earlier run); nothing without a
        folder. Held by the pipeline around all its writes, ``fit``'s own entry is a no-op."""
        if self.run_dir is None:
            return contextlib.nullcontext()
        return run_folder(self.run_dir, resume=self.resume, overwrite=self.overwrite)


__all__ = ["RunOptions"]
