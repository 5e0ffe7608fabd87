"""reti.layers."""
