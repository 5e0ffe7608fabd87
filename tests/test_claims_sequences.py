"""Claim 10: the future-perturbation check itself, the verdict, and a tiny end-to-end run."""

from __future__ import annotations

import pytest
import torch

from reti.claims import sequences
from reti.claims.base import VERDICTS, Budget
from reti.claims.sequences import causality_check, fewer_threads, future_change


def test_future_change_is_zero_up_to_t_for_a_causal_function():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 10, 3, generator=g)
    change = future_change(lambda s: s.cumsum(1), x, 4, g)  # running sum: causal by hand
    assert change.shape == (10,)
    assert torch.equal(change[:5], torch.zeros(5)) and (change[5:] > 0).all()


def test_future_change_finds_a_one_step_leak():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 10, 3, generator=g)
    peek = lambda s: s + s.roll(-1, dims=1)  # noqa: E731 - output at i reads x_(i+1)
    change = future_change(peek, x, 4, g)
    assert change[:4].max() == 0 and change[4] > 0  # step t itself moved: it saw t+1


def test_causal_layers_never_move_and_the_centered_control_does():
    results = causality_check([0, 1], length=20)
    assert set(results) == {
        "CausalConv1d (k=3, d=2)",
        "TCN (3 blocks, sequence head)",
        "causal transformer (ALiBi, 2 blocks)",
        "centered Conv1d (k=3, pad=1)",
    }
    assert results["CausalConv1d (k=3, d=2)"]["past_change"] == 0.0
    assert results["TCN (3 blocks, sequence head)"]["past_change"] == 0.0
    assert results["causal transformer (ALiBi, 2 blocks)"]["past_change"] == 0.0
    assert results["centered Conv1d (k=3, pad=1)"]["past_change"] > 0.1
    profile = results["centered Conv1d (k=3, pad=1)"]["profile"]
    t = 10
    assert profile[t] > 0 and profile[:t].max() == 0  # pad=1 sees exactly one step ahead


def test_fewer_threads_restores_the_setting():
    before = torch.get_num_threads()
    with fewer_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


class _TinyBudget(Budget):
    def seeds_for(self, *effects) -> list[int]:
        return [0, 1]


@pytest.mark.network
def test_causal_claim_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setattr(sequences, "QUICK_FORECAST", ("airline", 3))
    finding = sequences.causal_run(_TinyBudget(quick=True), tmp_path)
    assert finding.verdict in VERDICTS
    assert finding.figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = {r["check"]: r["value"] for r in finding.numbers}
    assert rows["TCN (3 blocks, sequence head): largest change at steps <= t"] == "0"
    assert rows["CausalConv1d (k=3, d=2): largest change at steps <= t"] == "0"
    assert rows["causal transformer (ALiBi, 2 blocks): largest change at steps <= t"] == "0"
    assert "test MASE, naive" in rows and "test MASE, option B (shifted targets)" in rows
    assert "test MASE, option A (pool + regressor)" in rows
    assert float(rows["MASE option A - option B (reported, not judged)"]) == pytest.approx(
        float(rows["test MASE, option A (pool + regressor)"].split()[0])
        - float(rows["test MASE, option B (shifted targets)"].split()[0]),
        abs=2e-3,
    )
    assert [c.effect for c in finding.comparisons] == [sequences.FORECAST]
    assert "airline" in finding.experiment and "3 epochs" in finding.experiment


def test_causal_verdict_rule(monkeypatch, tmp_path):
    """The verdict follows the rule: exact causality plus option B beating naive by more than
    0.1 MASE (paired t interval over the two seeds, t(1) = 12.706)."""
    leak = {"past_change": 0.0, "profile": torch.zeros(48)}
    control = {"past_change": 2.0, "profile": torch.ones(48)}
    checks = {"a": leak, "b": leak, "centered Conv1d (k=3, pad=1)": control}
    monkeypatch.setattr(sequences, "causality_check", lambda seeds, length: checks)
    good = {sequences.OPTION_A: [0.9, 0.95], sequences.OPTION_B: [0.8, 0.85], "naive": [2.0, 2.0]}
    monkeypatch.setattr(sequences, "forecast_options", lambda b, d, e: good)
    assert sequences.causal_run(_TinyBudget(), tmp_path).verdict == "holds"
    # naive - B = [-0.5, -0.52]: mean -0.51, se 0.01, interval [-0.637, -0.383] < -0.1
    bad = {**good, sequences.OPTION_B: [2.5, 2.52]}
    monkeypatch.setattr(sequences, "forecast_options", lambda b, d, e: bad)
    assert sequences.causal_run(_TinyBudget(), tmp_path).verdict == "does not hold here"
    # naive - B = [-0.5, -0.6]: interval [-1.185, +0.085] reaches into the band: undecided
    unsure = {**good, sequences.OPTION_B: [2.5, 2.6]}
    monkeypatch.setattr(sequences, "forecast_options", lambda b, d, e: unsure)
    assert sequences.causal_run(_TinyBudget(), tmp_path).verdict == "inconclusive"
    checks["a"] = {"past_change": 1e-7, "profile": torch.zeros(48)}
    monkeypatch.setattr(sequences, "forecast_options", lambda b, d, e: good)
    assert sequences.causal_run(_TinyBudget(), tmp_path).verdict == "does not hold here"
