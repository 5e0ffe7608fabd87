"""A lab job's settings, read and checked once, by the rules the CLI uses.

Each setting a job takes names the config field it sets (``TrainConfig.epochs``,
``VisionConfig.limit`` ...). The page's text or JSON number is read as that field's type and
judged by that field's rule (``reti.config``), so a bad value gets the sentence
``reti vision train`` prints for the same value: ``epochs must be an integer >= 1, got 0``.
On top of the rules, the lab's budget (``reti.lab.request.JOB_BUDGET``) bounds how much one
request may ask of the worker: ``epochs must be in [1, 50] in the lab, got 999``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reti.config import check_value, field_types, is_number, read_value
from reti.errors import ConfigError
from reti.lab.request import JOB_BUDGET


@dataclass(frozen=True)
class Setting:
    """A job setting: the config whose field it sets, its default in the lab, and the field's
    name where it differs from the setting's."""

    config: type
    default: Any
    field: str | None = None


def read_settings(raw: dict, kind: str, table: dict[str, Setting], extra: tuple = ()) -> dict:
    """``{name: value}`` of the settings in ``table``, each read from ``raw`` (or its default)
    as its field's type, checked by the field's rule, then by the lab's budget for ``kind``.
    ``extra``: names the job reads itself (its data, its model); ``resume`` is always allowed.

    Raises:
        ConfigError: an unknown name, a value its field refuses, or one over the budget.
    """
    names = (*extra, *table)
    unknown = sorted(set(raw) - set(names) - {"resume"})
    if unknown:
        raise ConfigError(f"{kind} jobs take {', '.join(names)}; unknown: {unknown[0]!r}")
    budget = JOB_BUDGET.get(kind, {})
    out = {}
    for name, s in table.items():
        field = s.field or name
        value = raw.get(name, s.default)
        if value == "" and field_types(s.config)[field][1]:  # a form's empty box: None
            value = None
        value = read_value(s.config, field, value, label=name)
        value = check_value(s.config, field, value, label=name)
        if name in budget and value is not None:
            low, high = budget[name]
            if not (is_number(value) and low <= value <= high):
                raise ConfigError(f"{name} must be in [{low}, {high}] in the lab, got {value!r}")
        out[name] = value
    return out


__all__ = ["Setting", "read_settings"]
