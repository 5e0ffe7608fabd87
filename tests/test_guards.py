"""reti.guards and reti.io's validated JSON: sizes are refused before they are allocated, with
one line saying what and how much; files are read within limits and checked field by field."""

from __future__ import annotations

import json
import warnings

import pytest
import torch
from torch import nn

from reti import guards
from reti.errors import CheckpointError, ConfigError, DataError, DataNotFoundError, ParseError
from reti.io import save_checkpoint
from reti.jsonio import Field, check_schema, json_depth, parse_json, read_json

# --- sizes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1536, "1.5 KB"),
        (4 * 10**12, "4.0 TB"),
        (10**30, "1000000.0 YB"),
    ],
)
def test_human_bytes(n, text):
    assert guards.human_bytes(n) == text


def test_memory_limit_from_the_environment(monkeypatch):
    monkeypatch.setenv(guards.LIMIT_ENV, "2GB")
    assert guards.machine_memory() == (2 * 10**9, "the memory limit (RETI_MEMORY_LIMIT) is 2.0 GB")
    monkeypatch.setenv(guards.LIMIT_ENV, "1500")
    assert guards.machine_memory()[0] == 1500
    monkeypatch.setenv(guards.LIMIT_ENV, "lots")
    with pytest.raises(ConfigError, match="RETI_MEMORY_LIMIT must be a size"):
        guards.machine_memory()


def test_the_machine_memory_is_the_ram(monkeypatch):
    monkeypatch.delenv(guards.LIMIT_ENV, raising=False)
    total, words = guards.machine_memory()
    with open("/proc/meminfo", encoding="ascii") as fh:  # MemTotal in KiB, as the kernel counts
        kib = int(fh.readline().split()[1])
    assert abs(total - kib * 1024) < 0.01 * total
    assert words == f"this machine has {guards.human_bytes(total)}"


def test_check_bytes_says_what_and_how_much(monkeypatch):
    monkeypatch.setenv(guards.LIMIT_ENV, "1000")
    guards.check_bytes(1000, "a thing")  # exactly the limit fits
    with pytest.raises(ConfigError) as err:
        guards.check_bytes(4 * 10**12, "model 'x'", "for its weights")
    assert str(err.value) == (
        "model 'x' needs 4.0 TB for its weights; the memory limit (RETI_MEMORY_LIMIT) is 1.0 KB"
    )
    with pytest.raises(DataError):
        guards.check_elements((10, 10, 11), 1, "cases", error=DataError)


def test_check_model_measures_weights_on_the_meta_device(monkeypatch):
    # Linear(10, 10): 100 weights + 10 biases = 110 float32 = 440 bytes; a buffer of 5 more.
    def build():
        model = nn.Linear(10, 10)
        model.register_buffer("extra", torch.zeros(5))
        return model

    with torch.device("meta"):
        assert guards.module_bytes(build()) == 460
    monkeypatch.setenv(guards.LIMIT_ENV, "460")
    guards.check_model(build, "tiny")
    monkeypatch.setenv(guards.LIMIT_ENV, "459")
    with pytest.raises(ConfigError, match=r"^tiny needs 460 B for its weights; the memory limit"):
        guards.check_model(build, "tiny")


def test_check_model_draws_no_random_numbers():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    guards.check_model(lambda: nn.Linear(300, 300), "x")
    assert torch.equal(torch.rand(3), expected)


def test_absurd_models_are_refused_before_allocating():
    from reti.models.gpt import GPT, GPTConfig
    from reti.models.registry import build_model
    from reti.models.tcn import TCN, TCNConfig

    # FC@1e12 after a 28x28 grey image: 784e12 weights + 1e12 biases + the 1e12 x 10 head.
    with pytest.raises(ConfigError, match=r"^model 'FC@1000000000000,SOFTMAX' needs 3\.2 PB "):
        build_model("FC@1000000000000,SOFTMAX", 10, 1, 28)
    with pytest.raises(ConfigError, match="needs .* for its weights"):
        build_model("cnn", 10**13, 1, 28)
    with pytest.raises(ConfigError, match="num_classes must be a positive integer"):
        build_model("cnn", 1e13, 1, 28)
    with pytest.raises(ConfigError, match="^GPT needs more than 9.2 EB"):
        GPT(GPTConfig(d_model=2**30, n_head=1))
    with pytest.raises(ConfigError, match="^GPT needs 512.0 TB"):  # 1e12 x 128 learned positions
        GPT(GPTConfig(n_ctx=10**12))
    with pytest.raises(ConfigError, match="^TCN needs"):
        TCN(TCNConfig(channels=10_000_000))


