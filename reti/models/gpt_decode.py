"""One generation step of a :class:`reti.models.gpt.GPT`: one new token, one sequence, a KV cache.

notes: Autoregressive Generation (predict the next token, append it, repeat). Each step computes
exactly what the modules compute (pre-LN blocks: x = x + attn(ln1(x)), x = x + mlp(ln2(x)); the
attention softmax(q K^T / sqrt(hs) + bias) V over the cached keys), but as bare functional calls
on weights fetched once, because at one token the cost of a step is the per-call overhead, not the
arithmetic: the modules' forward spends most of a step entering modules, checking shapes and
building the position bias again. The position bias of one query depends only on how many keys
it sees (ALiBi and the relative bias see distances only), so it is computed once per key count.

The tests prove that a step gives the same logits as ``GPT.forward(idx, cache=...)`` and the
same tokens in generation, for every position scheme.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from reti.layers.attention import KVCache


class Decoder:
    """``step(token, cache)`` -> the logits (V,) after one more token, for a GPT in eval mode.

    Built per generation (cheap): it holds references to the model's weights, so it sees the
    weights as they are, but not a change of the model's structure.
    """

    def __init__(self, model) -> None:
        c = model.config
        self.model = model
        self.n_head, self.head_size = c.n_head, c.d_model // c.n_head
        self.shape = (c.d_model,)
        self.scale = math.sqrt(self.head_size)
        self.embed_scale = math.sqrt(c.d_model) if c.pos == "sinusoidal" else None
        self.blocks = [
            (
                b.ln1.weight, b.ln1.bias, b.ln1.eps, b.attn.qkv.weight, b.attn.qkv.bias,
                b.attn.proj.weight, b.attn.proj.bias, b.ln2.weight, b.ln2.bias, b.ln2.eps,
                b.mlp.fc.weight, b.mlp.fc.bias, b.mlp.out.weight, b.mlp.out.bias,
            )
            for b in model.blocks
        ]  # fmt: skip
        self._positions: dict[int, torch.Tensor] = {}  # position -> its input vector (1, C)
        self._biases: dict[int, torch.Tensor] = {}  # key count -> the bias of one query

    def _position(self, pos: int, dtype: torch.dtype) -> torch.Tensor:
        vec = self._positions.get(pos)
        if vec is None:
            model = self.model
            device = model.wte.weight.device
            vec = model.wpe(torch.tensor([pos], device=device)).to(dtype)  # (1, C)
            if pos < 4096:
                self._positions[pos] = vec
        return vec

    def _bias(self, n_keys: int, dtype: torch.dtype) -> torch.Tensor:
        bias = self._biases.get(n_keys)
        if bias is None:
            device = self.model.wte.weight.device
            keys = torch.arange(n_keys, device=device)
            bias = self.model.attn_bias(keys[-1:], keys).to(dtype)  # (nh, 1, n_keys)
            self._biases[n_keys] = bias
        return bias

    def step(self, token: int, cache: list[KVCache]) -> torch.Tensor:
        """The logits (V,) of the token after ``token``, which sits after ``len(cache[0])``
        cached tokens; the cache of every block gains its key and value."""
        model = self.model
        pos = len(cache[0])
        x = model.wte.weight[token : token + 1]  # (1, C)
        if self.embed_scale is not None:
            x = x * self.embed_scale
        if model.wpe is not None:
            x = x + self._position(pos, x.dtype)
        bias = None if model.attn_bias is None else self._bias(pos + 1, x.dtype)
        nh, hs, shape = self.n_head, self.head_size, self.shape
        for (l1w, l1b, l1e, qw, qb, pw, pb, l2w, l2b, l2e, fw, fb, ow, ob), kv in zip(
            self.blocks, cache
        ):
            qkv = F.linear(F.layer_norm(x, shape, l1w, l1b, l1e), qw, qb).view(3, 1, nh, 1, hs)
            k, v = kv.append_kv(qkv[1:])
            q = qkv[0]
            if bias is None:
                att = F.scaled_dot_product_attention(q, k, v)
            else:
                att = torch.softmax(q @ k.transpose(-2, -1) / self.scale + bias, -1) @ v
            x = x + F.linear(att.reshape(1, -1), pw, pb)
            h = F.linear(F.layer_norm(x, shape, l2w, l2b, l2e), fw, fb)
            x = x + F.linear(F.gelu(h), ow, ob)
        ln = model.ln_f
        return F.linear(F.layer_norm(x, shape, ln.weight, ln.bias, ln.eps), model.head.weight)[0]
