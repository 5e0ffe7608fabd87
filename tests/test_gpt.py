"""GPT: shapes, loss, options, FLOPs, learning on a small corpus."""

from __future__ import annotations

import math
from collections import Counter

import pytest
import torch
import torch.nn.functional as F

from reti.errors import ConfigError, ShapeError
from reti.layers.position import POSITIONS
from reti.models.gpt import GPT, GPTConfig

pytestmark = pytest.mark.usefixtures("one_thread")


CORPUS = (
    "to be or not to be that is the question whether tis nobler in the mind to suffer "
    "the slings and arrows of outrageous fortune or to take arms against a sea of troubles "
)


@pytest.mark.parametrize("pos", POSITIONS)
def test_logits_shape_and_loss(pos):
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=20, n_ctx=8, n_layer=2, n_head=2, d_model=16, pos=pos))
    idx = torch.randint(0, 20, (3, 8))
    logits = model(idx)
    assert logits.shape == (3, 8, 20)
    logits2, loss = model(idx, targets=idx)
    expected = F.cross_entropy(logits2.reshape(-1, 20), idx.reshape(-1))
    assert torch.allclose(loss, expected)
    # at init the prediction is near uniform: loss close to ln V
    assert abs(loss.item() - math.log(20)) < 0.3


def test_weight_tying_and_parameter_count():
    tied = GPT(GPTConfig(vocab_size=50, d_model=16, n_head=2, n_layer=1, tie_weights=True))
    untied = GPT(GPTConfig(vocab_size=50, d_model=16, n_head=2, n_layer=1, tie_weights=False))
    assert tied.head.weight is tied.wte.weight
    total_tied = sum(p.numel() for p in tied.parameters())
    total_untied = sum(p.numel() for p in untied.parameters())
    assert total_untied - total_tied == 50 * 16
    # non-embedding: the learned position table (n_ctx x C) is not counted
    assert tied.num_params() == total_tied - 64 * 16


def test_flops_per_sample_by_hand():
    cfg = GPTConfig(vocab_size=10, n_ctx=4, n_layer=1, n_head=1, d_model=2, mlp_ratio=1)
    model = GPT(cfg)
    # Linear weights: qkv 2*6, proj 2*2, fc 2*2, out 2*2, head 2*10 = 44
    per_token = 6 * 44 + 12 * 1 * 2 * 4
    assert model.flops_per_sample() == per_token * 4


def test_alibi_and_relative_have_no_input_positions():
    assert GPT(GPTConfig(pos="alibi")).wpe is None
    assert GPT(GPTConfig(pos="relative")).wpe is None
    assert GPT(GPTConfig(pos="sinusoidal")).attn_bias is None


def test_dropout_modes_are_reti_dropout():
    model = GPT(GPTConfig(dropout=0.2, dropout_mode="standard", n_layer=1))
    modes = {m.mode for m in model.modules() if type(m).__name__ == "Dropout"}
    assert modes == {"standard"}
    model.eval()
    idx = torch.randint(0, 65, (1, 5))
    assert torch.equal(model(idx), model(idx))  # no randomness at inference


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"d_model": 10, "n_head": 3}, "divisible"),
        ({"pos": "rope"}, "pos must be one of"),
        ({"n_layer": 0}, "n_layer"),
        ({"dropout": 1.0}, "dropout"),
        ({"dropout_mode": "scaled"}, "dropout_mode"),
        ({"vocab_size": 2.5}, "vocab_size"),
    ],
)
def test_bad_config_is_a_clear_error(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        GPTConfig(**kwargs)


def test_bad_input_shape():
    with pytest.raises(ShapeError, match=r"\(B, T\)"):
        GPT(GPTConfig(n_layer=1))(torch.zeros(5, dtype=torch.long))


def test_learned_positions_past_n_ctx_raise():
    model = GPT(GPTConfig(n_ctx=4, n_layer=1))
    with pytest.raises(ConfigError, match="cannot extrapolate"):
        model(torch.zeros(1, 5, dtype=torch.long))


@pytest.mark.parametrize("pos", ["learned", "alibi"])
def test_learns_below_the_unigram_entropy(pos):
    chars = sorted(set(CORPUS))
    ids = torch.tensor([chars.index(c) for c in CORPUS * 4])
    counts = torch.tensor(list(Counter(CORPUS).values()), dtype=torch.float64)
    unigram = -(counts / counts.sum() * (counts / counts.sum()).log()).sum().item()  # nats
    torch.manual_seed(0)
    model = GPT(
        GPTConfig(vocab_size=len(chars), n_ctx=16, n_layer=1, n_head=2, d_model=32, pos=pos)
    )
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(0)
    for _ in range(120):
        start = torch.randint(0, len(ids) - 17, (16,), generator=gen)
        x = torch.stack([ids[s : s + 16] for s in start])
        y = torch.stack([ids[s + 1 : s + 17] for s in start])
        _, loss = model(x, targets=y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.6 * unigram
