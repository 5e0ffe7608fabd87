"""Command-line flags made from a config dataclass: one ``--flag`` per field, a config file first.

``add_config_args(parser, TrainConfig)`` adds ``--batch-size``, ``--lr``, ... (``--x/--no-x`` for
booleans, ``none`` accepted where a field may be None) and ``--config FILE.json``;
``config_from_args(TrainConfig, args)`` builds the dataclass: the file's values first, then
every flag the user actually typed on top, then the dataclass's own validation. Flags default to
"not given" (``argparse.SUPPRESS``), so a flag never silently overrides the file.
"""

from __future__ import annotations

import argparse
import json
import types
import typing
from dataclasses import MISSING, fields, is_dataclass
from pathlib import Path
from typing import Any, TypeVar

from reti.errors import ConfigError, DataNotFoundError

T = TypeVar("T")
NONE_WORDS = ("none", "null")

# One-line help of the training fields (any config's field of the same name shows it).
FIELD_HELP = {
    "epochs": "passes over the training set",
    "max_steps": "stop after this many optimizer steps",
    "batch_size": "samples per step",
    "eval_batch_size": "samples per evaluation batch (none: batch_size)",
    "lr": "learning rate (> 0)",
    "optimizer": "adamw or sgd",
    "weight_decay": "decoupled weight decay (>= 0)",
    "momentum": "SGD momentum in [0, 1)",
    "nesterov": "Nesterov momentum (SGD)",
    "schedule": "learning-rate schedule: constant, step, cosine or onecycle",
    "warmup_steps": "linear warm-up steps",
    "grad_clip": "clip the gradient norm to this",
    "accumulate": "micro-batches per optimizer step",
    "precision": "auto, fp32, bf16 or fp16",
    "compile": "torch.compile the model",
    "channels_last": "channels-last memory layout (CNNs; faster on this CPU too)",
    "keep_cpu_memory": "on a Linux CPU keep freed memory for reuse (fewer page faults)",
    "early_stop_patience": "stop after this many epochs without improvement",
    "monitor": "the metric for the best checkpoint / early stopping",
    "monitor_mode": "min or max",
    "ema_decay": "keep an exponential moving average of the weights",
    "checkpoint_every": "also checkpoint every N optimizer steps",
    "keep_last": "checkpoints kept",
    "seed": "seed of the weights, data order and augmentation",
    "device": "auto, cpu, cuda, cuda:N or mps",
    "quiet": "no progress bar",
}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _field_types(cls: type) -> dict[str, Any]:
    """Field name -> (base type, may be None), from the dataclass's resolved annotations."""
    hints = typing.get_type_hints(cls)
    out = {}
    for f in fields(cls):
        hint = hints[f.name]
        args = typing.get_args(hint)
        is_union = typing.get_origin(hint) in (typing.Union, types.UnionType)
        optional = is_union and type(None) in args
        base = next((a for a in args if a is not type(None)), hint) if is_union else hint
        out[f.name] = (base, optional)
    return out


def _parse_value(name: str, text: str, base: type, optional: bool) -> Any:
    """A flag's text as the field's type; ConfigError naming the flag otherwise."""
    if optional and text.strip().lower() in NONE_WORDS:
        return None
    try:
        return base(text)
    except (TypeError, ValueError):
        kind = base.__name__ + (" or none" if optional else "")
        raise ConfigError(f"{_flag(name)} must be {kind}, got {text!r}") from None


def add_config_args(
    parser: argparse.ArgumentParser,
    cls: type,
    *,
    group: str | None = None,
    shown_defaults: dict[str, Any] | None = None,
):
    """Add ``--config`` and one flag per field of dataclass ``cls`` to ``parser``;
    ``shown_defaults`` are the defaults the help names where a pipeline replaces the class's."""
    if not is_dataclass(cls):
        raise TypeError(f"add_config_args needs a dataclass, got {cls!r}")
    target = parser.add_argument_group(group or f"{cls.__name__} options")
    if not any("--config" in a.option_strings for a in parser._actions):
        parser.add_argument(
            "--config",
            metavar="FILE.json",
            default=None,
            help="JSON file of settings; flags given on the command line override it",
        )
    for name, (base, optional) in _field_types(cls).items():
        default = next(f.default for f in fields(cls) if f.name == name)
        default = (shown_defaults or {}).get(name, default)
        shown = "" if default is MISSING else f" (default: {default})"
        if base is bool:
            target.add_argument(
                _flag(name),
                dest=name,
                action=argparse.BooleanOptionalAction,
                default=argparse.SUPPRESS,
                help=f"{FIELD_HELP.get(name, name)}{shown}",
            )
        else:
            target.add_argument(
                _flag(name),
                dest=name,
                # parsed in config_from_args, so a bad value is a ConfigError (one line, exit 2)
                default=argparse.SUPPRESS,
                metavar=base.__name__.upper(),
                help=f"{FIELD_HELP.get(name, name)}{shown}"
                + ("; 'none' to unset" if optional else ""),
            )
    return parser


def _read_config_file(path: str, cls: type) -> dict[str, Any]:
    file = Path(path)
    if not file.is_file():
        raise DataNotFoundError(f"--config file {file} does not exist")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--config file {file} is not valid JSON: {exc}") from None
    if isinstance(data, dict) and "train_config" in data and cls.__name__ == "TrainConfig":
        data = data["train_config"]  # a run's config.json can be fed back as it is
    if not isinstance(data, dict):
        raise ConfigError(
            f"--config file {file} must hold a JSON object, got {type(data).__name__}"
        )
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"--config file {file} has unknown {cls.__name__} field(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(known))}"
        )
    types_ = _field_types(cls)
    for name, value in data.items():
        base, optional = types_[name]
        if value is None and optional:
            continue
        if base is float and isinstance(value, int) and not isinstance(value, bool):
            data[name] = float(value)
        elif not isinstance(value, base) or (base is int and isinstance(value, bool)):
            raise ConfigError(
                f"--config file {file}: {name} must be {base.__name__}, got {value!r}"
            )
    return data


def config_from_args(cls: type[T], args: argparse.Namespace) -> T:
    """The dataclass from ``--config`` (if any) overridden by the flags given; validated.

    Raises:
        DataNotFoundError: the ``--config`` file does not exist.
        ConfigError: a malformed file, an unknown field, or a value the dataclass rejects.
    """
    values: dict[str, Any] = {}
    config_file = getattr(args, "config", None)
    if config_file:
        values.update(_read_config_file(config_file, cls))
    given = vars(args)
    for name, (base, optional) in _field_types(cls).items():
        if name not in given:
            continue
        value = given[name]
        if isinstance(value, str) and (base is not str or optional):
            value = _parse_value(name, value, base, optional)
        values[name] = value
    try:
        return cls(**values)
    except TypeError as exc:  # a missing required field
        raise ConfigError(f"{cls.__name__}: {exc}") from None
