"""Claims 11-13: the verdict rules on synthetic numbers, the measures against hand-worked values,
and one tiny end-to-end run of each claim on real Shakespeare (network: the corpus is fetched)."""

from __future__ import annotations

import math

import pytest
import torch

from reti.claims import text, tokens
from reti.claims.base import FAILS, HOLDS, INCONCLUSIVE, VERDICTS, Budget
from reti.claims.text import (
    LMBudget,
    agreement,
    distinct_ngrams,
    extrapolation_verdict,
    monotonic_verdict,
    next_token_entropy,
)
from reti.claims.tokens import tokenizer_stats, tokens_verdict
from reti.models.gpt import GPT, GPTConfig
from reti.tokenize import BPETokenizer, CharTokenizer, WordTokenizer


def _losses(alibi, sinusoidal, learned=None):
    """{scheme: {context: [loss per seed]}} from (loss@64, loss@256) pairs of seed lists."""
    out = {
        "alibi": {64: alibi[0], 128: [], 256: alibi[1]},
        "sinusoidal": {64: sinusoidal[0], 128: [], 256: sinusoidal[1]},
    }
    out["learned"] = {64: [2.5], 128: [], 256: []} if learned is None else learned
    return out


def test_extrapolation_verdict_holds_fails_inconclusive():
    flat, rising = ([2.40, 2.41, 2.42], [2.41, 2.41, 2.40]), ([2.7, 2.75, 2.8], [3.0, 3.1, 3.1])
    verdict, rises, comps = extrapolation_verdict(_losses(flat, rising))
    assert verdict == HOLDS and rises["learned"] is None
    assert rises["sinusoidal"] == pytest.approx(3.0667 - 2.75, abs=1e-3)
    # sinusoidal's rises [0.3, 0.35, 0.3] minus ALiBi's [0.01, 0, -0.02]: paired by seed
    assert comps[0].a == pytest.approx([0.3, 0.35, 0.3]) and comps[0].interval.paired
    # ALiBi rising by 0.2 nats at 256: its loss is not flat, the claim fails
    verdict, _, _ = extrapolation_verdict(_losses(([2.4, 2.41, 2.42], [2.6, 2.61, 2.62]), rising))
    assert verdict == FAILS
    # sinusoidal rises no more than ALiBi (both flat): the claim fails
    assert extrapolation_verdict(_losses(flat, flat))[0] == FAILS
    # sinusoidal rises by 0.05, 0.45, 0.25: the interval reaches into the band, undecided
    noisy = ([2.6, 2.9, 2.7], [2.65, 3.35, 2.95])
    assert extrapolation_verdict(_losses(flat, noisy))[0] == INCONCLUSIVE
    # learned positions that could run and stay flat would contradict "learned fails"
    learned_flat = {64: [2.5, 2.5, 2.5], 128: [], 256: [2.5, 2.5, 2.5]}
    assert extrapolation_verdict(_losses(flat, rising, learned_flat))[0] == INCONCLUSIVE
    # ALiBi's loss falling past the training length still extrapolates (one-sided)
    falling = ([2.40, 2.41, 2.42], [2.30, 2.30, 2.31])
    assert extrapolation_verdict(_losses(falling, rising))[0] == HOLDS


def test_monotonic_verdict():
    up = [[0.0, 1.0, 2.0, 3.0], [0.0, 0.9, 2.1, 2.5]]
    assert monotonic_verdict({"entropy": up, "distinct": up}) == HOLDS
    one_seed_flat = [[0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 1.0, 3.0]]
    assert monotonic_verdict({"entropy": up, "distinct": one_seed_flat}) == INCONCLUSIVE
    falls = [[0.0, 1.0, 0.5, 3.0], [0.0, 1.0, 0.6, 3.0]]
    assert monotonic_verdict({"entropy": up, "distinct": falls}) == FAILS


def test_distinct_ngrams_and_agreement_by_hand():
    assert distinct_ngrams(["abab"], 2) == pytest.approx(2 / 3)  # ab, ba, ab
    assert distinct_ngrams(["aaaa", "aaaa"], 4) == 0.5
    assert distinct_ngrams(["abcd", "bcde"], 4) == 1.0
    assert distinct_ngrams(["ab"], 4) == 0.0
    assert agreement([1, 2, 3, 4], [1, 2, 0, 4]) == 0.75
    assert agreement([1, 2], [1, 2, 3]) == 1.0


def test_next_token_entropy_matches_the_formula_and_rises_with_temperature():
    torch.manual_seed(0)
    tok = CharTokenizer.train("abcdefgh " * 20)
    model = GPT(GPTConfig(vocab_size=tok.vocab_size, n_ctx=64, n_layer=1, n_head=2, d_model=16))
    with torch.no_grad():
        model.head.weight.mul_(50.0)  # tied weights: a peaked, far from uniform distribution
    sample = "abcdefgh " * 20
    ids = torch.tensor(tok.encode(sample))[:128].view(2, 64)  # 180 chars: two whole windows
    probs = torch.softmax(model(ids) / 0.7, -1)
    oracle = -(probs * probs.log()).sum(-1).mean().item()
    assert next_token_entropy(model, tok, sample, 0.7) == pytest.approx(oracle, rel=1e-4)
    values = [next_token_entropy(model, tok, sample, t) for t in (0.5, 1.0, 1.5, 100.0)]
    assert values == sorted(values) and values[0] < values[-1]
    assert values[-1] == pytest.approx(math.log(tok.vocab_size), rel=0.05)
    assert next_token_entropy(model, tok, sample, None) == 0.0  # greedy: one sure token


