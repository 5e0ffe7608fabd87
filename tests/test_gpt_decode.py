"""The lean one-token decode step gives the modules' numbers, bit for bit, for every scheme."""

import pytest
import torch

from reti.generate import SamplingConfig, generate
from reti.models.gpt import GPT, GPTConfig

SCHEMES = ("learned", "sinusoidal", "alibi", "relative")


def _model(pos: str, bias: bool, n_ctx: int = 16) -> GPT:
    torch.manual_seed(0)
    model = GPT(GPTConfig(40, n_ctx, 2, 4, 32, pos=pos, bias=bias)).eval()
    if pos == "relative":  # zeros at init would hide a wrong bucket
        torch.nn.init.normal_(model.attn_bias.weight, 0.0, 1.0)
    return model


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("pos", SCHEMES)
def test_step_equals_forward_with_cache(pos, bias):
    model = _model(pos, bias)
    tokens = torch.randint(0, 40, (12,), generator=torch.Generator().manual_seed(1)).tolist()
    module_cache, step_cache = model.new_cache(), model.new_cache()
    decoder = model.decoder()
    with torch.inference_mode():
        for t in tokens:
            want = model(torch.tensor([[t]]), cache=module_cache)[0, -1]
            got = decoder.step(t, step_cache)
            assert torch.equal(got, want)
            assert len(step_cache[0]) == len(module_cache[0])
        assert torch.equal(step_cache[-1].k, module_cache[-1].k)


@pytest.mark.parametrize("pos", ["alibi", "relative"])
def test_step_with_a_rolling_cache_equals_forward(pos):
    model = _model(pos, False, n_ctx=8)
    module_cache, step_cache = model.new_cache(keep=5), model.new_cache(keep=5)
    decoder = model.decoder()
    with torch.inference_mode():
        for t in range(20):  # past the kept keys several times
            want = model(torch.tensor([[t % 40]]), cache=module_cache)[0, -1]
            assert torch.equal(decoder.step(t % 40, step_cache), want)


def test_step_after_a_prompt_fed_at_once():
    model = _model("learned", True)
    module_cache, step_cache = model.new_cache(), model.new_cache()
    prompt = torch.tensor([[3, 1, 4, 1, 5]])
    with torch.inference_mode():
        model(prompt, cache=module_cache)
        model(prompt, cache=step_cache)
        assert torch.equal(model.decoder().step(9, step_cache),
                           model(torch.tensor([[9]]), cache=module_cache)[0, -1])  # fmt: skip


@pytest.mark.parametrize("slide", ["exact", "amortized", "rolling"])
def test_generation_uses_the_step_and_keeps_its_tokens(slide, monkeypatch):
    """The tokens with the lean step equal those of the modules' forward (step disabled)."""
    model = _model("alibi", True, n_ctx=12)
    cfg = SamplingConfig(max_tokens=40, slide=slide, seed=5)
    calls = []
    real = GPT.decoder

    def counting(self):
        decoder = real(self)
        step = decoder.step
        decoder.step = lambda *a: calls.append(1) or step(*a)
        return decoder

    monkeypatch.setattr(GPT, "decoder", counting)
    fast = generate(model, [1, 2], cfg)
    assert calls, "generation did not use the one-token step"
    monkeypatch.delattr(GPT, "decoder")
    assert generate(model, [1, 2], cfg) == fast
