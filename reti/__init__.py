"""reti: the deep-learning course notes as a fast, tested PyTorch toolkit."""

from reti.errors import (
    CheckpointError,
    ConfigError,
    DataError,
    DataNotFoundError,
    IntegrityError,
    ParseError,
    RetiError,
    ShapeError,
    TrainingError,
)

__version__ = "0.1.0"

__all__ = [
    "CheckpointError",
    "ConfigError",
    "DataError",
    "DataNotFoundError",
    "IntegrityError",
    "ParseError",
    "RetiError",
    "ShapeError",
    "TrainingError",
    "__version__",
]
