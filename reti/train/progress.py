"""Progress of a run for people: a tqdm bar on a terminal or in a Jupyter kernel, else plain
periodic lines (``train: step 250/2000 loss 1.234``) with no ``\\r``, so that logs and pipes
stay readable; nothing when quiet or off rank 0 under torchrun.

``progress(...)`` gives the bar or the line printer (both: ``update``, ``set_postfix``,
``close``, ``disable``); ``ProgressPrinter`` is the same display as a ``fit`` listener.
tqdm is imported when a bar is made, never at ``import reti`` (its notebook flavour warns
when ipywidgets is missing).
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from reti.train.events import EpochEnd, Evaluation, Event, RunEnd, RunStart, TrainStep

LINES = 20  # a non-terminal run prints about this many lines


def in_notebook() -> bool:
    """True inside a Jupyter kernel that can show widgets (ipywidgets importable)."""
    shell = sys.modules.get("IPython")
    if shell is None or "ipykernel" not in sys.modules:
        return False
    try:
        ip = shell.get_ipython()
        import ipywidgets  # noqa: F401
    except Exception:  # no kernel, or no widgets: not a notebook bar
        return False
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


class LineProgress:
    """Plain lines every ``every`` steps (and at the end) on ``stream``; tqdm's small API."""

    def __init__(
        self,
        total: int,
        desc: str | None,
        *,
        initial: int = 0,
        every: int | None = None,
        stream: TextIO | None = None,
        disable: bool = False,
    ):
        self.total, self.desc, self.n, self.disable = total, desc or "progress", initial, disable
        self.every = every or max(1, total // LINES)
        self.stream = stream
        self.postfix: dict[str, Any] = {}
        self._printed = initial

    def _line(self) -> None:
        if self.disable:
            return
        extra = "".join(f" {k} {_fmt(v)}" for k, v in self.postfix.items())
        stream = self.stream or sys.stderr
        stream.write(f"{self.desc}: step {self.n}/{self.total}{extra}\n")
        stream.flush()
        self._printed = self.n

    def update(self, n: int = 1) -> None:
        before, self.n = self.n, self.n + n
        if self.n // self.every > before // self.every:
            self._line()

    def set_postfix(self, **values: Any) -> None:
        """Replace the values shown after the step count (as tqdm's ``set_postfix`` does)."""
        self.postfix = dict(values)

    def close(self) -> None:
        if self.n != self._printed:
            self._line()


def progress(
    total: int,
    desc: str | None = None,
    quiet: bool = False,
    position_rank: int = 0,
    *,
    initial: int = 0,
    every: int | None = None,
    stream: TextIO | None = None,
):
    """A progress display over ``total`` steps: a tqdm bar when ``stream`` (stderr) is a
    terminal or in a Jupyter kernel, else a ``LineProgress``; disabled when ``quiet`` or
    ``position_rank`` is not 0. ``every``: steps between plain lines (default total/20)."""
    disable = quiet or position_rank != 0
    out = stream or sys.stderr
    notebook = not disable and in_notebook()
    if disable or not (notebook or getattr(out, "isatty", lambda: False)()):
        return LineProgress(
            total, desc, initial=initial, every=every, stream=stream, disable=disable
        )
    if notebook:
        from tqdm.auto import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm(total=total, desc=desc, initial=initial, file=out, leave=False, dynamic_ncols=True)


class ProgressPrinter:
    """A ``fit`` listener showing the run's progress (bar or lines, as ``progress`` picks), with
    the latest train loss and validation values; usable for any code that emits run events."""

    def __init__(self, desc: str | None = None, *, quiet: bool = False, stream=None, every=None):
        self.desc, self.quiet, self.stream, self.every = desc, quiet, stream, every
        self.bar = None
        self.values: dict[str, Any] = {}

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStart):
            self.bar = progress(
                event.total_steps,
                self.desc,
                self.quiet,
                initial=event.step,
                every=self.every,
                stream=self.stream,
            )
            return
        if self.bar is None:
            return
        if isinstance(event, TrainStep):
            self.values.update(epoch=event.epoch, loss=event.row.get("train_loss"))
        elif isinstance(event, Evaluation | EpochEnd):
            self.values.update(epoch=event.epoch, val_loss=event.row.get("val_loss"))
        self.bar.set_postfix(**{k: v for k, v in self.values.items() if v is not None})
        if event.step > self.bar.n:
            self.bar.update(event.step - self.bar.n)
        if isinstance(event, RunEnd):
            self.bar.close()
            self.bar = None
