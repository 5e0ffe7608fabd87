"""Fast attention (SDPA) against the plain masked-softmax formula, for every position scheme."""

from __future__ import annotations

import math

import pytest
import torch

from reti import reference
from reti.errors import ConfigError, ShapeError
from reti.layers.attention import CausalSelfAttention, KVCache, causal_bias
from reti.layers.position import POSITIONS
from reti.models.gpt import GPT, GPTConfig

pytestmark = pytest.mark.usefixtures("one_thread")


def _reference_bias(model: GPT, pos: str, n: int) -> torch.Tensor | None:
    """The score bias of a scheme from the reference formulas (alibi) or the model's table."""
    if pos == "alibi":
        return reference.alibi_bias(model.config.n_head, n)
    if pos == "relative":
        steps = torch.arange(n)
        return model.attn_bias(steps, steps).detach().double()
    return None


def _reference_input(model: GPT, pos: str, idx: torch.Tensor) -> torch.Tensor:
    """Token embedding plus input positions, with the sinusoidal table from the notes' formula."""
    x = model.wte.weight[idx]
    n, width = idx.shape[1], model.config.d_model
    if pos == "learned":
        x = x + model.wpe.table.weight[:n]
    if pos == "sinusoidal":  # token vectors scaled by sqrt(C) as in Vaswani et al.
        x = x * math.sqrt(width) + reference.sinusoidal_positions(n, width)
    return x


@pytest.mark.parametrize("pos", POSITIONS)
@pytest.mark.parametrize("seed", [0, 1])
def test_first_block_attention_equals_reference(pos, seed):
    gen = torch.Generator().manual_seed(seed)
    n_head = int(torch.randint(1, 4, (1,), generator=gen)) + (1 if pos == "alibi" else 0)
    width = n_head * int(torch.randint(2, 6, (1,), generator=gen))
    n = int(torch.randint(1, 12, (1,), generator=gen))
    torch.manual_seed(seed)
    cfg = GPTConfig(vocab_size=11, n_ctx=16, n_layer=1, n_head=n_head, d_model=width, pos=pos)
    model = GPT(cfg).double()
    if pos == "relative":  # zero at init: make the bias matter
        torch.nn.init.normal_(model.attn_bias.weight, 0.0, 1.0)
    idx = torch.randint(0, 11, (2, n), generator=gen)

    x_fast, bias = model._embed(idx, 0)
    x_fast = x_fast.detach().requires_grad_(True)
    attn = model.blocks[0].attn
    fast = attn(x_fast, bias)

    x_ref = _reference_input(model, pos, idx).detach()
    assert torch.allclose(x_ref, x_fast, atol=1e-12)
    x_ref.requires_grad_(True)
    ref_bias = _reference_bias(model, pos, n)
    ref = torch.stack(
        [
            reference.multi_head_attention(
                x_ref[b],
                attn.qkv.weight,
                attn.qkv.bias,
                attn.proj.weight,
                attn.proj.bias,
                n_head,
                ref_bias,
            )
            for b in range(2)
        ]
    )
    assert torch.allclose(fast, ref, atol=1e-10)

    upstream = torch.randn(fast.shape, generator=gen, dtype=torch.float64)
    g_fast = torch.autograd.grad((fast * upstream).sum(), [x_fast, attn.qkv.weight])
    g_ref = torch.autograd.grad((ref * upstream).sum(), [x_ref, attn.qkv.weight])
    for a, b in zip(g_fast, g_ref):
        assert torch.allclose(a, b, atol=1e-10)


@pytest.mark.parametrize("pos", POSITIONS)
def test_future_tokens_do_not_change_past_logits(pos):
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=13, n_ctx=12, n_layer=2, n_head=2, d_model=16, pos=pos))
    if pos == "relative":
        torch.nn.init.normal_(model.attn_bias.weight)
    idx = torch.randint(0, 13, (3, 12))
    changed = idx.clone()
    changed[:, 7:] = (changed[:, 7:] + 5) % 13
    with torch.no_grad():
        a, b = model(idx), model(changed)
    assert torch.allclose(a[:, :7], b[:, :7], atol=1e-6)
    assert not torch.allclose(a[:, 7:], b[:, 7:], atol=1e-3)  # the check can fail


def test_masked_attention_by_hand():
    # two positions, one dimension: q = k = [1, 2], v = [10, 20]
    q = torch.tensor([[1.0], [2.0]])
    v = torch.tensor([[10.0], [20.0]])
    out, weights = reference.masked_attention(q, q, v)
    assert weights[0].tolist() == [1.0, 0.0]  # position 0 sees only itself
    w = math.exp(2.0) / (math.exp(2.0) + math.exp(4.0))  # scores 2*1, 2*2
    assert weights[1].tolist() == pytest.approx([w, 1 - w])
    assert out[1, 0].item() == pytest.approx(10 * w + 20 * (1 - w))


def test_causal_bias_aligns_queries_to_the_end():
    bias = causal_bias(2, 4)
    assert torch.isinf(bias).tolist() == [[False, False, False, True], [False] * 4]


def test_cached_steps_equal_one_full_pass():
    torch.manual_seed(0)
    attn = CausalSelfAttention(12, 3).double().eval()
    x = torch.randn(2, 7, 12, dtype=torch.float64)
    full = attn(x)
    cache = KVCache()
    parts = [attn(x[:, :4], cache=cache)] + [
        attn(x[:, t : t + 1], cache=cache) for t in range(4, 7)
    ]
    assert len(cache) == 7
    assert torch.allclose(torch.cat(parts, dim=1), full, atol=1e-12)


def test_returned_weights_are_causal_rows_summing_to_one():
    torch.manual_seed(0)
    attn = CausalSelfAttention(8, 2).eval()
    x = torch.randn(1, 5, 8)
    out, weights = attn(x, return_weights=True)
    assert weights.shape == (1, 2, 5, 5)
    assert torch.allclose(weights.sum(-1), torch.ones(1, 2, 5))
    assert (weights.triu(1) == 0).all()
    assert torch.allclose(out, attn(x), atol=1e-6)


def test_bad_sizes_are_clear_errors():
    with pytest.raises(ConfigError, match="divisible"):
        CausalSelfAttention(10, 3)
    with pytest.raises(ConfigError, match="dropout"):
        CausalSelfAttention(8, 2, dropout=1.0)
    with pytest.raises(ShapeError, match=r"\(B, T, C\)"):
        CausalSelfAttention(8, 2)(torch.zeros(4, 8))


def test_a_rolling_cache_keeps_the_last_steps_and_returns_all_of_them():
    cache = KVCache(keep=3)
    steps = [torch.full((1, 2, 1, 4), float(t)) for t in range(40)]  # past several refills
    for t, step in enumerate(steps):
        k, v = cache.append(step, -step)
        assert k[0, 0, :, 0].tolist() == [float(s) for s in range(max(0, t - 3), t + 1)]
        assert torch.equal(v, -k)
        assert len(cache) == min(t + 1, 3)
    assert cache.k[0, 0, :, 0].tolist() == [37.0, 38.0, 39.0]
