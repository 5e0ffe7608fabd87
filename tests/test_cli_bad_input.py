"""SPEC section 8 through the real CLI: every command given bad input answers with one line
"reti: error: ..." on stderr and exit status 2 — no traceback, no half-written output.

One table of cases (command, bad input, a word the message must contain); the few valid runs
the cases need (a text, a series and a vision run of one or two steps) are built once."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from reti.cli.main import main

TINY = ["--max-steps", "1", "--epochs", "1", "--quiet", "--device", "cpu"]
TEXT_SMALL = ["--n-layer", "1", "--n-head", "2", "--d-model", "16", "--n-ctx", "8",
              "--tokenizer", "char", "--batch-size", "4", *TINY]  # fmt: skip


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def files(tmp_path_factory, png_header):
    """Bad and good input files, and tiny trained runs, shared by every case."""
    root = tmp_path_factory.mktemp("bad")
    f = {"root": root}
    corpus = root / "corpus.txt"
    corpus.write_text("to be or not to be, that is the question.\n" * 20, encoding="utf-8")
    f["corpus"] = corpus
    (root / "latin1.txt").write_bytes("caff\xe8 perch\xe9 cos\xec\n".encode("latin-1") * 20)
    f["latin1"] = root / "latin1.txt"
    (root / "empty.txt").write_text("", encoding="utf-8")
    f["empty_txt"] = root / "empty.txt"
    (root / "empty.csv").write_text("", encoding="utf-8")
    f["empty_csv"] = root / "empty.csv"
    rows = "".join(f"d{i},nan,{math.sin(i / 3):.4f}\n" for i in range(120))
    (root / "nan.csv").write_text("date,load,other\n" + rows, encoding="utf-8")
    f["nan_csv"] = root / "nan.csv"
    rows = "".join(f"d{i},{5 + math.sin(i / 3):.4f}\n" for i in range(120))
    (root / "good.csv").write_text("date,load\n" + rows, encoding="utf-8")
    f["good_csv"] = root / "good.csv"
    (root / "existing").write_text("keep me", encoding="utf-8")
    f["existing"] = root / "existing"
    # Foreign "checkpoints": a pickle, random bytes, a JSON of another format.
    (root / "model.pkl").write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    f["pickle"] = root / "model.pkl"
    (root / "random.bin").write_bytes(np.random.default_rng(0).bytes(4096))
    f["binary"] = root / "random.bin"
    (root / "foreign.json").write_text('{"hello": "world"}', encoding="utf-8")
    f["json"] = root / "foreign.json"
    foreign_dir = root / "foreign_dir"
    foreign_dir.mkdir()
    (foreign_dir / "config.json").write_text("[1, 2, 3]", encoding="utf-8")
    f["foreign_dir"] = foreign_dir
    # Image folder data set: two classes of tiny grey squares.
    for label in ("a", "b"):
        (root / "pics" / label).mkdir(parents=True)
        for i in range(4):
            pixels = np.full((8, 8), 40 * i + (120 if label == "b" else 0), dtype=np.uint8)
            Image.fromarray(pixels).save(root / "pics" / label / f"{i}.png")
    f["pics"] = root / "pics"
    f["png"] = root / "pics" / "a" / "0.png"
    (root / "half.png").write_bytes(f["png"].read_bytes()[:40])
    f["half_png"] = root / "half.png"
    # Tiny valid runs.
    f["text_run"] = root / "text_run"
    argv = ["text", "train", "--data", str(corpus), *TEXT_SMALL, "--out", str(f["text_run"])]
    assert main(argv) == 0
    f["series_run"] = root / "series_run"
    argv = ["series", "train", "--data", f"csv:{f['good_csv']}", "--columns", "load",
            "--horizon", "4", "--window", "16", "--levels", "2", "--kernel-size", "3",
            "--out", str(f["series_run"]), *TINY]  # fmt: skip
    assert main(argv) == 0
    f["vision_run"] = root / "vision_run"
    argv = ["vision", "train", "--data", f"folder:{f['pics']}", "--model",
            "CONV3@2-RELU-FC@2,SOFTMAX", "--batch-size", "4", "--out", str(f["vision_run"]),
            *TINY]  # fmt: skip
    assert main(argv) == 0
    for kind in ("text", "series", "vision"):
        f[f"{kind}_truncated"] = _truncated_copy(f[f"{kind}_run"], root / f"{kind}_truncated")
    f["text_tok"] = f["text_run"] / "tokenizer.json"
    _hostile_files(f, root, png_header)
    return f


def _edited_copy(run, dest, edit=None, meta_bytes=None, latest=None):
    """A copy of ``run`` whose latest meta.json is edited (or replaced), or whose pointer is."""
    import json
    import shutil

    shutil.copytree(run, dest)
    pointer = dest / "checkpoints" / "latest"
    meta_file = pointer.parent / pointer.read_text(encoding="utf-8").strip() / "meta.json"
    if edit is not None:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        edit(meta)
        meta_file.write_text(json.dumps(meta), encoding="utf-8")
    if meta_bytes is not None:
        meta_file.write_bytes(meta_bytes)
    if latest is not None:
        pointer.write_bytes(latest)
    return dest


def _hostile_files(f, root, png_header):
    """Issue 13's hostile inputs: bombs, deep JSON, huge integers and fields, bad meta/latest."""
    for label, png in (("a", png_header(100_000, 100_000)), ("b", f["png"].read_bytes())):
        (root / "bombs" / label).mkdir(parents=True)
        (root / "bombs" / label / "0.png").write_bytes(png)
        (root / "bombs" / label / "1.png").write_bytes(f["png"].read_bytes())
    f["bombs"], f["bomb_png"] = root / "bombs", root / "bombs" / "a" / "0.png"
    (root / "deep.json").write_text("[" * 200_000 + "]" * 200_000, encoding="ascii")
    f["deep_json"] = root / "deep.json"
    (root / "digits.json").write_text('{"epochs": ' + "9" * 5000 + "}", encoding="ascii")
    f["digits_json"] = root / "digits.json"
    rows = "".join(f"d{i},{5 + math.sin(i / 3):.4f}\n" for i in range(60))
    (root / "wide.csv").write_text(f"date,load\n{rows}d60,{'7' * 200_000}\n", encoding="ascii")
    f["wide_csv"] = root / "wide.csv"
    v, t, s = f["vision_run"], f["text_run"], f["series_run"]
    edits = {
        "vision_classes": (v, lambda m: m["model_config"].update(num_classes=10**13)),
        "vision_classes_float": (v, lambda m: m["model_config"].update(num_classes=1e13)),
        "vision_no_format": (v, lambda m: m.pop("format")),
        "vision_step_text": (v, lambda m: m.update(step="3")),
        "text_ctx": (t, lambda m: m["model_config"]["gpt"].update(n_ctx=10**12)),
        "series_channels": (s, lambda m: m["model_config"]["series"].update(channels=10**7)),
    }
    for name, (run, edit) in edits.items():
        f[f"meta_{name}"] = _edited_copy(run, root / f"meta_{name}", edit)
    deep = b"[" * 200_000 + b"]" * 200_000
    f["meta_vision_deep"] = _edited_copy(v, root / "meta_vision_deep", meta_bytes=deep)
    f["meta_vision_latin1"] = _edited_copy(v, root / "meta_vision_latin1", meta_bytes=b"\xe8{}")
    f["meta_vision_digits"] = _edited_copy(
        v, root / "meta_vision_digits", meta_bytes=b'{"format": ' + b"1" * 5000 + b"}"
    )
    f["latest_garbage"] = _edited_copy(v, root / "latest_garbage", latest=b"\xff\x00step")
    f["latest_escape"] = _edited_copy(v, root / "latest_escape", latest=b"../../../etc\n")


