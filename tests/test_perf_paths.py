"""The performance pass's behaviour-preserving changes: lazy index batches, the optimizer, and
bf16 autocast on the CPU (the fast training setting: within bf16 tolerance of fp32)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest
import torch
from torch.utils.data import TensorDataset

from reti.train.ddp import Dist, IndexBatches, Source, shard
from reti.train.optim import build_optimizer

ALONE = Dist(0, 0, 1, torch.device("cpu"))


def test_lazy_batches_match_an_eager_split():
    order = torch.randperm(103, generator=torch.Generator().manual_seed(0))
    lazy = shard(order, 10, ALONE)
    eager = list(order.split(10))
    assert len(lazy) == len(eager) == 11
    assert all(torch.equal(a, b) for a, b in zip(lazy, eager, strict=True))
    assert torch.equal(lazy[-1], eager[-1]) and len(lazy[-1]) == 3
    tail = lazy[9:]
    assert isinstance(tail, IndexBatches) and [len(b) for b in tail] == [10, 3]
    assert tail.sizes() == 13 and lazy[2:5].sizes() == 30


def test_sharding_a_huge_epoch_cuts_nothing_up_front():
    order = torch.arange(5_000_000)
    batches = shard(order, 12, Dist(1, 1, 2, torch.device("cpu")))
    assert len(batches) == 5_000_000 // 24
    assert batches[0].tolist() == list(range(12, 24))
    assert batches[-1][-1].item() == (5_000_000 // 24) * 24 - 1


class CountingBatches(IndexBatches):
    """Index batches that count how many were handed out."""

    handed = 0

    def __iter__(self):
        for batch in super().__iter__():
            self.handed += 1
            yield batch


def test_a_dataset_source_reads_index_batches_as_it_goes():
    n = 10_000
    data = TensorDataset(torch.arange(n, dtype=torch.float32), torch.arange(n))
    order = torch.randperm(n, generator=torch.Generator().manual_seed(1))
    batches = CountingBatches(order, range(0, n, 10), 10)
    stream = Source(data, "train").batches(batches, torch.device("cpu"))
    x, y = next(stream)
    assert torch.equal(y, order[:10]) and torch.equal(x, order[:10].float())
    assert batches.handed <= 2  # an eager list of all 1000 batches would have read them all
    assert sum(len(y) for _, y in stream) == n - 10


def test_adamw_is_fused_on_the_cpu_and_matches_the_reference_update():
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 3)
    ref = torch.nn.Linear(4, 3)
    ref.load_state_dict(model.state_dict())
    opt = build_optimizer(model, "adamw", 0.1, weight_decay=0.0)
    assert opt.defaults["fused"] is True
    plain = torch.optim.AdamW(ref.parameters(), lr=0.1, weight_decay=0.0, foreach=False)
    x = torch.randn(8, 4)
    for net, o in ((model, opt), (ref, plain)):
        for _ in range(3):
            net(x).pow(2).mean().backward()
            o.step()
            o.zero_grad()
    assert torch.allclose(model.weight, ref.weight, atol=1e-6)
    assert torch.allclose(model.bias, ref.bias, atol=1e-6)


_CHURN = """
import resource, sys, torch
torch.set_num_threads(1)
from reti.runtime import keep_freed_memory
tuned = keep_freed_memory() if sys.argv[1] == "tune" else None
again = keep_freed_memory() if tuned else None
def step():  # a training step's pattern: buffers of several sizes live together, then are freed
    xs = [torch.ones(n << 18) for n in (1, 2, 4, 8, 16, 8, 4, 2, 1) for _ in range(2)]
    del xs
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(tuned, again, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
"""


def _churn(mode: str, **env: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", _CHURN, mode],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    return out.stdout.split()


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="the allocator setting is for Linux/glibc",
)
def test_keeping_freed_memory_stops_the_page_faults_of_reallocating_buffers():
    plain_faults = float(_churn("plain")[2])
    tuned, again, tuned_faults = _churn("tune")
    assert (tuned, again) == ("True", "False")  # changes the settings once per process
    # glibc gives (some of) the freed 92 MiB back and faults it in again: 2,380-20,349 faults
    # a step over 26 runs here, against 51-307 with the setting
    assert plain_faults > 1000, plain_faults
    assert float(tuned_faults) * 5 < plain_faults, (tuned_faults, plain_faults)
    # a user who set glibc's malloc variables chose the settings: reti leaves them alone
    assert _churn("tune", MALLOC_ARENA_MAX="2")[0] == "False"


def test_fit_keeps_freed_memory_on_the_cpu_unless_told_not_to(monkeypatch):
    import reti.train.loop as loop
    from reti.train import TrainConfig, fit

    calls = []
    monkeypatch.setattr(loop, "keep_freed_memory", lambda: calls.append(1) or True)
    x, y = torch.randn(32, 4), torch.randint(0, 2, (32,))
    for keep in (True, False):
        cfg = TrainConfig(batch_size=16, device="cpu", quiet=True, keep_cpu_memory=keep)
        fit(torch.nn.Linear(4, 2), (x, y), cfg, loss_fn=torch.nn.functional.cross_entropy)
    assert calls == [1]


# ------------------------------------------------------------------ bf16 autocast on the CPU
def _tiny_gpt():
    from reti.models.gpt import GPT, GPTConfig

    torch.manual_seed(0)
    return GPT(GPTConfig(vocab_size=11, n_ctx=16, n_layer=2, n_head=2, d_model=32, bias=False))


@pytest.mark.usefixtures("one_thread")
def test_bf16_autocast_gpt_stays_within_bf16_tolerance_of_fp32():
    model = _tiny_gpt().eval()
    idx = torch.randint(0, 11, (3, 16), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        full = model(idx)
        with torch.autocast("cpu", torch.bfloat16):
            half = model(idx)
    assert half.dtype == torch.bfloat16  # the autocast path really ran in bf16
    diff = (half.float() - full).abs().max().item()
    # bf16 keeps 8 bits of mantissa: relative error ~ 2^-8 per product, a few of them summed
    assert 0.0 < diff < 0.05 * full.abs().max().item()
    assert (half.float().argmax(-1) == full.argmax(-1)).float().mean() > 0.9


@pytest.mark.usefixtures("one_thread")
def test_bf16_autocast_trains_the_gpt_like_fp32():
    """30 AdamW steps on a periodic sequence: both precisions learn it, to nearly the same loss."""
    seq = torch.arange(17) % 5  # 0 1 2 3 4 0 1 ...: a pattern a 2-layer model learns at once
    x, y = seq[:-1][None].repeat(4, 1), seq[1:][None].repeat(4, 1)
    losses = {}
    for bf16 in (False, True):
        model = _tiny_gpt()
        opt = build_optimizer(model, "adamw", 3e-3)
        for _ in range(30):
            with torch.autocast("cpu", torch.bfloat16, enabled=bf16):
                _, loss = model(x, y)
            loss.backward()
            opt.step()
            opt.zero_grad()
        losses[bf16] = loss.item()
    assert losses[False] < 1.0 and losses[True] < 1.0  # ln(11) = 2.4 at the start
    assert abs(losses[True] - losses[False]) < 0.1


@pytest.mark.usefixtures("one_thread")
def test_bf16_autocast_tcn_stays_within_bf16_tolerance_of_fp32():
    from reti.layers.causal import TemporalConvNet

    torch.manual_seed(0)
    net = TemporalConvNet(2, [8, 8], kernel_size=3).eval()
    x = torch.randn(2, 2, 40)
    with torch.no_grad():
        full = net(x)
        with torch.autocast("cpu", torch.bfloat16):
            half = net(x)
    diff = (half.float() - full).abs().max().item()
    assert 0.0 < diff < 0.05 * full.abs().max().item()
