"""The text pipeline end to end through `reti text ...`, and its bad input."""

from __future__ import annotations

import math
from collections import Counter

import pytest
import torch
import torch.nn.functional as F

from reti.cli.main import main
from reti.errors import CheckpointError, ConfigError, ParseError
from reti.generate import SamplingConfig
from reti.tasks import text as task
from reti.tokenize import BPETokenizer, CharTokenizer
from reti.tokenize.build import encode_text, parse_tokenizer
from reti.train import TrainConfig

LINES = [
    "ROMEO: But soft, what light through yonder window breaks?",
    "JULIET: O Romeo, Romeo, wherefore art thou Romeo?",
    "ROMEO: It is the east, and Juliet is the sun.",
    "JULIET: Deny thy father and refuse thy name.",
]
CORPUS = "\n".join(LINES * 12) + "\n"
SMALL = ["--n-layer", "1", "--n-head", "2", "--d-model", "32", "--n-ctx", "16", "--quiet"]


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "plays.txt"
    path.write_text(CORPUS, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run(corpus, tmp_path_factory):
    """A char-level ALiBi model trained through the CLI (shared by the tests below)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    run_dir = tmp_path_factory.mktemp("run") / "alibi"
    args = ["text", "train", "--data", str(corpus), "--tokenizer", "char", "--pos", "alibi"]
    args += SMALL + ["--max-steps", "80", "--epochs", "10", "--batch-size", "16"]
    code = main(args + ["--lr", "1e-2", "--val-fraction", "0.2", "--out", str(run_dir)])
    torch.set_num_threads(threads)
    assert code == 0
    return run_dir


def test_train_learns_below_the_unigram_entropy(run, capsys):
    model, tok, text_cfg = task.load_run(run)
    assert text_cfg["pos"] == "alibi" and (run / "tokenizer.json").is_file()
    counts = torch.tensor(list(Counter(CORPUS).values()), dtype=torch.float64)
    p = counts / counts.sum()
    unigram = -(p * p.log()).sum().item()
    val = CORPUS[-len(CORPUS) // 5 :]
    scores = task.evaluate_text(model, tok, val)
    assert scores["loss"] < 0.7 * unigram


def test_generate_eval_attention_commands(run, tmp_path, capsys):
    assert main(["text", "generate", "--checkpoint", str(run), "--prompt", "ROMEO:",
                 "--temperature", "0.8", "--top-p", "0.95", "--max-tokens", "30"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert out.startswith("ROMEO:") and len(out.strip()) > len("ROMEO:")
    cmd = ["text", "generate", "--checkpoint", str(run), "--prompt", "ROMEO:", "--greedy"]
    assert main(cmd + ["--top-k", "5", "--max-tokens", "10", "--stop", "\n", "--seed", "1"]) == 0
    assert "\n" not in capsys.readouterr().out.rstrip("\n")
    assert main(["text", "eval", "--checkpoint", str(run), "--context", "32"]) == 0
    assert "bits/byte" in capsys.readouterr().out
    folder = tmp_path / "pictures"
    cmd = ["text", "attention", "--checkpoint", str(run), "--prompt", "To be", "--out", str(folder)]
    assert main(cmd) == 0
    assert (folder / "attention.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_generation_is_seeded_and_cached_equals_uncached(run, capsys):
    base = ["text", "generate", "--checkpoint", str(run), "--prompt", "JULIET:", "--max-tokens",
            "40", "--seed", "7"]  # fmt: skip
    outs = []
    for extra in ([], [], ["--no-cache"]):
        assert main(base + extra) == 0
        outs.append(capsys.readouterr().out)
    assert outs[0] == outs[1] == outs[2]


def test_bits_per_byte_by_hand(corpus):
    torch.manual_seed(0)
    text = CORPUS[:400] + "é ü"  # two-byte characters: bytes != characters
    for tok in (CharTokenizer.train(text), BPETokenizer.train(text, 270)):
        cfg = task.TextConfig(n_layer=1, n_head=2, d_model=16, n_ctx=8, pos="sinusoidal")
        model = task.GPT(cfg.gpt_config(tok.vocab_size)).eval()
        scores = task.evaluate_text(model, tok, text)
        ids = encode_text(tok, text)
        n = (len(ids) - 1) // 8 * 8
        x, y = ids[:n].view(-1, 8), ids[1 : n + 1].view(-1, 8)
        with torch.no_grad():
            nats = F.cross_entropy(model(x).flatten(0, 1), y.flatten(), reduction="sum").item()
        nbytes = len(tok.decode_bytes(y.flatten().tolist()))
        assert scores["bits_per_byte"] == pytest.approx(nats / nbytes / math.log(2), rel=1e-5)
        assert scores["perplexity"] == pytest.approx(math.exp(nats / y.numel()), rel=1e-5)


def test_learned_positions_cannot_eval_past_n_ctx_but_alibi_can(tmp_path, corpus):
    cfg = task.TextConfig(data=str(corpus), n_layer=1, n_head=2, d_model=16, n_ctx=8,
                          out=str(tmp_path / "learned"),
                          train=TrainConfig(max_steps=2, batch_size=4, quiet=True))  # fmt: skip
    task.train(cfg)
    model, tok, _ = task.load_run(tmp_path / "learned")
    with pytest.raises(ConfigError, match="cannot extrapolate"):
        task.evaluate_text(model, tok, CORPUS, context=16)
    with pytest.raises(ConfigError, match="cannot extrapolate"):
        task.sample(model, tok, CORPUS[:40], SamplingConfig(max_tokens=2))


def test_tokenizer_vocab_mismatch_is_a_checkpoint_error(tmp_path, corpus, capsys):
    cfg = task.TextConfig(data=str(corpus), n_layer=1, n_head=2, d_model=16, n_ctx=8,
                          out=str(tmp_path / "r"),
                          train=TrainConfig(max_steps=1, batch_size=4, quiet=True))  # fmt: skip
    task.train(cfg)
    CharTokenizer.train("abc").save(tmp_path / "r" / "tokenizer.json")
    with pytest.raises(CheckpointError, match="vocab size"):
        task.load_run(tmp_path / "r")
    assert main(["text", "eval", "--checkpoint", str(tmp_path / "r")]) == 2
    assert "vocab size" in capsys.readouterr().err


def test_parse_tokenizer_specs():
    assert parse_tokenizer("bpe:512") == ("bpe", 512)
    assert parse_tokenizer("bpe") == ("bpe", 4096)
    assert parse_tokenizer("char") == ("char", None)
    with pytest.raises(ParseError) as err:
        parse_tokenizer("bpe:lots")
    assert err.value.position == 4
    with pytest.raises(ParseError, match="tokenizer must be one of"):
        parse_tokenizer("sentencepiece")


def test_stop_strings_and_unknown_special_tokens():
    tok = BPETokenizer.train(CORPUS, 260)
    assert task.stop_ids(tok, ["<|endoftext|>"]) == (tok.special_tokens["<|endoftext|>"],)
    with pytest.raises(ConfigError, match="unknown special token"):
        task.stop_ids(tok, ["<|end|>"])
    with pytest.raises(ConfigError, match="exactly one"):
        task.stop_ids(CharTokenizer.train(CORPUS), ["ROMEO"])


def _err(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[0].startswith("reti: error:")
    return err[0]


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--temperature", "0"], "greedy"),
        (["--temperature", "-0.5"], "temperature must be > 0"),
        (["--top-p", "1.5"], "top_p"),
        (["--top-p", "0"], "top_p"),
        (["--top-k", "0"], "top_k"),
        (["--stop", "<|nope|>"], "unknown special token"),
        (["--device", "tpu"], "device must be one of"),
    ],
)
def test_bad_generation_options_exit_2(run, capsys, extra, needle):
    cmd = ["text", "generate", "--checkpoint", str(run), "--prompt", "RO"] + extra
    assert main(cmd) == 2
    assert needle in _err(capsys)


def test_bad_training_input_exits_2(tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("caf\xe9 ".encode("latin-1") * 50)
    tiny = tmp_path / "tiny.txt"
    tiny.write_text("abc", encoding="utf-8")
    run_dir = str(tmp_path / "run")
    cases = [
        (["--data", str(tmp_path / "missing.txt")], "missing.txt"),
        (["--data", str(empty)], "empty"),
        (["--data", str(latin)], "byte offset"),
        (["--data", str(tiny)], "fewer than n_ctx"),
        (["--tokenizer", "bpe:abc"], "vocabulary size"),
        (["--pos", "rotary"], "pos must be one of"),
        (["--n-head", "3"], "divisible"),
        (["--lr", "fast"], "--lr"),
    ]
    for extra, needle in cases:
        code = main(["text", "train", *SMALL, "--out", run_dir, "--max-steps", "1", *extra])
        assert code == 2, extra
        assert needle in _err(capsys), extra


def test_corrupt_or_missing_checkpoint_exits_2(run, tmp_path, capsys):
    assert main(["text", "generate", "--checkpoint", str(tmp_path / "no"), "--prompt", "a"]) == 2
    assert "does not exist" in _err(capsys)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "tokenizer.json").write_bytes((run / "tokenizer.json").read_bytes())
    (broken / "meta.json").write_text("{not json", encoding="utf-8")
    assert main(["text", "eval", "--checkpoint", str(broken)]) == 2
    assert "meta.json: not valid JSON" in _err(capsys)


def test_empty_prompt_and_bad_context(run, capsys):
    assert main(["text", "generate", "--checkpoint", str(run), "--prompt", ""]) == 2
    assert "prompt" in _err(capsys)
    assert main(["text", "eval", "--checkpoint", str(run), "--context", "0"]) == 2
    assert "context" in _err(capsys)


@pytest.mark.network
def test_docs_commands_on_shakespeare(tmp_path, capsys):
    """The commands of docs/text.md, with small settings."""
    run_dir = str(tmp_path / "text")
    train = ["text", "train", "--data", "shakespeare", "--tokenizer", "char", "--pos", "alibi"]
    small = ["--n-layer", "1", "--n-head", "2", "--d-model", "32", "--batch-size", "4"]
    assert main(train + small + ["--max-steps", "3", "--val-windows", "4", "--out", run_dir]) == 0
    gen = ["text", "generate", "--checkpoint", run_dir, "--prompt", "ROMEO:", "--max-tokens", "20"]
    assert main(gen + ["--temperature", "0.8", "--top-p", "0.95"]) == 0
    assert main(gen + ["--greedy", "--stop", "."]) == 0
    assert main(["text", "eval", "--checkpoint", run_dir, "--context", "128",
                 "--max-windows", "4"]) == 0  # fmt: skip
    assert main(["text", "attention", "--checkpoint", run_dir, "--prompt", "To be"]) == 0
    assert (tmp_path / "text" / "attention.png").is_file()  # no --out: into the run folder
    assert "bits/byte" in capsys.readouterr().out


def test_resume_goes_on_from_the_latest_checkpoint(tmp_path, corpus):
    run_dir = tmp_path / "r"
    cmd = ["text", "train", "--data", str(corpus), *SMALL, "--max-steps", "4", "--batch-size", "4"]
    cmd += ["--checkpoint-every", "2", "--keep-last", "3", "--out", str(run_dir)]
    assert main(cmd) == 0
    tok_bytes = (run_dir / "tokenizer.json").read_bytes()
    ckpts = run_dir / "checkpoints"
    # an interruption after step 2: the last checkpoint is gone
    for folder in ckpts.glob("step-000000[34]"):
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()
    (ckpts / "latest").write_text("step-0000002\n", encoding="utf-8")
    assert main(cmd + ["--resume"]) == 0
    assert (ckpts / "latest").read_text(encoding="utf-8").strip() == "step-0000004"
    assert (run_dir / "tokenizer.json").read_bytes() == tok_bytes


def test_text_training_defaults_yield_to_flags_and_config_file(tmp_path):
    from reti.cli.args import pipeline_from_args
    from reti.cli.main import build_parser

    parser = build_parser()

    def train_config(*argv: str) -> TrainConfig:
        args = parser.parse_args(["text", "train", *argv])
        cfg = pipeline_from_args(
            task.TextConfig, args, section="text", train_defaults=task.TEXT_TRAIN_DEFAULTS
        )
        return cfg.train

    cfg = train_config()
    assert (cfg.max_steps, cfg.batch_size, cfg.schedule) == (500, 32, "cosine")
    assert task.TextConfig().train == cfg  # the API's default is the CLI's
    cfg = train_config("--max-steps", "7")
    assert cfg.max_steps == 7 and cfg.lr == 2e-2 and cfg.optimizer == "muon"
    config = tmp_path / "train.json"
    config.write_text('{"train_config": {"batch_size": 5, "lr": 0.1}}', encoding="utf-8")
    cfg = train_config("--config", str(config))
    assert (cfg.batch_size, cfg.lr, cfg.max_steps) == (5, 0.1, 500)
    config.write_text('{"batch_size": 6, "n_layer": 1}', encoding="utf-8")  # a flat file
    assert train_config("--config", str(config)).batch_size == 6