def test_sizes_that_fit_still_build_and_count_right(monkeypatch):
    from reti.models.registry import build_model

    model = build_model("FC@16,SOFTMAX", 3, 1, 4)  # 16*16 + 16 + 16*3 + 3 = 323 parameters
    assert sum(p.numel() for p in model.parameters()) == 323
    monkeypatch.setenv(guards.LIMIT_ENV, str(323 * 4))
    build_model("FC@16,SOFTMAX", 3, 1, 4)
    monkeypatch.setenv(guards.LIMIT_ENV, str(323 * 4 - 1))
    with pytest.raises(ConfigError, match="needs 1.3 KB for its weights"):
        build_model("FC@16,SOFTMAX", 3, 1, 4)


def test_activations_of_one_batch(monkeypatch):
    from reti.models.registry import build_model

    def build():
        return build_model("CONV3@8-RELU-FC@4,SOFTMAX", 3, 1, 4)

    # conv (8, 4, 4) + relu (8, 4, 4) + flatten 128 + fc 4 + head 3 = 391 floats = 1564 bytes
    assert guards.activation_bytes(build, (1, 4, 4)) == 1564
    monkeypatch.setenv(guards.LIMIT_ENV, str(1564 * 10))
    guards.check_batch(build, (1, 4, 4), 10, "model 'x'")
    with pytest.raises(ConfigError, match=r"^one batch of 11 through model 'x' needs 17.2 KB for"):
        guards.check_batch(build, (1, 4, 4), 11, "model 'x'")
    assert guards.activation_bytes(build, (2, 4, 4)) is None  # wrong channels: not measurable


def test_crop_sizes_are_capped_and_checked_against_memory(monkeypatch):
    from reti.augment import parse_spec

    with pytest.raises(ParseError, match="crop padding must be at most 256, got 100000") as err:
        parse_spec("crop(100000)")
    assert err.value.position == 5
    monkeypatch.setenv(guards.LIMIT_ENV, "10000")
    aug = parse_spec("crop(20)")  # (2, 1, 8 + 40, 8 + 40) float32 = 18432 bytes > 10000
    with pytest.raises(ConfigError, match="crop padding 20 needs 18.4 KB"):
        aug(torch.zeros(2, 1, 8, 8), torch.zeros(2), torch.Generator().manual_seed(0))


def test_series_windows_are_checked_before_they_are_copied():
    from reti.data.series import make_windows

    with pytest.raises(ConfigError, match=r"^500000 windows of 500000\+1 steps needs 1\.0 TB"):
        make_windows(torch.zeros(1_000_000, 1), 500_000)


def test_image_headers_are_checked_before_decoding(tmp_path, png_header):
    from reti.data.formats import read_image

    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header(100_000, 100_000))  # Pillow itself refuses: > 2x its limit
    with pytest.raises(DataError, match=r"bomb.png: image claims 10,000,000,000 pixels"):
        read_image(bomb)
    big = tmp_path / "big.png"
    big.write_bytes(png_header(10_000, 10_000))  # Pillow would only warn; reti refuses
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DecompressionBombWarning escapes either
        with pytest.raises(DataError, match=r"big.png: image claims 100,000,000 pixels"):
            read_image(big)
    small = tmp_path / "small.png"
    small.write_bytes(png_header(3, 1))
    assert read_image(small, mode="L").shape == (1, 1, 3)


# --- validated JSON ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "depth"),
    [("1", 0), ("[]", 1), ('{"a": [[1], {"b": []}]}', 4), ('["[[[", "]"]', 1), ('"\\"[["', 0)],
)
def test_json_depth_ignores_brackets_inside_strings(text, depth):
    assert json_depth(text) == depth


