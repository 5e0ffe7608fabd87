"""Generation: KV cache equals full recompute for every scheme; samplers; stop; errors."""

from __future__ import annotations

import pytest
import torch

from reti.errors import ConfigError, ShapeError
from reti.generate import SamplingConfig, filter_logits, generate
from reti.layers.position import POSITIONS
from reti.models.gpt import GPT, GPTConfig

pytestmark = pytest.mark.usefixtures("one_thread")


def _model(pos: str, n_ctx: int = 12) -> GPT:
    torch.manual_seed(0)
    cfg = GPTConfig(vocab_size=17, n_ctx=n_ctx, n_layer=2, n_head=2, d_model=16, pos=pos)
    model = GPT(cfg).double()
    with torch.no_grad():  # larger weights than at init: peaked, varied predictions
        for p in model.parameters():
            p.mul_(8.0)
        if pos == "relative":  # zero at init: give it a say
            model.attn_bias.weight.normal_(0.0, 2.0)
    return model


@pytest.mark.parametrize("pos", POSITIONS)
@pytest.mark.parametrize("greedy", [True, False])
def test_kv_cache_gives_the_same_tokens(pos, greedy):
    model = _model(pos)
    prompt = [1, 5, 2]
    kw = dict(max_tokens=25, greedy=greedy, temperature=1.3, seed=3)
    cached = generate(model, prompt, SamplingConfig(use_cache=True, **kw))
    full = generate(model, prompt, SamplingConfig(use_cache=False, **kw))
    assert cached == full
    assert len(cached) == 25
    if not greedy:
        assert len(set(cached)) > 2  # not a constant sequence: the check can fail


@pytest.mark.parametrize("pos", POSITIONS)
def test_cached_logits_equal_full_logits_step_by_step(pos):
    model = _model(pos)
    idx = torch.randint(0, 17, (2, 12), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        full = model(idx)
        cache = model.new_cache()
        steps = [model(idx[:, :5], cache=cache)]
        steps += [model(idx[:, t : t + 1], cache=cache) for t in range(5, 12)]
    assert torch.allclose(torch.cat(steps, dim=1), full, atol=1e-9)


@pytest.mark.parametrize("pos", POSITIONS)
def test_kv_cache_equals_recompute_with_a_sliding_window(pos):
    model = _model(pos, n_ctx=8)
    kw = dict(max_tokens=20, greedy=True, window=5)
    cached = generate(model, [3, 4], SamplingConfig(use_cache=True, **kw))
    full = generate(model, [3, 4], SamplingConfig(use_cache=False, **kw))
    assert cached == full


def test_learned_positions_slide_past_n_ctx_and_match_manual_recompute():
    model = _model("learned", n_ctx=6)
    out = generate(model, [1, 2, 3], SamplingConfig(max_tokens=10, greedy=True))
    tokens = [1, 2, 3]
    with torch.no_grad():
        for _ in range(10):
            logits = model(torch.tensor([tokens[-6:]]))[0, -1]
            tokens.append(int(logits.argmax()))
    assert out == tokens[3:]


def test_seed_reproducible_and_different_seeds_differ():
    model = _model("alibi")
    a = generate(model, [1], SamplingConfig(max_tokens=30, seed=1))
    b = generate(model, [1], SamplingConfig(max_tokens=30, seed=1))
    c = generate(model, [1], SamplingConfig(max_tokens=30, seed=2))
    assert a == b and a != c


def test_top_k_one_and_tiny_top_p_are_greedy():
    model = _model("sinusoidal")
    greedy = generate(model, [2, 3], SamplingConfig(max_tokens=15, greedy=True))
    assert generate(model, [2, 3], SamplingConfig(max_tokens=15, top_k=1, seed=4)) == greedy
    assert generate(model, [2, 3], SamplingConfig(max_tokens=15, top_p=1e-6, seed=5)) == greedy


def test_stop_token_ends_and_is_not_returned():
    model = _model("relative")
    free = generate(model, [0], SamplingConfig(max_tokens=20, greedy=True))
    stop = free[4]
    first = free.index(stop)
    out = generate(model, [0], SamplingConfig(max_tokens=20, greedy=True, stop=(stop,)))
    assert out == free[:first]


def test_filter_logits_by_hand():
    logits = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05]))
    kept = filter_logits(logits, top_k=2)
    assert torch.isinf(kept).tolist() == [False, False, True, True]
    # top-p 0.8: 0.5 + 0.3 reaches 0.8, so the nucleus is the first two
    assert torch.isinf(filter_logits(logits, top_p=0.8)).tolist() == [False, False, True, True]
    assert torch.isinf(filter_logits(logits, top_p=0.81)).tolist() == [False, False, False, True]
    sharp = torch.softmax(filter_logits(logits, temperature=0.5), -1)
    expected = torch.tensor([0.5, 0.3, 0.15, 0.05]) ** 2
    assert torch.allclose(sharp, expected / expected.sum())


