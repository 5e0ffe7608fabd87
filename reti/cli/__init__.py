"""reti's command-line interface."""
