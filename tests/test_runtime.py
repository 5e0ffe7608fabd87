"""reti.runtime.seeded: the one owner of the global generators (seeds them for a block, puts
them back after it, also when the block fails)."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from reti.errors import ConfigError
from reti.runtime import seeded


def draws() -> tuple:
    return random.random(), float(np.random.rand()), float(torch.rand(()))


def test_seeded_gives_the_seeds_draws_and_puts_the_callers_streams_back():
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    expected = draws()  # what the caller's streams give next
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    with seeded(5) as gen:
        inside = draws()
        assert torch.equal(torch.rand(3, generator=gen), torch.rand(3, generator=seeded_gen(5)))
    assert draws() == expected
    with seeded(5):
        assert draws() == inside  # the same seed, the same draws


def seeded_gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_seeded_puts_the_streams_back_after_an_error_and_refuses_a_bad_seed():
    torch.manual_seed(2)
    state = torch.get_rng_state()
    with pytest.raises(RuntimeError, match="inside"):
        with seeded(3):
            torch.rand(10)
            raise RuntimeError("inside")
    assert torch.equal(torch.get_rng_state(), state)
    with pytest.raises(ConfigError, match="seed must be a non-negative integer, got -1"):
        with seeded(-1):
            pass
    assert torch.equal(torch.get_rng_state(), state)
