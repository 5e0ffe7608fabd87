"""The exact claims: each runs (milliseconds) and holds, and the checks behind them catch the
failure they are there to catch."""

from __future__ import annotations

import pytest
import torch

from reti.claims import Budget, select
from reti.claims.attention import _order_change
from reti.claims.base import HOLDS
from reti.claims.residual import first_layer_gradient
from reti.layers import LearnedPosition, RelativeBias, TransformerBlock

EXACT = [
    "parameter counts", "FC grows quadratically", "filters make channels",
    "pooling works per map", "pooling halves 224 to 112", "max pooling has no parameters",
    "dropout masks", "F(x) = 0 is the identity", "BN per channel",
    "1D convolution shares parameters",
    "1D convolution and time shifts", "masking blocks the future",
    "BPE merges the most frequent pair", "attention ignores order", "sinusoidal embeddings",
    "temperature limits",
]  # fmt: skip


@pytest.mark.parametrize("name", EXACT)
def test_exact_claim_holds(name, tmp_path):
    (claim,) = select([name])
    finding = claim.run(Budget(quick=True), tmp_path)
    assert finding.verdict == HOLDS, finding.numbers
    assert finding.numbers and finding.rule and finding.experiment and not claim.effects


def test_quadratic_growth_numbers(tmp_path):
    (claim,) = select(["FC grows quadratically"])
    rows = claim.run(Budget(), tmp_path).numbers
    assert [r["FC weights (N hidden)"] for r in rows] == [n**4 for n in (8, 16, 32, 64, 128)]
    assert {r["conv 16 5x5"] for r in rows} == {16 * 25}


def test_permutation_check_sees_order_only_with_positions():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    block = TransformerBlock(32, 4).eval()
    learned, relative = LearnedPosition(16, 32), RelativeBias(4)
    x = torch.randn(2, 16, 32, generator=g)
    with torch.no_grad():
        assert _order_change(block, x, "none", g, learned, relative) < 1e-5
        assert _order_change(block, x, "sinusoidal", g, learned, relative) > 1e-3
        # a relative bias of all zeros (its init) adds nothing: order stays invisible
        assert _order_change(block, x, "relative", g, learned, relative) < 1e-5


def test_gradient_vanishes_in_the_plain_net_only():
    plain, residual = first_layer_gradient(16, False, 0), first_layer_gradient(16, True, 0)
    assert plain < -5 and residual > -1  # log10 of first/last gradient norm