def _truncated_copy(run, dest):
    """A copy of ``run`` whose latest checkpoint's tensors file lost its second half."""
    import shutil

    shutil.copytree(run, dest)
    tensors = sorted(dest.rglob("*.safetensors"))
    assert tensors, f"no tensors file under {dest}"
    for path in tensors:
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    return dest


# (id, argv with {placeholders} filled from ``files``, a word the one line must contain,
#  the output path that must not appear / change)
CHECKPOINT_KINDS = ["missing", "truncated", "pickle", "binary", "json", "foreign_dir"]
CHECKPOINTED = {
    "vision-eval": (["vision", "eval"], "vision"),
    "vision-predict": (["vision", "predict", "{png}"], "vision"),
    "vision-show": (["vision", "show", "--out", "{tmp}/show_{kind}"], "vision"),
    "series-forecast": (["series", "forecast", "--out", "{tmp}/fc_{kind}"], "series"),
    "text-generate": (["text", "generate", "--prompt", "to"], "text"),
    "text-eval": (["text", "eval"], "text"),
    "text-attention": (["text", "attention", "--prompt", "to", "--out", "{tmp}/at.png"], "text"),
}


def _checkpoint_cases():
    cases = []
    for name, (argv, family) in CHECKPOINTED.items():
        for kind in CHECKPOINT_KINDS:
            target = {"missing": "{tmp}/nowhere", "truncated": f"{{{family}_truncated}}"}
            path = target.get(kind, f"{{{kind}}}")
            out = next((a for a in argv if a.startswith("{tmp}/")), None)
            cases.append(pytest.param(
                [*argv, "--checkpoint", path], "checkpoint", out, kind, id=f"{name}-{kind}"
            ))  # fmt: skip
    return cases


