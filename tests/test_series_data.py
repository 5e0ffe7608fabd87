"""Series data: CSV and .ts readers with positioned errors, missing values, windows, splits."""

from __future__ import annotations

import math

import pytest
import torch

from reti.data.series import (
    fill_missing,
    load_anomaly,
    load_series,
    load_ucr,
    make_windows,
    read_csv,
    read_ts,
    split_time,
)
from reti.errors import ConfigError, DataError, DataNotFoundError


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_columns_time_and_labels(tmp_path):
    path = _write(
        tmp_path, "s.csv", "date,a,b,label\n2020-01,1,10,0\n2020-02,2,20,1\n2020-03,3,30,0\n"
    )
    data = read_csv(path, columns=["b"], time_column="date", label_column="label")
    assert data.columns == ["b"] and data.values.flatten().tolist() == [10.0, 20.0, 30.0]
    assert data.time == ["2020-01", "2020-02", "2020-03"]
    assert data.labels.tolist() == [0, 1, 0]
    assert read_csv(path, time_column="date").columns == ["a", "b", "label"]


def test_csv_ragged_row_names_the_row(tmp_path):
    path = _write(tmp_path, "r.csv", "a,b\n1,2\n3,4\n5\n")
    with pytest.raises(DataError, match="row 4 has 1 fields"):
        read_csv(path)


def test_csv_unknown_column_lists_the_columns(tmp_path):
    path = _write(tmp_path, "u.csv", "a,b\n1,2\n")
    with pytest.raises(ConfigError, match=r"unknown column 'zz'.*\['a', 'b'\]"):
        read_csv(path, columns=["zz"])


def test_csv_not_a_number_and_empty_and_missing_file(tmp_path):
    with pytest.raises(DataError, match="row 3, column 'a': 'x' is not a number"):
        read_csv(_write(tmp_path, "n.csv", "a\n1\nx\n"))
    with pytest.raises(DataError, match="header row and at least one data row"):
        read_csv(_write(tmp_path, "e.csv", "a,b\n"))
    with pytest.raises(DataNotFoundError):
        read_csv(tmp_path / "nope.csv")


def test_missing_values_refused_by_default_interpolated_by_option(tmp_path):
    path = _write(tmp_path, "m.csv", "a,b\n1,5\n,6\nnan,7\n4,\n")
    with pytest.raises(DataError, match="3 missing value.*row 1, column 0.*interpolate"):
        read_csv(path)
    filled = read_csv(path, missing="interpolate").values
    torch.testing.assert_close(
        filled, torch.tensor([[1.0, 5.0], [2.0, 6.0], [3.0, 7.0], [4.0, 7.0]])
    )


def test_all_nan_column_is_refused_even_when_interpolating():
    x = torch.tensor([[1.0, math.nan], [2.0, math.nan]])
    with pytest.raises(DataError, match=r"column\(s\) \[1\] are all NaN"):
        fill_missing(x, "interpolate")
    with pytest.raises(ConfigError, match="missing-value policy"):
        fill_missing(x, "guess")


def test_ts_multivariate_unequal_length(tmp_path):
    text = (
        "# comment\n@problemName Toy\n@univariate false\n@dimensions 2\n@equalLength false\n"
        "@classLabel true a b\n@data\n1,2,3:4,5,6:a\n7,8:9,?:b\n"
    )
    cases, labels, classes = read_ts(_write(tmp_path, "Toy_TRAIN.ts", text))
    assert [c.shape for c in cases] == [(3, 2), (2, 2)]
    assert cases[0][:, 1].tolist() == [4.0, 5.0, 6.0] and math.isnan(cases[1][1, 1])
    assert labels == ["a", "b"] and classes == ["a", "b"]
    _write(tmp_path, "Toy_TEST.ts", text)
    data = load_ucr(f"ts:{tmp_path}")
    assert data.train_x.shape == (2, 3, 2) and data.train_lengths.tolist() == [3, 2]
    assert data.train_x[1, 2].tolist() == [8.0, 9.0]  # padded with the last (interpolated) value
    assert data.train_y.tolist() == [0, 1]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("@problemName T\n@bogus 1\n@data\n1:a\n", "line 2: unknown header tag @bogus"),
        ("@problemName T\n@classLabel maybe\n@data\n1:a\n", "line 2: @classLabel must be"),
        ("@problemName T\n1,2:a\n", "line 2: expected a header tag"),
        ("@problemName T\n@classLabel true a\n", "no @data line"),
        ("@classLabel true a\n@data\n1,2:c\n", "line 3: label 'c' is not in"),
        ("@dimensions 2\n@data\n1,2:a\n", "line 3: 1 channels, the header says @dimensions 2"),
        ("@data\n1,x:a\n", "line 2: a value is not a number"),
    ],
)
def test_ts_broken_files_name_the_line(tmp_path, text, match):
    with pytest.raises(DataError, match=match):
        read_ts(_write(tmp_path, "b.ts", text))


def test_windows_with_stride_and_horizon():
    x = torch.arange(10.0).reshape(10, 1)
    inputs, targets = make_windows(x, window=4, horizon=2, stride=3)
    assert inputs.shape == (2, 4, 1) and targets.shape == (2, 2, 1)
    assert inputs[1].flatten().tolist() == [3.0, 4.0, 5.0, 6.0]
    assert targets[1].flatten().tolist() == [7.0, 8.0]
    with pytest.raises(DataError, match="10 steps is shorter than window \\+ horizon = 9 \\+ 2"):
        make_windows(x, window=9, horizon=2)
    with pytest.raises(ConfigError, match="horizon must be >= 1, got 0"):
        make_windows(x, window=3, horizon=0)


def test_split_is_in_time_order_and_covers_everything():
    tr, va, te = split_time(100, 0.2, 0.1)
    assert (tr.start, tr.stop, va.stop, te.stop) == (0, 70, 90, 100)
    with pytest.raises(ConfigError, match="fractions"):
        split_time(10, 0.6, 0.5)


def test_anomaly_csv_split_and_unknown_names(tmp_path):
    rows = "".join(f"{i % 5},{int(i == 8)}\n" for i in range(10))
    path = _write(tmp_path, "a.csv", "data,label\n" + rows)
    train, test = load_anomaly(f"csv:{path}", 0.3)
    assert train.values.shape == (3, 1) and test.labels.tolist()[5] == 1
    with pytest.raises(ConfigError, match="unknown anomaly set"):
        load_anomaly("nope")
    with pytest.raises(ConfigError, match="unknown series"):
        load_series("nope")
    with pytest.raises(ConfigError, match="unknown UCR set"):
        load_ucr("nope")


@pytest.mark.network
def test_builtin_sets_parse_with_the_documented_sizes():
    co2 = load_series("co2", missing="interpolate")
    assert co2.values.shape == (2284, 1) and co2.season == 52
    with pytest.raises(DataError, match="59 missing"):
        load_series("co2")
    assert load_series("airline").values.shape == (144, 1)
    assert load_series("taylor").values.shape == (4032, 1)
    assert load_series("elnino").values.shape == (732, 1)
    italy = load_ucr("ItalyPowerDemand")
    assert italy.train_x.shape == (67, 24, 1) and italy.test_x.shape == (1029, 24, 1)
    vowels = load_ucr("JapaneseVowels")  # 12 channels, unequal lengths 7..29
    assert vowels.train_x.shape == (270, 29, 12) and vowels.train_lengths.min() < 29
    train, test = load_anomaly("kdd-tsad-135")
    assert train.values.shape == (1200, 1) and test.labels.sum() == 12
