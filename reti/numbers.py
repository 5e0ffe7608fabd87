"""A number from outside (a form field, a query string, a JSON value) checked against its range:
one clear ``ConfigError`` naming the parameter, the value and the range, never a traceback."""

from __future__ import annotations

from typing import Any

from reti.errors import ConfigError


def int_in(value: Any, name: str, low: int = 1, high: int = 10**9) -> int:
    """``int(value)`` when it lies in ``[low, high]``.

    >>> int_in("3", "epochs", 1, 30)
    3

    Raises:
        ConfigError: not an integer, or out of the range.
    """
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be an integer, got {value!r}") from None
    if not low <= number <= high:
        raise ConfigError(f"{name} must be in [{low}, {high}], got {number}")
    return number


def float_in(value: Any, name: str, low: float, high: float) -> float:
    """``float(value)`` when it lies in ``[low, high]`` (NaN never does).

    Raises:
        ConfigError: not a number, or out of the range.
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not low <= number <= high:  # also refuses NaN
        raise ConfigError(f"{name} must be in [{low}, {high}], got {value!r}")
    return number


__all__ = ["float_in", "int_in"]
