"""reti.tasks."""
