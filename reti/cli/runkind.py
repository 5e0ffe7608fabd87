"""Which pipeline made a run folder, so a command given another pipeline's run says which
command fits instead of a bare "not a checkpoint" (a user's first mistake with three pipelines).
"""

from __future__ import annotations

from pathlib import Path

from reti.errors import CheckpointError, DataNotFoundError
from reti.tasks.runs import read_run

# what each kind of run is for: the commands that read it
FITS = {
    "vision": "reti vision predict / eval / show",
    "text": "reti text generate / eval / attention",
    "series": "reti series forecast (forecast runs)",
}


def run_kind(model_config: dict) -> str | None:
    """The pipeline that made a run (vision, text or series) from its model_config, or None."""
    if model_config.get("task") == "vision":
        return "vision"
    for kind in ("text", "series"):  # each pipeline keeps its config under its own name
        if isinstance(model_config.get(kind), dict):
            return kind
    return None


def expect_run(path: str | Path, kind: str, command: str) -> None:
    """Raise a CheckpointError naming the run's kind and the command that fits, when ``path``
    holds a run of another pipeline than ``kind``; return quietly otherwise (the pipeline's
    own loader reports a missing or broken run)."""
    try:
        found = run_kind(read_run(path).model_config)
    except (CheckpointError, DataNotFoundError):
        return
    if found is not None and found != kind:
        raise CheckpointError(
            f"{path} is a `reti {found}` run, and `{command}` needs a `reti {kind}` run; "
            f"for this one use {FITS[found]}"
        )