VT = ["vision", "train", "--data", "folder:{pics}", "--out", "{tmp}/vt", *TINY]
ST = ["series", "train", "--out", "{tmp}/st", "--columns", "load", *TINY]
STG = [*ST, "--data", "csv:{good_csv}"]
TT = ["text", "train", *TEXT_SMALL, "--out", "{tmp}/tt"]
TTG = [*TT, "--data", "{corpus}"]
TOK = ["text", "tokenizer"]
AUG = ["augment", "show", "--data", "folder:{pics}"]
GEN = ["text", "generate", "--checkpoint", "{text_run}", "--prompt", "to"]
PRED = ["vision", "predict", "--checkpoint"]

# (id, a word the one line must contain, output that must not appear, argv)
# fmt: off
TABLE = [
    # impossible hyper-parameters, before any work
    ("vision-lr-negative", "lr", "{tmp}/vt", [*VT, "--lr", "-1"]),
    ("vision-lr-nan", "lr", "{tmp}/vt", [*VT, "--lr", "nan"]),
    ("vision-batch-zero", "batch", "{tmp}/vt", [*VT, "--batch-size", "0"]),
    ("vision-epochs-negative", "epochs", "{tmp}/vt", [*VT, "--epochs", "-1"]),
    ("vision-device-tpu", "tpu", "{tmp}/vt", [*VT, "--device", "tpu"]),
    ("series-lr-nan", "lr", "{tmp}/st", [*STG, "--lr", "nan"]),
    ("series-horizon-zero", "horizon", "{tmp}/st", [*STG, "--horizon", "0"]),
    ("series-batch-zero", "batch", "{tmp}/st", [*STG, "--batch-size", "0"]),
    ("series-device-tpu", "tpu", "{tmp}/st", [*STG, "--device", "tpu"]),
    ("text-lr-negative", "lr", "{tmp}/tt", [*TTG, "--lr", "-1"]),
    ("text-epochs-negative", "epochs", "{tmp}/tt", [*TTG, "--epochs", "-1"]),
    ("text-batch-zero", "batch", "{tmp}/tt", [*TTG, "--batch-size", "0"]),
    ("text-device-tpu", "tpu", "{tmp}/tt", [*TTG, "--device", "tpu"]),
    ("generate-temperature-0", "temperature", None, [*GEN, "--temperature", "0"]),
    ("generate-temp-nan", "temperature", None, [*GEN, "--temperature", "nan"]),
    ("generate-top-p", "top", None, [*GEN, "--top-p", "1.5"]),
    ("generate-top-k", "top", None, [*GEN, "--top-k", "-3"]),
    ("generate-max-tokens", "max", None, [*GEN, "--max-tokens", "-1"]),
    ("generate-device-tpu", "tpu", None, [*GEN, "--device", "tpu"]),
    ("text-eval-device-tpu", "tpu", None,
     ["text", "eval", "--checkpoint", "{text_run}", "--device", "tpu"]),
    ("tokenizer-vocab-10", "vocab", "{tmp}/t.json",
     [*TOK, "train", "--data", "{corpus}", "--vocab", "10", "--out", "{tmp}/t.json"]),
    ("augment-n-zero", "n", "{tmp}/aug.png",
     [*AUG, "--spec", "flip", "--n", "0", "--out", "{tmp}/aug.png"]),
    ("forecast-steps-zero", "steps", None,
     ["series", "forecast", "--checkpoint", "{series_run}", "--steps", "0"]),
    ("params-image-zero", "image", None, ["params", "--image", "0x5"]),
    # bad spec / pattern strings
    ("vision-bad-pattern", "CONV3@-X", "{tmp}/vt", [*VT, "--model", "CONV3@-X"]),
    ("vision-bad-augment", "flip", "{tmp}/vt", [*VT, "--augment", "flip(p=2"]),
    ("augment-bad-spec", "wobble", "{tmp}/aug.png",
     [*AUG, "--spec", "wobble(3)", "--out", "{tmp}/aug.png"]),
    ("text-bad-pos", "spiral", "{tmp}/tt", [*TTG, "--pos", "spiral"]),
    ("text-bad-tokenizer", "bpe", "{tmp}/tt", [*TTG, "--tokenizer", "bpe:x"]),
    ("params-bad-kernel", "3y3", None, ["params", "--kernel", "3y3"]),
    ("tokenizer-bad-ids", "ids", None,
     [*TOK, "decode", "--tokenizer", "{text_tok}", "--ids", "1,a"]),
    # unknown names
    ("vision-unknown-data", "nosuchset", "{tmp}/vt",
     [*VT[:2], "--data", "nosuchset", "--out", "{tmp}/vt", *TINY]),
    ("series-unknown-data", "nosuchset", "{tmp}/st", [*ST, "--data", "nosuchset"]),
    ("text-unknown-data", "nosuchset", "{tmp}/tt", [*TT, "--data", "nosuchset"]),
    ("data-get-unknown", "nosuchset", None, ["data", "get", "nosuchset"]),
    ("data-path-unknown", "nosuchset", None, ["data", "path", "nosuchset"]),
    ("data-info-unknown", "nosuchset", None, ["data", "info", "nosuchset"]),
    ("claims-unknown", "nosuchclaim", "{tmp}/cl",
     ["claims", "run", "nosuchclaim", "--out", "{tmp}/cl"]),
    ("augment-unknown-data", "nosuchset", "{tmp}/aug.png",
     ["augment", "show", "--data", "nosuchset", "--spec", "flip", "--out", "{tmp}/aug.png"]),
    ("series-unknown-model", "nosuchmodel", "{tmp}/st", [*STG, "--model", "nosuchmodel"]),
    # missing, empty, NaN, non-UTF-8 data files
    ("series-missing-csv", "none.csv", "{tmp}/st", [*ST, "--data", "csv:{tmp}/none.csv"]),
    ("series-empty-csv", "empty", "{tmp}/st", [*ST, "--data", "csv:{empty_csv}"]),
    ("series-nan-column", "load", "{tmp}/st", [*ST, "--data", "csv:{nan_csv}"]),
    ("vision-missing-folder", "nopics", "{tmp}/vt",
     [*VT[:2], "--data", "folder:{tmp}/nopics", "--out", "{tmp}/vt", *TINY]),
    ("text-missing", "none.txt", "{tmp}/tt", [*TT, "--data", "{tmp}/none.txt"]),
    ("text-empty", "empty", "{tmp}/tt", [*TT, "--data", "{empty_txt}"]),
    ("text-not-utf8", "utf-8", "{tmp}/tt", [*TT, "--data", "{latin1}"]),
    ("tokenizer-train-not-utf8", "utf-8", "{tmp}/t.json",
     [*TOK, "train", "--data", "{latin1}", "--out", "{tmp}/t.json"]),
    ("tokenizer-train-empty", "empty", "{tmp}/t.json",
     [*TOK, "train", "--data", "{empty_txt}", "--out", "{tmp}/t.json"]),
    ("tokenizer-encode-not-utf8", "utf-8", None,
     [*TOK, "encode", "--tokenizer", "{text_tok}", "--file", "{latin1}"]),
    ("tokenizer-missing", "no.json", None,
     [*TOK, "encode", "--tokenizer", "{tmp}/no.json", "--text", "a"]),
    ("tokenizer-foreign-json", "tokenizer", None,
     [*TOK, "encode", "--tokenizer", "{json}", "--text", "a"]),
    ("tokenizer-binary", "tokenizer", None,
     [*TOK, "encode", "--tokenizer", "{binary}", "--text", "a"]),
    ("vision-predict-not-an-image", "random.bin", None,
     ["vision", "predict", "--checkpoint", "{vision_run}", "{binary}"]),
    ("text-eval-not-utf8", "utf-8", None,
     ["text", "eval", "--checkpoint", "{text_run}", "--data", "{latin1}"]),
    # a foreign or malformed --config file
    ("vision-config-foreign", "hello", "{tmp}/vt", [*VT, "--config", "{json}"]),
    ("series-config-binary", "config", "{tmp}/st", [*STG, "--config", "{binary}"]),
    ("text-config-latin1", "config", "{tmp}/tt", [*TTG, "--config", "{latin1}"]),
    ("text-config-missing", "no.json", "{tmp}/tt", [*TTG, "--config", "{tmp}/no.json"]),
    ("text-resume-foreign-run", "text", None, [*TTG, "--resume", "--out", "{vision_run}"]),
    ("text-resume-truncated", "checkpoint", None,
     [*TT[:-2], "--resume", "--out", "{text_truncated}", "--data", "{corpus}"]),
    ("vision-predict-truncated-png", "half.png", None,
     ["vision", "predict", "--checkpoint", "{vision_run}", "{half_png}"]),
    ("series-csv-not-utf8", "utf-8", "{tmp}/st", [*STG[:-1], "csv:{latin1}"]),
    ("series-unknown-column", "nosuchcol", "{tmp}/st", [*STG, "--columns", "nosuchcol"]),
    ("data-verify-unknown", "nosuchset", None, ["data", "verify", "nosuchset"]),
    # an --out that is an existing file
    ("vision-out-is-file", "out", None, [*VT[:4], "--out", "{existing}", *TINY]),
    ("series-out-is-file", "out", None,
     [*ST[:3], "{existing}", *ST[4:], "--data", "csv:{good_csv}"]),
    ("text-out-is-file", "out", None, [*TT[:-1], "{existing}", "--data", "{corpus}"]),
    ("demo-out-is-file", "out", None, ["demo", "--quick", "--out", "{existing}"]),
    ("claims-out-is-file", "out", None, ["claims", "run", "1", "--quick", "--out", "{existing}"]),
    ("forecast-out-is-file", "out", None,
     ["series", "forecast", "--checkpoint", "{series_run}", "--out", "{existing}"]),
    ("vision-show-out-is-file", "out", None,
     ["vision", "show", "--checkpoint", "{vision_run}", "--out", "{existing}"]),
    ("tokenizer-out-under-file", "existing", None,
     [*TOK, "train", "--data", "{corpus}", "--kind", "char", "--out", "{existing}/t.json"]),
    # issue 13: absurd sizes from flags, before anything is allocated or written
    ("vision-fc-1e12", "for its weights", "{tmp}/vt", [*VT, "--model", "FC@1000000000000,SOFTMAX"]),
    ("text-d-model-2-30", "for its weights", None, [*TTG, "--d-model", "1073741824"]),
    ("series-channels-1e7", "for its weights", None, [*STG, "--channels", "10000000"]),
    ("augment-crop-1e5", "crop padding", "{tmp}/aug.png",
     [*AUG, "--spec", "crop(100000)", "--out", "{tmp}/aug.png"]),
    ("vision-augment-crop-1e5", "crop padding", "{tmp}/vt", [*VT, "--augment", "crop(100000)"]),
    # ... and from a checkpoint's meta.json
    ("meta-num-classes-1e13", "field 'num_classes' must be an integer", None,
     [*PRED, "{meta_vision_classes}", "{png}"]),
    ("meta-num-classes-float", "num_classes", None,
     [*PRED, "{meta_vision_classes_float}", "{png}"]),
    ("meta-n-ctx-1e12", "for its weights", None,
     ["text", "generate", "--checkpoint", "{meta_text_ctx}", "--prompt", "to"]),
    ("meta-channels-1e7", "for its weights", None,
     ["series", "forecast", "--checkpoint", "{meta_series_channels}"]),
    # deep nesting, huge integers, non-UTF-8, missing/mistyped fields, bad latest pointers
    ("meta-deep", "nested 200000 levels", None, [*PRED, "{meta_vision_deep}", "{png}"]),
    ("meta-latin1", "utf-8", None, [*PRED, "{meta_vision_latin1}", "{png}"]),
    ("meta-digits", "5000 digits", None, [*PRED, "{meta_vision_digits}", "{png}"]),
    ("meta-no-format", "format", None, [*PRED, "{meta_vision_no_format}", "{png}"]),
    ("meta-step-text", "step", None, [*PRED, "{meta_vision_step_text}", "{png}"]),
    ("latest-garbage", "latest", None, [*PRED, "{latest_garbage}", "{png}"]),
    ("latest-escape", "latest", None, [*PRED, "{latest_escape}", "{png}"]),
    ("config-deep", "nested 200000 levels", "{tmp}/vt", [*VT, "--config", "{deep_json}"]),
    ("config-digits", "5000 digits", "{tmp}/st", [*STG, "--config", "{digits_json}"]),
    ("flag-digits", "epochs", "{tmp}/vt", [*VT, "--epochs", "9" * 5000]),
    ("pattern-non-ascii", "'²'", "{tmp}/vt", [*VT, "--model", "CONV²@8"]),
    ("pattern-nested", "nested", "{tmp}/vt", [*VT, "--model", "(" * 300 + "RELU" + ")" * 300]),
    ("spec-nested", "nested", "{tmp}/aug.png",
     [*AUG, "--spec", "apply(" * 300 + "hflip" + ")" * 300, "--out", "{tmp}/aug.png"]),
    # decompression bombs and a 200 KB CSV field
    ("bomb-predict", "pixels", None, [*PRED, "{vision_run}", "{bomb_png}"]),
    ("bomb-show", "pixels", None, ["vision", "show", "--checkpoint", "{vision_run}",
                                   "--image", "{bomb_png}", "--out", "{tmp}/show"]),
    ("bomb-train", "pixels", "{tmp}/vt", [*VT[:2], "--data", "folder:{bombs}", *VT[4:]]),
    ("bomb-augment", "pixels", "{tmp}/aug.png",
     ["augment", "show", "--data", "folder:{bombs}", "--spec", "hflip", "--out", "{tmp}/aug.png"]),
    ("csv-200kb-field", "field larger", "{tmp}/st", [*ST, "--data", "csv:{wide_csv}"]),
]
# fmt: on
CASES = [pytest.param(argv, needle, out, id=i) for i, needle, out, argv in TABLE]