def test_read_json_limits_name_the_file(tmp_path):
    path = tmp_path / "cfg.json"
    path.write_text("[" * 200_000 + "]" * 200_000, encoding="ascii")
    with pytest.raises(DataError, match=r"^config .*cfg.json: JSON nested 200000 levels deep"):
        read_json(path, "config")
    path.write_text('{"epochs": ' + "9" * 5000 + "}", encoding="ascii")
    with pytest.raises(ConfigError, match="an integer of 5000 digits; at most 100"):
        read_json(path, "config", error=ConfigError)
    path.write_bytes(b'{"a": "caff\xe8"}')
    with pytest.raises(DataError, match=r"cfg.json: not UTF-8 text \(byte 11\)"):
        read_json(path)
    path.write_text('{"a": 1,}', encoding="ascii")
    with pytest.raises(DataError, match=r"not valid JSON \(Expecting property name .* column 9\)"):
        read_json(path)
    path.write_text("[1, 2]", encoding="ascii")
    with pytest.raises(DataError, match="4 are read"):
        read_json(path, max_bytes=4)
    with pytest.raises(DataNotFoundError, match="does not exist"):
        read_json(tmp_path / "none.json")
    path.write_text('\ufeff{"a": [1, NaN]}', encoding="utf-8")
    value = read_json(path)
    assert value["a"][0] == 1 and value["a"][1] != value["a"][1]


SCHEMA = {"name": str, "n": Field(int, min=1, max=10), "opt": Field(dict, required=False),
          "rows": [{"x": float}], "maybe": Field(str, nullable=True, required=False)}  # fmt: skip


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "f.json: the document must be an object, got []"),
        ({"n": 1, "rows": []}, "f.json: field 'name' is missing"),
        ({"name": 3, "n": 1, "rows": []}, "f.json: field 'name' must be a string, got 3"),
        ({"name": "a", "n": True, "rows": []}, "field 'n' must be an integer >= 1 and <= 10"),
        ({"name": "a", "n": 11, "rows": []}, "field 'n' must be an integer >= 1 and <= 10, got 11"),
        ({"name": "a", "n": 2.0, "rows": []}, "field 'n' must be an integer"),
        ({"name": "a", "n": 2, "rows": {}}, "field 'rows' must be a list, got {}"),
        (
            {"name": "a", "n": 2, "rows": [{"x": 1}, {"x": "1"}]},
            "field 'rows[1].x' must be a number",
        ),
        ({"name": "a", "n": 2, "rows": [], "opt": 5}, "field 'opt' must be an object, got 5"),
        ({"name": "a" * 50, "n": 0, "rows": []}, "field 'n' must be an integer >= 1"),
    ],
)
def test_schema_names_the_file_and_the_field(doc, message):
    with pytest.raises(DataError) as err:
        check_schema(doc, SCHEMA, "f.json")
    assert message in str(err.value)


def test_schema_accepts_what_it_describes():
    doc = {"name": "a", "n": 10, "rows": [{"x": 1}, {"x": 2.5}], "maybe": None, "extra": [1]}
    assert check_schema(doc, SCHEMA, "f.json") is doc
    assert parse_json(json.dumps(doc), "x") == doc


# --- a checkpoint's meta.json and latest pointer -------------------------------------------------


def _checkpoint(tmp_path):
    folder = tmp_path / "run" / "checkpoints" / "step-0000001"
    save_checkpoint(folder, {"w": torch.ones(2)}, {"step": 1})
    return folder


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.update(step="3"), "field 'step' must be an integer >= 0"),
        (lambda m: m.update(step=-1), "field 'step' must be an integer >= 0, got -1"),
        (lambda m: m.update(model_config=[1]), "field 'model_config' must be an object"),
        (lambda m: m.update(kind=7), "field 'kind' must be a string"),
        (lambda m: m.pop("sha256"), "field 'sha256' is missing"),
        (lambda m: m.update(version=True), "field 'version' must be an integer, got true"),
    ],
)
def test_meta_json_fields_are_checked(tmp_path, edit, message):
    from reti.io import load_checkpoint

    folder = _checkpoint(tmp_path)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    edit(meta)
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(CheckpointError, match="meta.json|version") as err:
        load_checkpoint(folder)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xff\xfe", "holds bytes that are not UTF-8 text, not a checkpoint folder"),
        (b"step-0000002\n", "names 'step-0000002', which is not a checkpoint folder here"),
        (b"../../etc\n", "names '../../etc', not a checkpoint folder"),
        (b"step-1" + b"0" * 300, f"names 'step-1{'0' * 34}', not a checkpoint folder"),
        (b"", "names '', not a checkpoint folder"),
    ],
)
def test_latest_pointer_is_checked(tmp_path, raw, message):
    from reti.train import latest_checkpoint

    folder = _checkpoint(tmp_path)
    (folder.parent / "latest").write_bytes(raw)
    with pytest.raises(CheckpointError) as err:
        latest_checkpoint(tmp_path / "run")
    assert message in str(err.value)
    (folder.parent / "latest").write_bytes(b"step-0000001\n")
    assert latest_checkpoint(tmp_path / "run") == folder


