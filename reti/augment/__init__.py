"""reti.augment."""