def _fill(value, files, kind=""):
    fields = {k: str(v) for k, v in files.items()}
    return value.format(kind=kind, **fields) if value else value


def _check(argv, needle, out, files, capsys, tmp_path, kind=""):
    files = {**files, "tmp": tmp_path}
    argv = [_fill(a, files, kind) for a in argv]
    out = _fill(out, files, kind)
    before = files["existing"].read_text(encoding="utf-8")
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, f"exit {code} for {argv}: {err}"
    assert "Traceback" not in err
    assert lines and lines[0].startswith("reti: error: "), err
    assert len(lines) == 1 or (len(lines) == 3 and "^" in lines[2]), err
    assert needle.lower() in lines[0].lower(), f"{needle!r} not in {lines[0]!r}"
    if out:
        from pathlib import Path

        assert not Path(out).exists(), f"half-written output left at {out}"
    assert files["existing"].read_text(encoding="utf-8") == before
    assert not (files["vision_run"] / "tokenizer.json").exists()
    for kind in ("text", "series", "vision"):  # a failed command never removes a checkpoint
        assert sorted((files[f"{kind}_truncated"] / "checkpoints").glob("step-*"))


@pytest.mark.parametrize(("argv", "needle", "out", "kind"), _checkpoint_cases())
def test_bad_checkpoint_is_one_line(argv, needle, out, kind, files, capsys, tmp_path):
    _check(argv, needle, out, files, capsys, tmp_path, kind)


