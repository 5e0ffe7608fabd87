"""Time series data: readers (CSV; UCR ``.ts`` through ``ts_format``), missing values, windows,
splits in time order.

notes: Convoluzioni 1D. A series is a matrix X (n, c): a row per time step, a column per feature.
Readers say where a file is broken (line or row); missing values are interpolated or refused.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from reti.config import parse_spec
from reti.data.ts_format import read_ts
from reti.errors import ConfigError, DataError, DataNotFoundError, ShapeError
from reti.guards import check_elements

MISSING = ("refuse", "interpolate")


@dataclass
class SeriesData:
    """One series (n, c) with column names, optional time stamps and optional 0/1 labels (n,)."""

    values: torch.Tensor
    columns: list[str]
    name: str = "series"
    time: list[str] | None = None
    labels: torch.Tensor | None = None
    season: int = 1

    def __repr__(self) -> str:
        from reti.data.display import series_summary

        return series_summary(self)

    def _repr_html_(self) -> str:
        """Jupyter: length, columns and the series drawn (anomalies in red)."""
        from reti.data.display import series_html

        return series_html(self)


@dataclass
class ClassificationData:
    """A UCR-style labelled set of series, padded to (N, T, C) with each case's true length."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    classes: list[str]
    train_lengths: torch.Tensor
    test_lengths: torch.Tensor
    name: str = "ucr"

    def __repr__(self) -> str:
        from reti.data.display import cases_summary

        return cases_summary(self)

    def _repr_html_(self) -> str:
        """Jupyter: sizes, per-class counts and one case per class drawn."""
        from reti.data.display import cases_html

        return cases_html(self)


# -- missing values --------------------------------------------------------------------------


def fill_missing(
    values: torch.Tensor,
    policy: str = "refuse",
    name: str = "series",
    columns: list[str] | None = None,
) -> torch.Tensor:
    """Return ``values`` (n, c) with NaNs linearly interpolated (policy="interpolate") or refused.

    Leading / trailing NaNs take the nearest observed value. Raises DataError for an all-NaN
    column (nothing to interpolate from) and, under "refuse", for any NaN, naming where it is.
    """
    if policy not in MISSING:
        raise ConfigError(f"missing-value policy must be one of {MISSING}, got {policy!r}")
    if values.dim() != 2 or values.shape[0] == 0:
        raise ShapeError(f"{name}: a series must be (n, c) with n >= 1, got {tuple(values.shape)}")
    if torch.isinf(values).any():
        raise DataError(f"{name}: contains infinite values")
    nan = torch.isnan(values)
    if not nan.any():
        return values
    empty = nan.all(0).nonzero().flatten().tolist()
    if empty and columns is not None and len(columns) == values.shape[1]:
        empty = [columns[i] for i in empty]
    if empty:
        raise DataError(f"{name}: column(s) {empty} are all NaN; nothing to interpolate from")
    if policy == "refuse":
        row, col = nan.nonzero()[0].tolist()
        raise DataError(
            f"{name}: {int(nan.sum())} missing value(s), first at row {row}, column {col}; "
            "pass missing='interpolate' (CLI: --missing interpolate) to fill them linearly"
        )
    out = values.clone()
    steps = torch.arange(values.shape[0], dtype=torch.float64)
    for c in range(values.shape[1]):
        seen = ~nan[:, c]
        xs, ys = steps[seen], values[seen, c].double()
        idx = torch.searchsorted(xs, steps).clamp(1, max(len(xs) - 1, 1))
        lo, hi = idx - 1, idx.clamp(max=len(xs) - 1)
        span = (xs[hi] - xs[lo]).clamp_min(1.0)
        w = ((steps - xs[lo]) / span).clamp(0.0, 1.0)
        filled = ys[lo] + w * (ys[hi] - ys[lo])
        filled = torch.where(steps < xs[0], ys[0], torch.where(steps > xs[-1], ys[-1], filled))
        out[:, c] = filled.to(values.dtype)
    return out


# -- CSV -------------------------------------------------------------------------------------


def _number(text: str, where: str) -> float:
    text = text.strip()
    if text == "" or text.lower() in ("nan", "na", "null"):
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise DataError(f"{where}: {text!r} is not a number") from None