def test_atomic_writes_get_the_usual_permissions(tmp_path):
    """mkstemp/mkdtemp make 0600/0700; a written file or checkpoint folder must not stay so."""
    import os

    from reti.io import atomic_write_text

    mask = os.umask(0)
    os.umask(mask)
    atomic_write_text(tmp_path / "a.txt", "x")
    save_checkpoint(tmp_path / "ck", {"w": torch.zeros(1)}, {})
    with open(tmp_path / "plain.txt", "w", encoding="ascii") as fh:  # what open() itself makes
        fh.write("x")
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~mask
    assert (tmp_path / "a.txt").stat().st_mode == (tmp_path / "plain.txt").stat().st_mode
    (tmp_path / "plain").mkdir()
    assert (tmp_path / "ck").stat().st_mode == (tmp_path / "plain").stat().st_mode


def test_vision_train_refuses_a_batch_whose_activations_cannot_fit(monkeypatch, tmp_path):
    """vgg11 on 8x8 digits keeps ~100 KB of activations per image: a batch of 100,000 needs
    ~10 GB, which a 1 GB limit refuses before any weight is allocated or any file written."""
    from reti.tasks.vision import VisionConfig, train
    from reti.train import TrainConfig

    monkeypatch.setenv("RETI_MEMORY_LIMIT", str(10**9))
    cfg = VisionConfig(data="digits", model="vgg11", limit=64, out=str(tmp_path / "run"),
                       train=TrainConfig(batch_size=100_000, quiet=True))  # fmt: skip
    with pytest.raises(
        ConfigError, match=r"one batch of 100000 through model 'vgg11' needs .* for its activations"
    ):  # noqa: E501
        train(cfg)
    assert not (tmp_path / "run").exists()


def test_text_train_refuses_a_batch_whose_activations_cannot_fit(monkeypatch, tmp_path):
    """A GPT of width 32 keeps tens of KB of activations per window of 64 tokens: a batch of
    the whole text (~4,000 windows) needs more than a 10 MB limit, refused before writing."""
    from reti.tasks.text import TextConfig, train
    from reti.train import TrainConfig

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("to be or not to be, that is the question. " * 100, encoding="utf-8")
    monkeypatch.setenv("RETI_MEMORY_LIMIT", str(10 * 10**6))
    cfg = TextConfig(data=str(corpus), n_ctx=64, n_layer=1, n_head=2, d_model=32,
                     out=str(tmp_path / "run"),
                     train=TrainConfig(batch_size=100_000, quiet=True))  # fmt: skip
    with pytest.raises(
        ConfigError, match=r"one batch of \d+ through model 'gpt' needs .* for its activations"
    ):
        train(cfg)
    assert not (tmp_path / "run").exists()
    # the same run fits in memory with a small batch (the estimate is per window)
    monkeypatch.setenv("RETI_MEMORY_LIMIT", str(10**9))
    small = TextConfig(data=str(corpus), n_ctx=64, n_layer=1, n_head=2, d_model=32,
                       train=TrainConfig(batch_size=8, max_steps=1, quiet=True))  # fmt: skip
    assert train(small).model is not None


def test_gpt_activation_estimate_grows_with_the_window():
    from reti.models.gpt import GPT, GPTConfig

    cfg = GPTConfig(65, 128, 2, 2, 32)
    short = guards.activation_bytes(lambda: GPT(cfg), (32,), torch.long)
    long = guards.activation_bytes(lambda: GPT(cfg), (128,), torch.long)
    assert short is not None and long == 4 * short


def test_series_train_refuses_a_batch_whose_activations_cannot_fit(monkeypatch, tmp_path):
    from reti.tasks.series import SeriesConfig, run
    from reti.train import TrainConfig

    path = tmp_path / "s.csv"
    path.write_text("value\n" + "\n".join(str(i % 12) for i in range(400)) + "\n")
    monkeypatch.setenv("RETI_MEMORY_LIMIT", str(10**6))  # the weights (~10 KB) fit
    cfg = SeriesConfig(data=f"csv:{path}", columns="value", horizon=3, window=24, channels=16,
                       levels=2, out=str(tmp_path / "run"),
                       train=TrainConfig(batch_size=256, epochs=1, quiet=True))  # fmt: skip
    with pytest.raises(ConfigError, match=r"one batch of \d+ through the forecast model needs"):
        run(cfg)
    assert not (tmp_path / "run").exists()
