"""reti.models."""
