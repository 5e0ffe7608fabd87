"""reti's error hierarchy: user mistakes are ``RetiError``; the CLI prints them as one line, exit 2.

Each class also derives from the builtin a Python user would expect (``ValueError``,
``FileNotFoundError`` ...), so ``except ValueError`` keeps working around reti calls.
"""

from __future__ import annotations


class RetiError(Exception):
    """Base of every error caused by input the user gave (never by a bug in reti)."""


class ConfigError(RetiError, ValueError):
    """An impossible hyper-parameter, option or combination of options."""


class ShapeError(RetiError, ValueError):
    """A tensor or data set of the wrong shape, size or channel count."""


class DataError(RetiError, ValueError):
    """Empty, malformed or non-finite data, or a data set that cannot be had."""


class DataNotFoundError(DataError, FileNotFoundError):
    """A file or folder named by the user that does not exist."""


class IntegrityError(DataError):
    """A downloaded or cached file whose SHA-256 is not the one in reti's table."""


class CheckpointError(RetiError, ValueError):
    """A checkpoint that is truncated, foreign, a pickle, or made for another model."""


class TrainingError(RetiError, RuntimeError):
    """Training cannot go on (a non-finite loss); the last good checkpoint is kept."""


class ParseError(ConfigError):
    """A pattern or spec string that does not parse; knows the column and can draw a caret.

    >>> err = ParseError("expected ')'", "hflip,crop(4", 12)
    >>> str(err)
    "expected ')' at column 13 in 'hflip,crop(4'"
    >>> print(err.caret())
      hflip,crop(4
                  ^
    """

    WIDTH = 70  # a longer text is shown as the window around the column, cut with "..."

    def __init__(self, message: str, text: str, position: int):
        self.message, self.text, self.position = message, text, position
        super().__init__(f"{message} at column {position + 1} in {self._window()[0]!r}")

    def _window(self) -> tuple[str, int]:
        """(the text or the part of it around the column, the column within that part)."""
        text, pos = self.text, self.position
        if len(text) <= self.WIDTH:
            return text, pos
        start = max(0, min(pos - self.WIDTH // 2, len(text) - self.WIDTH))
        part = text[start : start + self.WIDTH]
        head, tail = ("..." if start else ""), ("..." if start + self.WIDTH < len(text) else "")
        return head + part + tail, pos - start + len(head)

    def caret(self) -> str:
        """Two lines: the text, and a caret under the offending column."""
        shown, pos = self._window()
        # one caret column per character; control characters would break the line, so escape
        shown = "".join(ch if ch.isprintable() else "?" for ch in shown)
        return f"  {shown}\n  {' ' * pos}^"


class RunExistsError(RetiError, FileExistsError):
    """A run folder that already holds a run, given neither ``resume`` nor ``overwrite``."""
