"""reti claims: each statement of the notes re-run as an experiment with a figure and a verdict."""

from reti.claims.base import Budget, Claim, Finding
from reti.claims.registry import CLAIMS
from reti.claims.runner import run_claims, select

__all__ = ["CLAIMS", "Budget", "Claim", "Finding", "run_claims", "select"]
