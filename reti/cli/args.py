"""Command-line flags made from a config dataclass: one ``--flag`` per field, a config file first.

``add_config_args(parser, TrainConfig)`` adds ``--batch-size``, ``--lr``, ... (``--x/--no-x`` for
booleans, ``none`` accepted where a field may be None) and ``--config FILE.json``;
``config_from_args(TrainConfig, args)`` builds the dataclass: the file's values first, then
every flag the user actually typed on top, then the dataclass's own validation. Flags default to
"not given" (``argparse.SUPPRESS``), so a flag never silently overrides the file. Each flag's
help is its field's one sentence (``reti.config.option``, read by ``field_help``) and its
default; a bad value is refused by the field's rule (``reti.config.check``), as in the lab.

``add_pipeline_args`` / ``pipeline_from_args`` do the same for a pipeline's ``train`` command: its
config's fields, TrainConfig's, ``--resume`` and ``--overwrite``. Its ``--config`` is a flat JSON
object of both, or a run's own ``config.json`` (TrainConfig in ``train_config``, the pipeline's
settings in ``model_config[<pipeline>]``), which runs that run again.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import MISSING, fields, is_dataclass
from pathlib import Path
from typing import Any, TypeVar

from reti.config import field_help, field_types, read_value
from reti.errors import ConfigError
from reti.jsonio import read_json
from reti.train import TrainConfig

T = TypeVar("T")
FLAG_TYPES = (int, float, str, bool)  # fields of other types (dicts, nested configs) get no flag


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _default_text(default: Any) -> str:
    if default is None:
        return "none"
    if isinstance(default, bool):
        return "on" if default else "off"
    return str(default)


def add_config_args(
    parser: argparse.ArgumentParser,
    cls: type,
    *,
    group: str | None = None,
    shown_defaults: dict[str, Any] | None = None,
    skip: tuple[str, ...] = (),
):
    """Add ``--config`` and one flag per field of dataclass ``cls`` (but ``skip``) to ``parser``;
    the help is the field's sentence and its default (``shown_defaults`` where a pipeline
    replaces the class's)."""
    if not is_dataclass(cls):
        raise TypeError(f"add_config_args needs a dataclass, got {cls!r}")
    target = parser.add_argument_group(group or f"{cls.__name__} options")
    if not any("--config" in a.option_strings for a in parser._actions):
        parser.add_argument(
            "--config",
            metavar="FILE.json",
            default=None,
            help="A JSON file of settings, or a run's own config.json to re-run it; "
            "flags given on the command line override it.",
        )
    types_, helps = field_types(cls), field_help(cls)
    for f in fields(cls):
        base, optional = types_[f.name]
        if f.name in skip or base not in FLAG_TYPES:
            continue
        default = f.default if f.default_factory is MISSING else f.default_factory()
        default = (shown_defaults or {}).get(f.name, default)
        shown = "" if default is MISSING else f" Default: {_default_text(default)}."
        unset = " Give 'none' to unset it." if optional else ""
        if base is bool and optional and default is None:  # a switch: neither flag means auto
            shown, unset = " Default: auto (neither flag).", ""
        kwargs: dict[str, Any] = {"dest": f.name, "default": argparse.SUPPRESS}
        if base is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        else:  # parsed in config_from_args, so a bad value is a ConfigError (one line, exit 2)
            kwargs["metavar"] = base.__name__.upper()
        target.add_argument(_flag(f.name), help=helps[f.name] + shown + unset, **kwargs)
    return parser


def read_config_file(path: str | Path) -> dict[str, Any]:
    """A ``--config`` file as a JSON object.

    Raises:
        DataNotFoundError: no such file. ConfigError: not JSON, or not an object.
    """
    file = Path(path)
    data = read_json(file, "--config file", error=ConfigError)
    if not isinstance(data, dict):
        raise ConfigError(
            f"--config file {file} must hold a JSON object, got {type(data).__name__}"
        )
    return data


