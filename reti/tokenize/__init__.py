"""reti.tokenize."""
