"""Every claim of the notes reti checks, in the order of the notes."""

from __future__ import annotations

from reti.claims import foundations, normalization, sequences, text, tokens, vision
from reti.claims.base import Claim

CLAIMS: list[Claim] = [
    *foundations.CLAIMS[:3],  # parameter counts, dropout modes, dropout and overfitting
    vision.CLAIMS[0],  # depth: plain vs residual
    *normalization.CLAIMS,  # BN with tiny batches, BN inference statistics
    foundations.CLAIMS[3],  # standard scaling
    vision.CLAIMS[1],  # augmentation
    vision.CLAIMS[2],  # max pooling
    *sequences.CLAIMS,  # causal convolution, forecasting options A and B
    *text.CLAIMS,  # ALiBi extrapolates, temperature
    *tokens.CLAIMS,  # BPE vs char vs word
]


def number(claim: Claim) -> int | None:
    """The claim's number in ``reti claims list`` (1-based); None for a claim not listed."""
    return CLAIMS.index(claim) + 1 if claim in CLAIMS else None