def _text_columns_hint(header: list[str], first: list[str], extra: set) -> str:
    """What to do when a CSV read with every column has a text column (dates, names)."""
    numbers, text = [], []
    for name, cell in zip(header, first):
        if name in extra:
            continue
        try:
            _number(cell, name)
            numbers.append(name)
        except DataError:
            text.append(name)
    pick = f"--columns {','.join(numbers)}" if numbers else "--columns NAME"
    return f"text columns {text} are not values: name the value columns with {pick} (API: columns=)"


def read_csv(
    path: str | Path,
    columns: list[str] | None = None,
    time_column: str | None = None,
    label_column: str | None = None,
    missing: str = "refuse",
) -> SeriesData:
    """Read a CSV with a header row as a series (n, c): ``columns`` by name (default: all but
    the time and label columns), ``time_column`` kept as text, ``label_column`` as 0/1 labels.

    Raises:
        DataNotFoundError: no such file. DataError: empty file, ragged row (with its row number),
        a non-number, NaNs under missing="refuse". ConfigError: unknown column names.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"CSV file {path} does not exist")
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            rows = list(reader)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except csv.Error as exc:  # a field past csv's limit (128 KiB), a NUL byte, a stray quote
        raise DataError(f"{path}: line {reader.line_num} is not readable CSV ({exc})") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if len(rows) < 2:
        raise DataError(f"{path}: needs a header row and at least one data row, got {len(rows)}")
    header = [h.strip().strip("'\"") or f"column{i}" for i, h in enumerate(rows[0])]
    for name in [*(columns or []), time_column, label_column]:
        if name is not None and name not in header:
            raise ConfigError(f"{path}: unknown column {name!r}; the columns are {header}")
    extra = {time_column, label_column}
    chosen = columns or [h for h in header if h not in extra]
    if not chosen:
        raise ConfigError(f"{path}: no value columns left after the time/label columns")
    picks = [header.index(h) for h in chosen]
    data, stamps, labels = [], [], []
    for row_no, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise DataError(f"{path}: row {row_no} has {len(row)} fields, header {len(header)}")
        try:
            data.append(
                [_number(row[i], f"{path}: row {row_no}, column {header[i]!r}") for i in picks]
            )
        except DataError as exc:
            if columns is not None or row_no != 2:
                raise
            raise DataError(f"{exc}; {_text_columns_hint(header, row, extra)}") from None
        if time_column is not None:
            stamps.append(row[header.index(time_column)].strip())
        if label_column is not None:
            where = f"{path}: row {row_no}, column {label_column!r}"
            labels.append(_number(row[header.index(label_column)], where))
    values = fill_missing(torch.tensor(data, dtype=torch.float32), missing, str(path), chosen)
    lab = torch.tensor(labels).nan_to_num(0.0).ne(0).long() if label_column else None
    return SeriesData(values, chosen, path.stem, stamps or None, lab)


# -- UCR cases -------------------------------------------------------------------------------


def pad_cases(cases: list[Tensor], length: int | None = None) -> tuple[Tensor, Tensor]:
    """Stack (T_i, C) cases into (N, T, C), padding at the end with each case's last value."""
    lengths = torch.tensor([c.shape[0] for c in cases])
    t = length or int(lengths.max())
    pads = [c[-1:].expand(max(t - c.shape[0], 0), -1) for c in cases]
    out = torch.stack([torch.cat([c[:t], p]) for c, p in zip(cases, pads)])
    return out, lengths


def load_ucr_files(train: str | Path, test: str | Path, name: str = "ucr") -> ClassificationData:
    """A classification set from its TRAIN and TEST ``.ts`` files (labels mapped to 0..K-1)."""
    tr, tr_lab, declared = read_ts(train)
    te, te_lab, _ = read_ts(test)
    classes = declared or sorted(set(tr_lab) | set(te_lab))
    if len({c.shape[1] for c in tr + te}) != 1:
        raise ShapeError(f"{name}: TRAIN and TEST cases have different channel counts")
    t = max(c.shape[0] for c in tr + te)
    shape = (len(tr) + len(te), t, tr[0].shape[1])
    check_elements(shape, 4, f"{name}: {shape[0]} cases padded to {t} steps", error=DataError)
    train_x, train_len = pad_cases([fill_missing(c, "interpolate", name) for c in tr], t)
    test_x, test_len = pad_cases([fill_missing(c, "interpolate", name) for c in te], t)
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted(set(te_lab) - set(index))
    if unknown:
        raise DataError(f"{name}: test labels {unknown} never appear in the training classes")
    return ClassificationData(
        train_x, torch.tensor([index[lab] for lab in tr_lab]), test_x,
        torch.tensor([index[lab] for lab in te_lab]), classes, train_len, test_len, name,
    )  # fmt: skip


