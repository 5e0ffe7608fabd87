"""User-facing strings of the reports (demo, claims, lab) in more than one language.

Each language is one folder of JSON catalogues (``reti/i18n/<lang>/<area>.json``, one flat
object of ``key -> text`` per area); a third language is a new folder with the same keys.
``text(key, lang, **fields)`` looks a key up and fills ``{field}`` placeholders; a key missing
from a language falls back to English, and a key missing from English is a bug (``KeyError``).

Which language: an explicit ``lang``, else ``$RETI_LANG``, else the locale (``LC_ALL``,
``LC_MESSAGES``, ``LANG``), else English.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

from reti.errors import ConfigError

LANGUAGES = ("en", "it")
DEFAULT = "en"
_ROOT = Path(__file__).resolve().parent


def resolve_lang(lang: str | None = None) -> str:
    """The language to use: ``lang`` if given (checked), else the environment's, else English.

    Raises:
        ConfigError: ``lang`` is not one of ``LANGUAGES``.
    """
    if lang is not None:
        if lang not in LANGUAGES:
            raise ConfigError(f"lang must be one of {', '.join(LANGUAGES)}, got {lang!r}")
        return lang
    for var in ("RETI_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        code = value.split("_")[0].split(".")[0].lower()
        if code in LANGUAGES:
            return code
        if var == "RETI_LANG" and value:
            break  # an unknown RETI_LANG means "no preference", not "look at the locale"
    return DEFAULT


@cache
def catalogue(lang: str) -> dict[str, str]:
    """Every key of ``lang`` (all its areas merged); English for keys it lacks."""
    merged: dict[str, str] = {}
    for code in dict.fromkeys((DEFAULT, lang)):
        for path in sorted((_ROOT / code).glob("*.json")):
            merged.update(json.loads(path.read_text(encoding="utf-8")))
    return merged


def text(key: str, lang: str | None = None, **fields: object) -> str:
    """The string ``key`` in ``lang`` with ``{field}`` placeholders filled."""
    template = catalogue(resolve_lang(lang))[key]
    return template.format(**fields) if fields else template


__all__ = ["LANGUAGES", "catalogue", "resolve_lang", "text"]