def test_tokenizer_stats_unknown_words_and_sequence_lengths():
    train, held = "the cat sat on the mat " * 30, "the dog sat on a mat"
    word = tokenizer_stats(WordTokenizer.train(train, min_frequency=2), held)
    char = tokenizer_stats(CharTokenizer.train(train), held)
    bpe = tokenizer_stats(BPETokenizer.train(train, 300), held)
    # pieces: "the", " dog", " sat", " on", " a", " mat": " dog" and " a" were never seen, and
    # "the" without a leading space only once (< min_frequency): the word-boundary problem
    assert word["unknown rate"] == pytest.approx(3 / 6) and not word["round trip"]
    assert char["tokens per byte"] == 1.0 and char["unknown rate"] == pytest.approx(2 / 20)  # d, g
    assert bpe["unknown rate"] == 0 and bpe["round trip"] and bpe["tokens per byte"] < 1.0
    stats = {"char": char, "word": word, "bpe:300": bpe}
    assert tokens_verdict(stats, "bpe:300") == HOLDS
    assert tokens_verdict({**stats, "word": {**word, "unknown rate": 0.0}}, "bpe:300") == FAILS


TINY = LMBudget(
    steps=30, n_layer=1, d_model=32, batch_size=8, lr=1e-2, train_chars=20_000,
    tokenizer_chars=20_000, eval_chars=1024, bpe_vocab=300,
)  # fmt: skip


class _OneSeed(Budget):
    @property
    def seeds(self) -> list[int]:
        return [0]

    def seeds_for(self, *effects) -> list[int]:
        return [0]


@pytest.mark.network
def test_text_claims_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setattr(text, "lm_budget", lambda budget: TINY)
    monkeypatch.setattr(tokens, "lm_budget", lambda budget: TINY)
    budget = _OneSeed(quick=True)
    alibi = text.alibi_run(budget, tmp_path)
    rows = {r["positions"]: r for r in alibi.numbers}
    assert rows["learned"]["loss @256"] == "cannot" and rows["learned"]["rise 64→256"] == "cannot"
    assert len(alibi.comparisons) == 2  # sinusoidal vs ALiBi rise, ALiBi flat
    vocab = text.tokenizer("char", TINY.tokenizer_chars).vocab_size
    assert float(rows["alibi"]["loss @64"]) < math.log(vocab) - 0.5  # learned: below uniform
    temp = text.temperature_run(budget, tmp_path)
    assert [r["sampling"] for r in temp.numbers] == ["greedy", "T=0.5", "T=1.0", "T=1.5"]
    assert temp.numbers[0]["agreement"] == "1"  # greedy: two samples are the same text
    pieces = tokens.tokenizer_run(budget, tmp_path)
    assert pieces.verdict == HOLDS  # deterministic facts, true at any size
    for finding in (alibi, temp, pieces):
        assert finding.verdict in VERDICTS and finding.numbers
        assert finding.figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.network
def test_docs_command_runs_the_sequence_and_text_claims(tmp_path, monkeypatch, capsys):
    """`reti claims run 21 23 27 29 --out DIR` (causal, tokenizers, ALiBi, temperature), tiny
    budgets."""
    from reti.claims import sequences
    from reti.claims.base import Budget as RunnerBudget
    from reti.cli.main import main

    monkeypatch.setattr(text, "lm_budget", lambda budget: TINY)
    monkeypatch.setattr(tokens, "lm_budget", lambda budget: TINY)
    monkeypatch.setattr(sequences, "QUICK_FORECAST", ("airline", 2))
    monkeypatch.setattr(RunnerBudget, "seeds", property(lambda self: [self.seed]))
    monkeypatch.setattr(RunnerBudget, "seeds_for", lambda self, *effects: [self.seed])
    out = tmp_path / "claims-seq"
    assert main(["claims", "run", "21", "23", "27", "29", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    for number, name in (
        (21, "causal convolution"), (23, "BPE vs char vs word"), (27, "ALiBi extrapolates"),
        (29, "temperature"),
    ):  # fmt: skip
        assert f"{number}. {name}" in printed  # numbered as `reti claims list` numbers them
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| TCN (3 blocks, sequence head): largest change at steps <= t | 0 |" in report
    assert "| learned | " in report and "| cannot | cannot | cannot |" in report
    for png in ("causal.png", "alibi.png", "temperature.png", "tokenizers.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"
    assert main(["claims", "run", "30", "--out", str(out)]) == 2  # there is no claim 30
    assert capsys.readouterr().err.startswith("reti: error: unknown claim '30'")
