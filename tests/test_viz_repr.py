"""Notebook views: History, the data objects and token encodings render as HTML that holds
their key figures (final accuracy, class names, ids) and an inline PNG, never a tensor dump."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from reti.data.images import ImageData
from reti.data.series import ClassificationData, SeriesData
from reti.tokenize import BPETokenizer, CharTokenizer
from reti.tokenize.display import show_tokens, token_colour
from reti.train import History, TrainConfig, fit

PNG = b"\x89PNG\r\n\x1a\n"


class _Checker(HTMLParser):
    """Fails on a closing tag that does not match the open one (a well-nested check)."""

    VOID = {"img", "br"}

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag, f"unbalanced </{tag}>"


def _valid(html: str) -> str:
    checker = _Checker()
    checker.feed(html)
    checker.close()
    assert checker.stack == [], f"unclosed tags {checker.stack}"
    return html


def _pngs(html: str) -> list[bytes]:
    found = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    return [base64.b64decode(x) for x in found]


def _history(tmp_path, epochs=7) -> History:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(96, 3, generator=gen)
    y = (x[:, 0] + x[:, 1] > 0).long()
    cfg = TrainConfig(epochs=epochs, batch_size=16, lr=5e-2, device="cpu", quiet=True)

    def accuracy(out, target):
        return (out.argmax(-1) == target).float()

    return fit(
        torch.nn.Linear(3, 2), (x, y), cfg, loss_fn=F.cross_entropy, val=(x, y),
        metrics={"accuracy": accuracy}, run_dir=tmp_path / "run",
    )  # fmt: skip


def test_history_html_has_final_accuracy_a_short_table_and_the_curves(tmp_path):
    history = _history(tmp_path)
    html = _valid(history._repr_html_())
    final = history.final["val_accuracy"]
    assert f"val_accuracy {final:.4g}" in html
    assert html.count("<tr>") == 1 + 3 + 1 + 3  # header, first 3, the ellipsis, last 3
    assert "&hellip;" in html and str(tmp_path / "run") in html
    (png,) = _pngs(html)
    assert png[:8] == PNG
    assert len(repr(history)) < 300 and "epochs=7" in repr(history)


def test_history_plot_draws_loss_and_each_metric_against_the_step(tmp_path):
    history = _history(tmp_path, epochs=3)
    fig = history.plot()
    assert isinstance(fig, Figure)
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_xlabel() == "optimizer step"
    assert acc_ax.get_title() == "validation accuracy"
    assert [line.get_label() for line in loss_ax.lines] == ["train", "validation"]
    assert list(loss_ax.lines[1].get_xdata()) == [6, 12, 18]  # 96 samples / 16 per step
    assert list(loss_ax.lines[1].get_ydata()) == [r["val_loss"] for r in history.rows]


def test_rows_without_steps_are_drawn_against_the_epoch():
    rows = [{"epoch": e, "train_loss": 1.0 / e} for e in (1, 2)]
    assert History(rows=rows).plot().axes[0].get_xlabel() == "epoch"


def test_a_curve_the_step_rows_lack_comes_from_the_epoch_rows():
    rows = [
        {"epoch": e, "step": 10 * e, "train_loss": 1.0 / e, "val_loss": 2.0 / e} for e in (1, 2)
    ]
    steps = [{"step": s, "epoch": 1 + s // 10, "val_loss": 3.0} for s in (5, 10, 15, 20)]
    loss = History(rows=rows, steps=steps).plot().axes[0]
    train, val = loss.lines
    assert list(train.get_xdata()) == [10, 20] and list(val.get_xdata()) == [5, 10, 15, 20]


def test_history_plot_prefers_step_rows():
    rows = [{"epoch": 1, "train_loss": 1.0, "val_loss": 1.1}]
    steps = [{"step": s, "train_loss": 2.0 / s} for s in (1, 2, 3)] + [{"step": 3, "val_loss": 0.9}]
    rows = [{**rows[0], "step": 3}]
    fig = History(rows=rows, steps=steps, final=rows[0]).plot()
    ax = fig.axes[0]
    assert ax.get_xlabel() == "optimizer step"
    assert list(ax.lines[0].get_xdata()) == [1, 2, 3] and list(ax.lines[1].get_xdata()) == [3]


def test_empty_history_renders():
    assert "no epoch" in _valid(History()._repr_html_())


def test_image_data_html_names_classes_counts_and_shows_one_image_per_class():
    x = torch.zeros(6, 1, 4, 4, dtype=torch.uint8)
    data = ImageData(x, torch.tensor([0, 1, 1, 2, 2, 2]), x[:2], torch.tensor([2, 0]),
                     ["cat", "dog", "<fox>"], "pets")  # fmt: skip
    html = _valid(data._repr_html_())
    assert "6 train / 2 test images, 1x4x4, 3 classes" in html
    assert "<td>dog</td><td>2</td><td>0</td>" in html and "&lt;fox&gt;" in html
    assert _pngs(html)[0][:8] == PNG
    assert repr(data) == "ImageData 'pets': 6 train / 2 test images, 1x4x4, 3 classes"


def test_series_html_gives_length_columns_and_anomalies():
    values = torch.sin(torch.arange(50.0) / 5)[:, None]
    labels = torch.zeros(50, dtype=torch.long)
    labels[10:13] = 1
    data = SeriesData(values, ["load"], name="toy", labels=labels, season=12)
    html = _valid(data._repr_html_())
    assert "50 steps x 1 column(s), season 12, 3 anomalous steps" in html
    assert "columns: load" in html and len(_pngs(html)) == 1
    assert "tensor" not in repr(data)


def test_classification_data_html():
    x = torch.randn(4, 10, 2)
    data = ClassificationData(x, torch.tensor([0, 1, 0, 1]), x[:2], torch.tensor([1, 1]),
                              ["walk", "run"], torch.full((4,), 10), torch.full((2,), 8),
                              "moves")  # fmt: skip
    html = _valid(data._repr_html_())
    assert "4 train / 2 test cases, up to 10 steps x 2 channel(s), 2 classes" in html
    assert "<td>run</td><td>2</td><td>2</td>" in html


def test_token_encoding_shows_each_token_with_its_id_and_a_colour_per_id():
    tok = CharTokenizer.train("abca")
    enc = show_tokens(tok, "abca")
    assert enc.ids == tok.encode("abca") and enc.pieces == ["a", "b", "c", "a"]
    html = _valid(enc._repr_html_())
    for i in set(enc.ids):
        assert f"<small>{i}</small>" in html
    assert html.count(token_colour(enc.ids[0])) == 2  # both "a" share a colour
    assert "4 tokens</b> for 4 characters" in html


def test_bpe_encoding_pieces_join_back_to_the_text():
    tok = BPETokenizer.train("low lower lowest " * 30, vocab_size=265)
    text = "lowest lower <b>"
    enc = show_tokens(tok, text)
    assert "".join(enc.pieces) == text and len(enc) < len(text)
    html = _valid(enc._repr_html_())
    assert "&lt;" in html and "&gt;" in html and html.count("<b>") == 1  # only the header
