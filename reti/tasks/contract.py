"""The pipeline contract, written down: what vision, series and text each promise.

A pipeline turns one config dataclass into a run folder and reads it back:

- ``train(cfg, *, resume, overwrite, callbacks, control) -> History``: seeded by
  ``cfg.train.seed`` (the same config gives the same weights, bit for bit on a CPU); with
  ``resume`` it goes on from the latest checkpoint to the weights of one uninterrupted run;
  ``control.request_stop()`` ends it cleanly (evaluated, checkpointed, resumable).
- ``config_of_run(path) -> cfg``: the config the run was made with (its ``config.json``), so
  training it again (into another folder) gives the same run.
- ``load_run(path) -> LoadedRun``: the model in eval mode, the config, and what else it needs
  (a tokenizer, the class names).
- ``evaluate(path) -> dict[str, float]``: the run's scores on its own held-out data.
- ``predict(path, inputs) -> list``: one answer per input (vision: image files -> top classes;
  series: horizons -> forecasts; text: prompts -> continuations).

``tests/test_pipeline_contract.py`` runs the same checks over the three.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol, TypeVar

from torch import nn

from reti.errors import CheckpointError
from reti.tasks.runs import read_run
from reti.train import Callback, History, RunControl, TrainConfig

C = TypeVar("C")


@dataclass(frozen=True)
class LoadedRun:
    """A trained model read back from its run: weights of the latest checkpoint, eval mode."""

    model: nn.Module
    config: Any  # the pipeline's config dataclass, as the run was made
    extras: dict[str, Any] = field(default_factory=dict)  # tokenizer, classes, ...


class Pipeline(Protocol):
    """What ``reti.tasks.vision``, ``reti.tasks.series`` and ``reti.tasks.text`` each provide
    as their ``PIPELINE``."""

    name: str  # also where a run keeps the config: model_config[name]
    config_type: type

    def train(
        self,
        cfg: Any,
        *,
        resume: bool = False,
        overwrite: bool = False,
        callbacks: Sequence[Callback] = (),
        control: RunControl | None = None,
    ) -> History: ...

    def config_of_run(self, path: str | Path) -> Any: ...

    def load_run(self, path: str | Path) -> LoadedRun: ...

    def evaluate(self, path: str | Path) -> dict[str, float]: ...

    def predict(self, path: str | Path, inputs: Sequence[Any]) -> list[Any]: ...


class PipelineBase:
    """What the three ``PIPELINE`` classes share: ``train`` calls the pipeline module's own
    ``train`` function (``train_function``) and ``config_of_run`` reads ``model_config[name]``."""

    name: str
    config_type: type
    train_function: Callable[..., History]

    def train(
        self,
        cfg: Any,
        *,
        resume: bool = False,
        overwrite: bool = False,
        callbacks: Sequence[Callback] = (),
        control: RunControl | None = None,
    ) -> History:
        run = type(self).train_function
        return run(cfg, resume=resume, overwrite=overwrite, callbacks=callbacks, control=control)

    def config_of_run(self, path: str | Path) -> Any:
        return config_of_run(self.config_type, self.name, path)


def config_of_run(config_type: type[C], section: str, path: str | Path) -> C:
    """``config_type`` as a run was made (``model_config[section]`` and ``train_config`` of its
    latest checkpoint), without a run folder: training it again replays the run.

    Raises:
        CheckpointError: the run was not made by this pipeline, or its settings do not fit.
    """
    run = read_run(path)
    settings = run.model_config.get(section)
    if not isinstance(settings, dict):
        raise CheckpointError(f"{path} is not a {section} run (no {section!r} settings)")
    names = {f.name for f in fields(TrainConfig)}
    try:
        train = TrainConfig(**{k: v for k, v in run.train_config.items() if k in names})
        return config_type(**settings, train=train)
    except TypeError as exc:
        raise CheckpointError(f"{path}: settings this version cannot read ({exc})") from None


__all__ = ["LoadedRun", "Pipeline", "PipelineBase", "config_of_run"]