# -- windows and splits ----------------------------------------------------------------------


def split_time(n: int, val: float = 0.15, test: float = 0.15) -> tuple[slice, slice, slice]:
    """Train / val / test slices in time order (never shuffled across the split)."""
    if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
        raise ConfigError(f"val and test fractions must be in [0, 1), sum < 1; got {val}, {test}")
    n_test, n_val = round(n * test), round(n * val)
    n_train = n - n_val - n_test
    if n_train < 1:
        raise DataError(f"series of {n} steps is too short to split (val={val}, test={test})")
    return slice(0, n_train), slice(n_train, n_train + n_val), slice(n_train + n_val, n)


def make_windows(
    values: torch.Tensor, window: int, horizon: int = 1, stride: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cut (n, c) into inputs X (N, window, c) and the next ``horizon`` steps Y (N, horizon, c).

    Window i starts at i * stride. Raises DataError when the series is shorter than
    window + horizon, ConfigError for window / horizon / stride < 1.
    """
    for name, v in (("window", window), ("horizon", horizon), ("stride", stride)):
        if v < 1:
            raise ConfigError(f"{name} must be >= 1, got {v}")
    n = values.shape[0]
    if n < window + horizon:
        raise DataError(
            f"series of {n} steps is shorter than window + horizon = {window} + {horizon}"
        )
    count = (n - window - horizon) // stride + 1
    shape = (count, window + horizon, values.shape[1])
    check_elements(shape, values.element_size(), f"{count} windows of {window}+{horizon} steps")
    frames = values.unfold(0, window + horizon, stride)  # (n, c) -> (N, c, window + horizon)
    frames = frames.transpose(1, 2)  # (N, c, L) -> (N, L, c)
    return frames[:, :window].contiguous(), frames[:, window:].contiguous()


# -- built-in sets by name (files through reti.data.fetch) -----------------------------------
FORECAST_SETS = {  # name -> (file ending, value column, time column, seasonal period m, layout)
    "co2": ("co2.csv", "co2", "date", 52, "csv"),
    "airline": ("Airline.csv", "Passengers", "Date", 12, "csv"),
    "sunspots": ("sunspots.csv", "SUNACTIVITY", "YEAR", 11, "csv"),
    "nile": ("nile.csv", "volume", "year", 1, "csv"),
    "lynx": ("Lynx.csv", "0", "column0", 10, "csv"),
    "shampoo": ("ShampooSales.csv", None, None, 12, "csv"),
    "elnino": ("elnino.csv", None, "YEAR", 12, "wide"),
    "taylor": ("taylor.py", None, None, 48, "literal"),
}
ANOMALY_SETS = {  # name -> (train member, test member); one member = split it in time order
    "kdd-tsad-135": ("_TRAIN.csv", "_TEST.csv"),
    "ecg": ("_TRAIN_NA.csv", "_TEST.csv"),
    "mitdb": ("mitdb.csv", None),
    "yahoo": ("yahoo.csv", None),
}
UCR_SETS = ("GunPoint", "ItalyPowerDemand", "ArrowHead", "OSULeaf", "ACSF1", "BasicMotions",
            "JapaneseVowels")  # fmt: skip


def _member(name: str, ending: str) -> Path:
    from reti.data.fetch import fetch  # the data engineer's fetcher (downloads on first use)

    path = Path(fetch(name))
    found = [path] if path.is_file() else sorted(path.glob(f"*{ending}"))
    if not found:
        raise DataNotFoundError(f"data set {name!r} has no member ending in {ending!r}")
    return found[0]


def _numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", text)]


def load_series(
    spec: str,
    columns: list[str] | None = None,
    time_column: str | None = None,
    missing: str = "refuse",
) -> SeriesData:
    """A forecasting series by built-in name (``co2``, ``airline``, ``taylor`` ...) or ``csv:PATH``.

    Raises:
        ConfigError: an unknown name. DataError: NaNs under missing="refuse" (co2 has 59).
    """
    spec, path = parse_spec(spec, "series", sorted(FORECAST_SETS), ("csv",))
    if path is not None:
        return read_csv(path, columns, time_column, missing=missing)
    ending, column, stamp, season, layout = FORECAST_SETS[spec]
    path = _member(spec, ending)
    if layout == "csv":
        data = read_csv(path, [column] if column else None, stamp, missing=missing)
    else:  # "wide": YEAR, JAN..DEC rows; "literal": the numbers of `np.array([...])` in a .py
        text = path.read_text(encoding="utf-8")
        start = text.find("np.array([")
        numbers = _numbers(text[start : text.index("])", start)]) if layout == "literal" else []
        values = (
            read_csv(path, None, stamp, missing=missing).values.reshape(-1, 1)
            if layout == "wide"
            else torch.tensor(numbers, dtype=torch.float32).reshape(-1, 1)
        )
        data = SeriesData(fill_missing(values, missing, spec), [spec])
    data.name, data.season = spec, season
    return data


def load_anomaly(
    spec: str, train_fraction: float = 0.3, columns: list[str] | None = None
) -> tuple[SeriesData, SeriesData]:
    """(train, test) of a labelled anomaly set by name, or ``csv:PATH`` (value..., label columns).
    Sets shipped as one file (mitdb, yahoo, csv:) are split in time order: the first
    ``train_fraction`` is the training part (its labels are never used to fit).
    """
    spec, path = parse_spec(spec, "anomaly set", sorted(ANOMALY_SETS), ("csv",))
    if path is not None:
        whole = _anomaly_csv(Path(path), None, columns)
    elif ANOMALY_SETS[spec][1] is not None:
        return tuple(_anomaly_csv(_member(spec, end), spec) for end in ANOMALY_SETS[spec])
    else:
        whole = _anomaly_csv(_member(spec, ANOMALY_SETS[spec][0]), spec)
    cut = split_time(whole.values.shape[0], 0.0, 1 - train_fraction)[0].stop
    v, lab, parts = whole.values, whole.labels, (slice(0, cut), slice(cut, None))
    return tuple(SeriesData(v[p], whole.columns, spec, None, lab[p]) for p in parts)


def _anomaly_csv(path: Path, name: str | None = None, cols: list[str] | None = None) -> SeriesData:
    if not path.is_file():
        raise DataNotFoundError(f"CSV file {path} does not exist")
    try:
        with open(path, encoding="utf-8-sig") as fh:
            header = [h.strip() for h in fh.readline(1 << 20).split(",")]
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    label = next((h for h in ("is_anomaly", "label", "anomaly") if h in header), None)
    if label is None:
        raise DataError(f"{path}: anomaly CSVs need a column is_anomaly or label, got {header}")
    data = read_csv(path, cols, "timestamp" if "timestamp" in header else None, label)
    data.name = name or path.stem
    return data


def load_ucr(spec: str) -> ClassificationData:
    """A UCR/UEA classification set by name (``GunPoint`` ...) or ``ts:FOLDER`` holding
    ``*_TRAIN.ts`` and ``*_TEST.ts``."""
    spec, path = parse_spec(spec, "UCR set", list(UCR_SETS), ("ts",))
    if path is not None:
        folder = Path(path)
        if not folder.is_dir():
            raise DataNotFoundError(f"folder {folder} does not exist")
        train = sorted(folder.glob("*_TRAIN.ts"))
        test = sorted(folder.glob("*_TEST.ts"))
        if not train or not test:
            raise DataNotFoundError(f"{folder} needs a *_TRAIN.ts and a *_TEST.ts file")
        return load_ucr_files(train[0], test[0], folder.name)
    return load_ucr_files(_member(spec, "_TRAIN.ts"), _member(spec, "_TEST.ts"), spec)
