"""reti.viz: every drawing is a plain ``Figure`` (no pyplot), saved as a real PNG atomically."""

from __future__ import annotations

import sys

import pytest
import torch
from matplotlib.figure import Figure

from reti import viz
from reti.errors import ShapeError

PNG = b"\x89PNG\r\n\x1a\n"


def test_image_grid_is_a_figure_with_one_axes_per_cell_and_saves_a_png(tmp_path):
    rows = [torch.zeros(3, 1, 8, 8, dtype=torch.uint8), torch.rand(2, 3, 8, 8)]
    fig = viz.image_grid_figure(rows, row_titles=["a", "b"], col_titles=["x", "y", "z"])
    assert isinstance(fig, Figure) and len(fig.axes) == 2 * 3
    assert [ax.get_title() for ax in fig.axes[:3]] == ["x", "y", "z"]
    path = viz.save_image_grid(rows, tmp_path / "grid.png")
    assert path.read_bytes()[:8] == PNG


def test_filters_feature_maps_and_confusion_are_figures(tmp_path):
    fig = viz.filters_figure(torch.randn(10, 3, 3, 3), title="first layer")
    assert isinstance(fig, Figure) and len(fig.axes) == 16  # 8 columns x 2 rows
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Conv2d(4, 5, 3))
    maps = viz.conv_feature_maps(model, torch.rand(1, 1, 9, 9))
    assert [t.shape for _, t in maps] == [(4, 7, 7), (5, 5, 5)]  # low and high (mid = high here)
    fig = viz.feature_maps_figure(maps, torch.rand(1, 9, 9), per_row=4, input_label="immagine")
    assert fig.axes[0].get_title() == "immagine"
    matrix = torch.tensor([[3, 1], [0, 4]])
    fig = viz.confusion_figure(matrix, ["cat", "dog"], labels=("previsto", "vero"))
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("previsto", "vero")
    assert sorted(t.get_text() for t in ax.texts) == ["0", "1", "3", "4"]
    assert (
        viz.save_confusion_matrix(matrix, ["cat", "dog"], tmp_path / "c.png").read_bytes()[:8]
        == PNG
    )


def test_bad_shapes_are_refused():
    with pytest.raises(ShapeError, match=r"\(K, K\) with K = 3"):
        viz.confusion_figure(torch.zeros(2, 2), ["a", "b", "c"])
    with pytest.raises(ShapeError, match="at least one row"):
        viz.image_grid_figure([])
    with pytest.raises(ShapeError, match=r"\(B, 1\|3, H, W\)"):
        viz.image_grid_figure([torch.zeros(2, 2, 4, 4)])


def test_save_figure_closes_a_pyplot_figure_it_is_given(tmp_path):
    # code outside reti may still hand over a pyplot figure: it must not stay open in pyplot
    plt = pytest.importorskip("matplotlib.pyplot")
    fig = plt.figure()
    number = fig.number
    viz.save_figure(fig, tmp_path / "p.png")
    assert not plt.fignum_exists(number)


def test_viz_does_not_import_pyplot():
    source = viz.__file__
    text = open(source, encoding="utf-8").read()
    for banned in ("import matplotlib.pyplot", "from matplotlib import pyplot", "matplotlib.use("):
        assert banned not in text
    assert "rcParams[" not in text and "rcParams.update" not in text
    assert "reti.viz" in sys.modules


def test_attention_forecast_and_anomaly_figures_have_their_panels_titles_and_legends():
    maps = [torch.softmax(torch.randn(1, 2, 3, 3), -1) for _ in range(2)]  # 2 layers, 2 heads
    fig = viz.attention_maps_figure(maps, ["a", "b", "c"], "pos=rope")
    assert len(fig.axes) == 4 and fig.axes[3].get_title() == "layer 2 head 2"
    assert fig.axes[0].get_xlabel() == "key token" and fig.axes[0].get_ylabel() == "query token"
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["a", "b", "c"]
    assert fig._suptitle.get_text().endswith("keys), pos=rope")
    fc = {"history": torch.arange(60.0)[:, None], "forecast": torch.ones(6, 1), "truth":
          torch.ones(4, 1), "seasonal_naive": torch.zeros(6, 1), "season": 12, "data": "toy",
          "method": "direct"}  # fmt: skip
    ax = viz.forecast_figure(fc).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "history", "truth", "seasonal naive", "forecast (direct)"]  # fmt: skip
    assert ax.get_title() == "toy: forecast" and ax.get_ylabel() == "value (data units)"

    class Trace:
        values, flags = torch.randn(20), torch.arange(20) % 7 == 0
        labels = (torch.arange(20) > 15).long()

    ax = viz.anomaly_figure(Trace, "toy").axes[0]
    assert ax.get_title() == "toy: flagged points" and len(ax.get_legend().get_texts()) == 3
