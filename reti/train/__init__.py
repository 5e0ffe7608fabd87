"""reti.train."""