@pytest.mark.parametrize(("argv", "needle", "out"), CASES)
def test_bad_input_is_one_line(argv, needle, out, files, capsys, tmp_path):
    _check(argv, needle, out, files, capsys, tmp_path)


VE = ["vision", "eval", "--checkpoint", "{vision_run}"]
VP = ["vision", "predict", "--checkpoint", "{vision_run}", "{png}"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
@pytest.mark.parametrize("argv", [VT, STG, TTG, GEN, VE, VP])
def test_cuda_without_cuda_is_one_line(argv, files, capsys, tmp_path):
    _check([*argv, "--device", "cuda"], "cuda", None, files, capsys, tmp_path)


def test_ctrl_c_during_text_train_keeps_a_loadable_checkpoint(files, tmp_path, monkeypatch, capsys):
    """KeyboardInterrupt at the 4th step: exit 130, and the step-3 checkpoint loads."""
    from reti.tasks import text as task
    from reti.train import latest_checkpoint

    calls = {"n": 0}
    real_loss = task.lm_loss

    def interrupted_loss(out, y):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real_loss(out, y)

    monkeypatch.setattr(task, "lm_loss", interrupted_loss)
    run = tmp_path / "run"
    argv = ["text", "train", "--data", str(files["corpus"]), *TEXT_SMALL, "--out", str(run)]
    argv += ["--max-steps", "10", "--checkpoint-every", "1", "--val-fraction", "0"]
    assert main(argv) == 130
    assert capsys.readouterr().err.strip() == "reti: interrupted"
    latest = latest_checkpoint(run)
    assert latest is not None and latest.name == "step-0000003"
    model, tok, _ = task.load_run(run)
    logits = model(torch.tensor([tok.encode("to be")]))
    assert logits.shape[-1] == tok.vocab_size and torch.isfinite(logits).all()
    assert not [p for p in run.rglob("*.tmp")]  # no half-written checkpoint left beside it


def test_help_names_the_defaults_a_pipeline_really_uses(capsys):
    """`reti text train` replaces TrainConfig's max_steps/lr; its --help must say so."""
    with pytest.raises(SystemExit) as stop:
        main(["text", "train", "--help"])
    assert stop.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--max-steps INT Stop after this many optimizer steps" in out
    assert "Default: 500." in out.split("--max-steps INT", 2)[2]
    assert "Default: 0.02." in out.split("--lr FLOAT", 2)[2]
    assert "Default: muon." in out.split("--optimizer", 2)[2]


@pytest.mark.parametrize(
    ("argv", "prefix", "needle"),
    [
        (["nope"], "reti: error: ", "invalid choice: 'nope'"),
        (["text", "generate", "--temperature", "x"], "reti text generate: error: ", "float"),
        (["series", "train", "--horizon"], "reti series train: error: ", "expected one argument"),
        (["claims", "run", "--seed", "s"], "reti claims run: error: ", "invalid int value"),
    ],
)
def test_usage_mistakes_are_one_line_too(argv, prefix, needle, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert stop.value.code == 2
    assert len(err) == 1 and err[0].startswith(prefix) and needle in err[0], err
    assert err[0].endswith(f"(see {prefix.split(':')[0]} --help)")
