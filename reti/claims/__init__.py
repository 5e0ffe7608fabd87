"""reti.claims."""
