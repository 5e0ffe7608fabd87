"""Shared test settings: one torch thread per xdist worker (two workers share two cores); fixtures
several test files use (tiktoken's GPT-2 as the oracle, a PNG whose header lies about its size)."""

from __future__ import annotations

import os
import struct
import zlib

import pytest
import torch

if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _no_plot_windows(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")


@pytest.fixture
def one_thread():
    """Tiny tensors: one torch thread avoids waiting on the other busy core (much faster here).
    A test module opts in with ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def gpt2_oracle():
    """tiktoken's GPT-2 Encoding built from reti's local ``gpt2.tiktoken`` (OpenAI's pattern, no
    network beyond reti's fetcher). Tests using it are marked ``network``."""
    import tiktoken
    from tiktoken_ext.openai_public import r50k_pat_str

    from reti.data import fetch
    from reti.tokenize import GPT2_EOT, load_tiktoken_ranks

    return tiktoken.Encoding(
        "gpt2-local",
        pat_str=r50k_pat_str,
        mergeable_ranks=load_tiktoken_ranks(fetch("gpt2") / "gpt2.tiktoken"),
        special_tokens={"<|endoftext|>": GPT2_EOT},
    )


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (width + 1))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture(scope="session")
def png_header():
    """``png_header(width, height)``: a grey 8-bit PNG whose header claims width x height pixels,
    with one row of data (an image bomb, cheap to write)."""
    return _png_header
