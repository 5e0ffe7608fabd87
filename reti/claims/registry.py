"""Every claim of the notes reti checks, in the order of the notes (each cites its line)."""

from __future__ import annotations

from reti.claims import (
    attention,
    conv1d,
    dropout,
    foundations,
    normalization,
    pooling,
    residual,
    sequences,
    text,
    tokens,
    vision,
)
from reti.claims.base import Claim

CLAIMS: list[Claim] = [
    *foundations.CLAIMS,  # 38 parameter counts, 87 quadratic growth, 154 filters -> channels
    *pooling.CLAIMS,  # 231 per map, 237 224 -> 112, 245 no parameters, 248 translation
    *dropout.CLAIMS,  # 277 overfitting, 283 masks, 307 standard vs inverted
    *residual.CLAIMS,  # 354 identity, 357 gradients, 369 depth
    *normalization.CLAIMS,  # 398 scaling, 439 BN inference, 448 BN per channel, 457 tiny batches
    *vision.CLAIMS,  # 494 augmentation
    *conv1d.CLAIMS,  # 592 parameter sharing, 595 time shifts
    *sequences.CLAIMS,  # 616 causal convolution
    *attention.CLAIMS_MASK,  # 718 masking
    *tokens.CLAIMS,  # 762 BPE vs char vs word, 780 BPE merges
    *attention.CLAIMS_POSITION,  # 800 order, 809 sinusoidal
    *text.CLAIMS,  # 824 ALiBi, 848 temperature limits, 851 temperature
]


def number(claim: Claim) -> int | None:
    """The claim's number in ``reti claims list`` (1-based); None for a claim not listed."""
    return CLAIMS.index(claim) + 1 if claim in CLAIMS else None
