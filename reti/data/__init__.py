"""reti.data."""
