"""The UCR/UEA ``.ts`` format (sktime's): header tags (``@problemName`` ... ``@data``), then one
case per line, its channels separated by ``:`` and the label last, ``?`` for a missing value.
The reader says where a file is broken (the line), and ``reti.data.series`` turns the cases into
a ``ClassificationData``.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import torch

from reti.errors import DataError, DataNotFoundError

_TAGS = "problemname timestamps missing univariate dimensions dimension equallength serieslength"
_TAGS = {*_TAGS.split(), "classlabel", "targetlabel", "data"}


def read_ts(path: str | Path) -> tuple[list[torch.Tensor], list[str], list[str]]:
    """Read a UCR/UEA ``.ts`` file: (cases as (T_i, C) tensors, labels, declared class names).

    Handles multivariate (channels split by ``:``) and unequal-length cases; ``?`` is NaN.
    Raises DataError for a broken header or case, with the line number.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f".ts file {path} does not exist")
    header: dict[str, str] = {}
    cases, labels = [], []
    in_data = False
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    for line_no, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path}: line {line_no}"
        if not in_data:
            if not line.startswith("@"):
                raise DataError(f"{where}: expected a header tag or @data, got {line[:30]!r}")
            tag, _, rest = line[1:].partition(" ")
            if tag.lower() not in _TAGS:
                raise DataError(f"{where}: unknown header tag @{tag}")
            if tag.lower() == "classlabel" and not re.match(r"(true|false)\b", rest.strip()):
                raise DataError(f"{where}: @classLabel must be 'true <labels...>' or 'false'")
            header[tag.lower()] = rest.strip()
            in_data = tag.lower() == "data"
            continue
        *channels, label = line.split(":")
        if not channels:
            raise DataError(f"{where}: a case needs values and a label separated by ':'")
        try:
            parts = [[math.nan if v == "?" else float(v) for v in ch.split(",")] for ch in channels]
        except ValueError:
            raise DataError(f"{where}: a value is not a number") from None
        if len({len(p) for p in parts}) != 1:
            raise DataError(f"{where}: channels of one case have different lengths")
        dims = header.get("dimensions", header.get("dimension"))
        if dims is not None and dims.isdigit() and int(dims) != len(parts):
            raise DataError(f"{where}: {len(parts)} channels, the header says @dimensions {dims}")
        declared = header.get("classlabel", "false").split()[1:]
        if declared and label.strip() not in declared:
            raise DataError(f"{where}: label {label.strip()!r} is not in @classLabel {declared}")
        cases.append(torch.tensor(parts, dtype=torch.float32).T)  # (C, T) -> (T, C)
        labels.append(label.strip())
    if not in_data:
        raise DataError(f"{path}: no @data line (line {len(lines)} is the last)")
    if not cases:
        raise DataError(f"{path}: @data holds no cases")
    return cases, labels, header.get("classlabel", "false").split()[1:]
