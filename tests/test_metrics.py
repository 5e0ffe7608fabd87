"""Every metric against values worked out by hand."""

from __future__ import annotations

import math

import pytest
import torch

from reti.errors import DataError, ShapeError
from reti.metrics import (
    accuracy,
    bits_per_byte,
    confusion_matrix,
    macro_f1,
    mae,
    mase,
    naive_scale,
    point_adjust,
    point_adjusted_precision_recall_f1,
    precision_recall_f1,
    rmse,
    smape,
)


def test_mae_rmse_hand_computed():
    y, f = [1.0, 2.0, 4.0], [2.0, 2.0, 1.0]  # errors 1, 0, 3
    assert mae(y, f) == pytest.approx(4 / 3)
    assert rmse(y, f) == pytest.approx(math.sqrt(10 / 3))
    assert mae(torch.tensor([[1.0], [2.0]]), [1.0, 2.0]) == 0.0


def test_mase_with_and_without_season():
    train = [1.0, 3.0, 2.0, 6.0]  # |diffs| m=1: 2, 1, 4 -> 7/3; m=2: 1, 3 -> 2
    assert naive_scale(train, 1) == pytest.approx(7 / 3)
    assert mase([5.0, 5.0], [6.0, 3.0], train, m=1) == pytest.approx(1.5 / (7 / 3))
    assert mase([5.0, 5.0], [6.0, 3.0], train, m=2) == pytest.approx(1.5 / 2)


def test_mase_refuses_constant_or_short_training_part():
    with pytest.raises(DataError, match="constant"):
        mase([1.0], [2.0], [3.0, 3.0, 3.0])
    with pytest.raises(DataError, match="more than m=4"):
        mase([1.0], [2.0], [1.0, 2.0, 3.0], m=4)


def test_smape_hand_computed_and_zero_over_zero():
    # pairs (100, 110): 2*10/210; (0, 0): 0 by convention; (-1, 1): 2*2/2 = 2
    expected = 100 / 3 * (20 / 210 + 0 + 2)
    assert smape([100.0, 0.0, -1.0], [110.0, 0.0, 1.0]) == pytest.approx(expected)


def test_accuracy_and_macro_f1_hand_computed():
    y = [0, 0, 1, 1, 2]
    p = [0, 1, 1, 1, 0]
    assert accuracy(y, p) == pytest.approx(3 / 5)
    # class 0: tp1 fp1 fn1 -> f1 .5; class 1: tp2 fp1 fn0 -> p 2/3 r 1 f1 .8; class 2: 0
    assert macro_f1(y, p) == pytest.approx((0.5 + 0.8 + 0.0) / 3)


def test_precision_recall_f1_hand_computed():
    truth = [0, 1, 1, 0, 0, 1]
    pred = [1, 1, 0, 0, 0, 1]  # tp 2, fp 1, fn 1
    got = precision_recall_f1(truth, pred)
    assert got == pytest.approx({"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3})
    assert precision_recall_f1([0, 0], [0, 0]) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_point_adjusted_variant_fills_hit_segments_only():
    truth = [0, 1, 1, 1, 0, 1, 1, 0]  # segments [1, 4) and [5, 7)
    pred = [0, 0, 1, 0, 0, 0, 0, 1]  # hits the first segment once, misses the second, one fp
    assert point_adjust(truth, pred).int().tolist() == [0, 1, 1, 1, 0, 0, 0, 1]
    raw = precision_recall_f1(truth, pred)
    adj = point_adjusted_precision_recall_f1(truth, pred)
    assert raw["recall"] == pytest.approx(1 / 5)
    assert adj == pytest.approx({"precision": 3 / 4, "recall": 3 / 5, "f1": 2 / 3})
    # a segment that runs to the last point is still a segment
    assert point_adjust([0, 1, 1], [0, 0, 1]).int().tolist() == [0, 1, 1]


def test_shape_and_empty_errors_name_the_problem():
    with pytest.raises(ShapeError, match="same size, got 2 and 3"):
        mae([1, 2], [1, 2, 3])
    with pytest.raises(DataError, match="empty"):
        rmse([], [])


def test_confusion_matrix_rows_are_true_classes_columns_predictions():
    m = confusion_matrix(torch.tensor([0, 0, 1, 2, 2, 2]), [0, 1, 1, 2, 2, 0], 3)
    assert m.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    assert confusion_matrix([], [], 2).tolist() == [[0, 0], [0, 0]]
    with pytest.raises(DataError, match="y_pred holds labels outside 0..1"):
        confusion_matrix([0, 1], [0, 2], 2)
    with pytest.raises(ShapeError, match="same size, got 2 and 1"):
        confusion_matrix([0, 1], [0], 2)


def test_bits_per_byte_hand_computed():
    # 3 tokens of 2 bytes each, each predicted with p = 1/4: 3 ln 4 nats over 6 bytes = 1 bit/byte
    assert bits_per_byte(3 * math.log(4), 6) == pytest.approx(1.0)
    assert bits_per_byte(0.0, 0) == 0.0