def _section(data: dict[str, Any], file: str, cls: type, section: str | None) -> dict[str, Any]:
    """The part of a config file that belongs to ``cls``. A run's config.json (it has a
    "train_config") holds TrainConfig there and the pipeline's settings in
    ``model_config[section]``; any other file is flat and holds both."""
    if "train_config" not in data:
        return dict(data)
    part = data["train_config"] if section is None else data.get("model_config")
    if section is not None:
        if part is None:  # training settings only
            return {}
        if not isinstance(part, dict) or section not in part:
            raise ConfigError(f"--config file {file} is a run config without {section} settings")
        part = part[section]
    if not isinstance(part, dict):
        raise ConfigError(f"--config file {file}: its {section or 'train_config'} is not an object")
    return dict(part)


def _checked(values: dict[str, Any], file: str, cls: type, others: tuple[type, ...]):
    """The values that are fields of ``cls``, typed; a key of no class at all is an error."""
    known = {f.name for f in fields(cls)}
    allowed = known | {f.name for other in others for f in fields(other)}
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise ConfigError(
            f"--config file {file} has unknown {cls.__name__} field(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )
    types_, out = field_types(cls), {}
    for name, value in values.items():
        if name not in known:
            continue
        base, optional = types_[name]
        if value is None and optional:
            pass
        elif base is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        elif not isinstance(value, base) or (base is int and isinstance(value, bool)):
            kind = base.__name__
            raise ConfigError(f"--config file {file}: {name} must be {kind}, got {value!r}")
        out[name] = value
    return out


def config_from_args(
    cls: type[T],
    args: argparse.Namespace,
    *,
    defaults: dict[str, Any] | None = None,
    section: str | None = None,
    others: tuple[type, ...] = (),
    extra: dict[str, Any] | None = None,
) -> T:
    """The dataclass from, in order: its own defaults, ``defaults`` (a pipeline's), the
    ``--config`` file (``section``: where a run's config.json keeps these settings; ``others``:
    the classes whose fields a flat file may also hold), the flags given, then ``extra``;
    validated by the dataclass.

    Raises:
        DataNotFoundError: the ``--config`` file does not exist.
        ConfigError: a malformed file, an unknown field, or a value the dataclass rejects.
    """
    values: dict[str, Any] = dict(defaults or {})
    config_file = getattr(args, "config", None)
    if config_file:
        part = _section(read_config_file(config_file), config_file, cls, section)
        values.update(_checked(part, config_file, cls, others))
    given = vars(args)
    for name, (base, _) in field_types(cls).items():
        if name not in given or base not in FLAG_TYPES:
            continue
        values[name] = read_value(cls, name, given[name], label=_flag(name))
    values.update(extra or {})
    try:
        return cls(**values)
    except TypeError as exc:  # a missing required field
        raise ConfigError(f"{cls.__name__}: {exc}") from None


def add_pipeline_args(
    parser: argparse.ArgumentParser,
    cls: type,
    *,
    group: str,
    train_defaults: dict[str, Any] | None = None,
    skip: tuple[str, ...] = (),
) -> argparse.ArgumentParser:
    """The flags of a pipeline's ``train`` command: the pipeline config's fields, TrainConfig's
    (``train_defaults``: the pipeline's own defaults), ``--resume`` and ``--overwrite``."""
    parser.add_argument(
        "--resume",
        action="store_true",
        help="Go on from the run folder's latest checkpoint (the same command, after a stop).",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="Replace an earlier run in the run folder (without it such a folder is refused).",
    )
    add_config_args(parser, cls, group=group, skip=skip)
    return add_config_args(parser, TrainConfig, group="training", shown_defaults=train_defaults)


def pipeline_from_args(
    cls: type[T],
    args: argparse.Namespace,
    *,
    section: str,
    train_defaults: dict[str, Any] | Callable[[T], dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
) -> T:
    """A pipeline config (with its ``train`` TrainConfig) from ``--config`` and the flags: a
    run's config.json gives back the model, data and training settings it ran with.
    ``train_defaults`` may depend on the pipeline's settings (a series task picks its recipe):
    then it is called with the config read without them."""
    if callable(train_defaults):
        first = config_from_args(cls, args, section=section, others=(TrainConfig,), extra=extra)
        train_defaults = train_defaults(first)
    train = config_from_args(TrainConfig, args, defaults=train_defaults, others=(cls,))
    return config_from_args(
        cls, args, section=section, others=(TrainConfig,), extra={**(extra or {}), "train": train}
    )