def test_temperature_sharpens_the_distribution_of_samples():
    model = _model("alibi")
    cold = generate(model, [1], SamplingConfig(max_tokens=60, temperature=0.2, seed=0))
    hot = generate(model, [1], SamplingConfig(max_tokens=60, temperature=5.0, seed=0))
    assert len(set(hot)) > len(set(cold))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"temperature": 0.0}, "greedy"),
        ({"temperature": -1.0}, "temperature must be > 0"),
        ({"temperature": float("nan")}, "temperature"),
        ({"top_p": 0.0}, r"top_p must be in \(0, 1\]"),
        ({"top_p": 1.5}, "top_p"),
        ({"top_k": 0}, "top_k"),
        ({"max_tokens": -1}, "max_tokens"),
    ],
)
def test_bad_sampling_options(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        SamplingConfig(**kwargs)


def test_bad_prompts():
    learned = _model("learned", n_ctx=4)
    with pytest.raises(ConfigError, match="cannot extrapolate"):
        generate(learned, [1, 2, 3, 4, 5], SamplingConfig(max_tokens=1))
    with pytest.raises(ShapeError, match="at least one token"):
        generate(learned, [], SamplingConfig(max_tokens=1))
    with pytest.raises(ShapeError, match="token ids"):
        generate(learned, [99], SamplingConfig(max_tokens=1))
    # schemes that extrapolate accept a prompt longer than the training context
    alibi = _model("alibi", n_ctx=4)
    assert len(generate(alibi, list(range(10)), SamplingConfig(max_tokens=3))) == 3


# ------------------------------------------------------------------ past the window: slide modes
def _tiny(pos: str, n_layer: int, n_ctx: int = 6) -> GPT:
    torch.manual_seed(1)
    cfg = GPTConfig(vocab_size=17, n_ctx=n_ctx, n_layer=n_layer, n_head=2, d_model=16, pos=pos)
    model = GPT(cfg).double()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(8.0)
        if pos == "relative":
            model.attn_bias.weight.normal_(0.0, 2.0)
    return model.eval()


def _banded_logits(model: GPT, tokens: list[int], window: int) -> torch.Tensor:
    """Last logits of a full forward of the whole sequence where every query sees only the last
    ``window`` keys at every layer: sliding-window attention written out, no cache."""
    idx = torch.tensor([tokens])
    t = torch.arange(len(tokens))
    distance = t[:, None] - t[None, :]
    band = torch.zeros(distance.shape, dtype=torch.float64)
    band[(distance < 0) | (distance >= window)] = float("-inf")
    bias = model.attn_bias(t, t).double() + band
    x = model.wte(idx)
    for block in model.blocks:
        x = block(x, bias)
    return model.head(model.ln_f(x))[0, -1]


def _reference(step_logits, prompt: list[int], cfg: SamplingConfig) -> list[int]:
    """The generation loop with a given logits function, drawing from the same seeded sampler."""
    from reti.generate import next_token
    from reti.runtime import make_generator

    generator, tokens = make_generator(cfg.seed, "cpu"), list(prompt)
    with torch.no_grad():
        for _ in range(cfg.max_tokens):
            tokens.append(next_token(step_logits(tokens), cfg, generator))
    return tokens[len(prompt) :]


@pytest.mark.parametrize("pos", ["alibi", "relative"])
@pytest.mark.parametrize("greedy", [True, False])
def test_rolling_cache_is_a_full_forward_with_a_banded_mask(pos, greedy):
    model = _tiny(pos, n_layer=3)
    cfg = SamplingConfig(max_tokens=30, greedy=greedy, temperature=1.5, seed=7, slide="rolling")
    out = generate(model, [2, 9, 4], cfg)
    assert out == _reference(lambda tok: _banded_logits(model, tok, 6), [2, 9, 4], cfg)
    assert len(set(out)) > 2


@pytest.mark.parametrize("pos", ["alibi", "relative"])
@pytest.mark.parametrize("greedy", [True, False])
def test_rolling_cache_equals_recomputing_the_window_with_one_layer(pos, greedy):
    model = _tiny(pos, n_layer=1)
    kw = dict(max_tokens=30, greedy=greedy, temperature=1.5, seed=7, window=5)
    rolling = generate(model, [3], SamplingConfig(slide="rolling", **kw))
    exact = generate(model, [3], SamplingConfig(slide="exact", use_cache=False, **kw))
    assert rolling == exact


def test_with_more_layers_a_rolling_cache_is_not_a_recompute_of_the_window():
    model = _tiny("alibi", n_layer=2)
    tokens = torch.randint(0, 17, (1, 12), generator=torch.Generator().manual_seed(0)).tolist()[0]
    with torch.no_grad():
        window = model(torch.tensor([tokens[-6:]]))[0, -1]
    assert not torch.allclose(_banded_logits(model, tokens, 6), window, atol=1e-6)
    assert torch.allclose(_banded_logits(model, tokens[-6:], 6), window, atol=1e-9)


@pytest.mark.parametrize("pos", POSITIONS)
def test_amortized_window_keeps_the_last_half_when_full(pos):
    model = _tiny(pos, n_layer=2)
    cfg = SamplingConfig(max_tokens=10, greedy=True, window=6, slide="amortized")
    # by hand: contexts of 3, 4, 5, 6 tokens; then the window is full: keep the last 3, ...
    lengths = iter([3, 4, 5, 6, 3, 4, 5, 6, 3, 4])
    expected = _reference(lambda tok: model(torch.tensor([tok[-next(lengths) :]]))[0, -1],
                          [1, 2, 3], cfg)  # fmt: skip
    assert generate(model, [1, 2, 3], cfg) == expected
    uncached = SamplingConfig(max_tokens=10, greedy=True, window=6, slide="amortized",
                              use_cache=False)  # fmt: skip
    assert generate(model, [1, 2, 3], uncached) == expected


def test_bad_slide_options():
    with pytest.raises(ConfigError, match="slide must be one of"):
        SamplingConfig(slide="sideways")
    with pytest.raises(ConfigError, match="use_cache"):
        SamplingConfig(slide="rolling", use_cache=False)
    for pos in ("learned", "sinusoidal"):
        with pytest.raises(ConfigError, match="distances"):
            generate(_tiny(pos, 1), [1], SamplingConfig(max_tokens=2, slide="rolling"))
