"""The CLI's manners: every flag has a sentence of help, every command that computes takes
``--device`` (default auto), and every command runs with no optional flags."""

from __future__ import annotations

import argparse

import pytest

from reti.cli.main import build_parser

MINE = ("data", "params", "vision", "augment", "series", "text", "claims", "demo", "lab")


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(path, parser) of every leaf command under ``parser``."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
    for sub in subs:
        for name, child in sub.choices.items():
            yield from _commands(child, (*path, name))


def leaves() -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    return [(p, c) for p, c in _commands(build_parser()) if p and p[0] in MINE]


def test_every_flag_has_a_sentence_of_help():
    bad = []
    for path, parser in leaves():
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            text = (action.help or "").strip()
            name = action.dest.replace("_", " ")
            if (
                not text
                or text.lower().rstrip(".") in (name, action.dest)
                or not text.endswith(".")
            ):
                bad.append(
                    f"reti {' '.join(path)} {action.option_strings or action.dest}: {text!r}"
                )
    assert not bad, "flags without a sentence of help:\n" + "\n".join(bad)


COMPUTING = {  # commands that run a model
    ("vision", "train"), ("vision", "eval"), ("vision", "predict"), ("vision", "show"),
    ("series", "train"), ("series", "forecast"), ("series", "classify"), ("series", "anomalies"),
    ("series", "filter"),
    ("text", "train"), ("text", "generate"), ("text", "eval"), ("text", "attention"),
    ("augment", "show"), ("claims", "run"), ("demo",),
}  # fmt: skip


def test_every_computing_command_takes_device_auto():
    found = {}
    for path, parser in leaves():
        if path in COMPUTING:
            device = next((a for a in parser._actions if "--device" in a.option_strings), None)
            assert device is not None, path
            found[path] = parser.parse_args([]) if not _required(parser) else None
    assert set(found) == COMPUTING
    for path in COMPUTING:
        args = build_parser().parse_args([*path, *_required_values(path)])
        device = getattr(args, "device", "auto")  # train commands: TrainConfig's default, auto
        assert device == "auto", path


def _required(parser: argparse.ArgumentParser) -> bool:
    return any(a.required for a in parser._actions)


def _required_values(path: tuple[str, ...]) -> list[str]:
    values = {"--checkpoint": ["--checkpoint", "RUN"], "--prompt": ["--prompt", "To"],
              "--spec": ["--spec", "flip"]}  # fmt: skip
    parser = dict(leaves())[path]
    out = []
    for action in parser._actions:
        if action.required and action.option_strings:
            out += values[action.option_strings[0]]
        elif action.required:
            out.append("x.png")
    return out


@pytest.mark.parametrize("path", [("vision", "train"), ("series", "train"), ("text", "train")])
def test_train_commands_resume_and_overwrite(path):
    args = build_parser().parse_args([*path, "--resume", "--overwrite"])
    assert args.resume is True and args.overwrite is True
    args = build_parser().parse_args(list(path))
    assert args.resume is False and args.overwrite is False


def _pipeline(path: tuple[str, ...], *argv: str):
    from reti.cli.args import pipeline_from_args
    from reti.tasks import series, text, vision

    kind = {"vision": vision.VisionConfig, "series": series.SeriesConfig, "text": text.TextConfig}
    args = build_parser().parse_args([*path, *argv])
    extra = {"task": args.shortcut} if getattr(args, "shortcut", None) else {}
    defaults = {
        "text": text.TEXT_TRAIN_DEFAULTS,
        "vision": vision.VISION_TRAIN_DEFAULTS,
        "series": series.SERIES_TRAIN_DEFAULTS[extra.get("task", "forecast")],
    }[path[0]]
    return pipeline_from_args(
        kind[path[0]], args, section=path[0], train_defaults=defaults, extra=extra
    )


def test_no_flag_defaults_of_the_train_commands():
    assert (_pipeline(("vision", "train")).data, _pipeline(("vision", "train")).model) == (
        "mnist",
        "fastcnn",
    )
    forecast = _pipeline(("series", "train"))
    assert (forecast.task, forecast.data, forecast.missing) == ("forecast", "co2", "interpolate")
    assert _pipeline(("series", "classify")).data == "GunPoint"
    assert _pipeline(("series", "anomalies")).data == "kdd-tsad-135"
    assert _pipeline(("series", "filter")).data == "airline"
    gpt = _pipeline(("text", "train"))
    assert (gpt.data, gpt.tokenizer, gpt.train.max_steps) == ("shakespeare", "char", 500)
    # the shortcuts have no --task flag to contradict them
    with pytest.raises(SystemExit):
        build_parser().parse_args(["series", "classify", "--task", "forecast"])


@pytest.mark.network
@pytest.mark.parametrize(
    "argv, run_dir",
    [
        (["series", "train"], "runs/series/co2-forecast"),  # co2's gaps: interpolated
        (["series", "classify"], "runs/series/GunPoint-classify"),
        (["series", "filter"], "runs/series/airline-filter"),
        (["vision", "train", "--data", "digits"], "runs/vision/fastcnn"),  # mnist's test: slow
        (["text", "train", "--max-chars", "5000"], "runs/text"),
    ],
)
def test_train_commands_run_with_only_a_smaller_budget(argv, run_dir, tmp_path, monkeypatch):
    """What a no-flag run would do, cut to two steps: default data, model and run folder
    (vision on digits and text on 5000 characters: the defaults' evaluation takes minutes)."""
    from reti.cli.main import main

    monkeypatch.chdir(tmp_path)
    assert main([*argv, "--max-steps", "2", "--quiet"]) == 0
    assert (tmp_path / run_dir / "config.json").is_file()
