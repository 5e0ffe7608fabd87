"""Step-level rows of a run: a train row every ``log_every`` steps, an evaluation row at every
validation pass; kept in memory (``History.steps``) and in ``steps.jsonl`` + ``steps.csv``.

Cost stays linear in the length of a run: each row is *appended* to both files (and flushed),
and a file is rewritten whole (atomically, through ``reti.io``) only when a row brings a column
the CSV header lacks (a handful of times per run) and when a resumed run starts: it keeps the
rows up to its checkpoint's step and drops any later ones (or a half line) that a killed process
left behind. So after a crash the files hold every row up to the crash, and a resume makes them
exactly what an uninterrupted run would have written.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from reti.io import atomic_write_text
from reti.train.log import plain

STEPS_JSONL = "steps.jsonl"
STEPS_CSV = "steps.csv"


def read_steps(run_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """The rows of ``steps.jsonl``; a half-written last line (a killed process) is skipped."""
    path = Path(run_dir) / STEPS_JSONL
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and isinstance(row.get("step"), int):
            rows.append(row)
    return rows


def _csv_lines(columns: list[str], rows: list[dict[str, Any]], header: bool) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", restval="")
    if header:
        writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


class StepLog:
    """The step rows of one run; ``run_dir=None`` keeps them in memory only (other ranks, or a
    run without a folder). ``rows`` are the rows kept from before a resume."""

    def __init__(self, run_dir: Path | None, rows: list[dict[str, Any]] | None = None):
        self.run_dir, self.rows, self.columns = run_dir, list(rows or []), []
        for row in self.rows:
            self.columns += [k for k in row if k not in self.columns]
        if run_dir is not None:
            self._rewrite()

    def _rewrite(self) -> None:
        lines = "".join(json.dumps({k: plain(v) for k, v in r.items()}) + "\n" for r in self.rows)
        atomic_write_text(self.run_dir / STEPS_JSONL, lines)
        header = bool(self.columns)
        atomic_write_text(self.run_dir / STEPS_CSV, _csv_lines(self.columns, self.rows, header))

    def add(self, row: dict[str, Any]) -> None:
        """Append ``row`` (it must hold ``step``) to the rows and to both files."""
        self.rows.append(row)
        new = [k for k in row if k not in self.columns]
        if self.run_dir is None:
            self.columns += new
            return
        if new:  # the CSV header changes: rewrite both files once
            self.columns += new
            self._rewrite()
            return
        with open(self.run_dir / STEPS_JSONL, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({k: plain(v) for k, v in row.items()}) + "\n")
        with open(self.run_dir / STEPS_CSV, "a", encoding="utf-8", newline="") as fh:
            fh.write(_csv_lines(self.columns, [row], header=False))
