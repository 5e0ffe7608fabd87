"""The strongest plain peer for reti's GPT on a CPU: a nanoGPT-equivalent model, loop and generate.

Written here after the design of Karpathy's nanoGPT (``model.py``, ``train.py``, ``sample.py``),
not copied: one fused Q/K/V ``nn.Linear`` without bias, ``F.scaled_dot_product_attention`` with
``is_causal=True``, a GELU MLP, LayerNorm without bias, learned positions, the output projection
tied to the token embedding, GPT-2's init (residual projections scaled by 1/sqrt(2 L));
``torch.optim.AdamW`` with betas (0.9, 0.99), weight decay 0.1 on the matrices only, gradient
clipping at 1.0, a linear warm-up of 100 iterations then a cosine to lr / 10; generation crops to
the block size and runs a full forward per new token. Used by bench/lm_train.py,
bench/generate_kv.py and bench/gpu_check.py (a module of the bench folder, not of reti).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from reti.models.gpt import GPT, GPTConfig


class NanoAttention(nn.Module):
    def __init__(self, width: int, n_head: int):
        super().__init__()
        self.n_head = n_head
        self.c_attn = nn.Linear(width, 3 * width, bias=False)
        self.c_proj = nn.Linear(width, width, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        # (B, T, C) -> (B, nh, T, hs)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


class NanoBlock(nn.Module):
    def __init__(self, width: int, n_head: int):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width, bias=False)
        self.attn = NanoAttention(width, n_head)
        self.ln_2 = nn.LayerNorm(width, bias=False)
        self.c_fc = nn.Linear(width, 4 * width, bias=False)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * width, width, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.c_proj(self.gelu(self.c_fc(self.ln_2(x))))


class NanoGPT(nn.Module):
    def __init__(self, vocab: int, n_ctx: int, n_layer: int, n_head: int, width: int):
        super().__init__()
        self.n_ctx = n_ctx
        self.wte = nn.Embedding(vocab, width)
        self.wpe = nn.Embedding(n_ctx, width)
        self.h = nn.ModuleList(NanoBlock(width, n_head) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(width, bias=False)
        self.lm_head = nn.Linear(width, vocab, bias=False)
        self.wte.weight = self.lm_head.weight  # weight tying
        for name, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * n_layer) if name.endswith("c_proj.weight") else 0.02
                nn.init.normal_(p, 0.0, std)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        """With targets: (logits (B, T, V), loss); without: logits of the last position only."""
        pos = torch.arange(idx.shape[1], device=idx.device)
        x = self.wte(idx) + self.wpe(pos)
        for block in self.h:
            x = block(x)
        x = self.ln_f(x)
        if targets is None:
            return self.lm_head(x[:, [-1], :]), None
        logits = self.lm_head(x)
        return logits, F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))

    @torch.no_grad()
    def generate(
        self, idx: torch.Tensor, max_new_tokens: int, generator: torch.Generator, greedy=False
    ) -> torch.Tensor:
        for _ in range(max_new_tokens):
            idx_cond = idx if idx.shape[1] <= self.n_ctx else idx[:, -self.n_ctx :]
            logits, _ = self(idx_cond)
            probs = F.softmax(logits[:, -1, :], dim=-1)
            if greedy:
                idx_next = probs.argmax(-1, keepdim=True)
            else:
                idx_next = torch.multinomial(probs, num_samples=1, generator=generator)
            idx = torch.cat((idx, idx_next), dim=1)
        return idx


def nano_optimizer(model: nn.Module, lr: float) -> torch.optim.AdamW:
    """AdamW, betas (0.9, 0.99), weight decay 0.1 on the 2-D parameters only (nanoGPT's groups;
    on the CPU nanoGPT leaves ``fused`` off, so PyTorch's default implementation runs)."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.99))


def nano_lr(it: int, lr: float, max_iters: int, warmup: int = 100) -> float:
    """Linear warm-up for ``warmup`` iterations, then a cosine from lr to lr / 10."""
    if it < warmup:
        return lr * (it + 1) / (warmup + 1)
    if it >= max_iters:
        return lr / 10
    ratio = (it - warmup) / max(1, max_iters - warmup)
    return lr / 10 + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr - lr / 10)


def nano_step(model, opt, x, y, it: int, lr: float, max_iters: int) -> float:
    """One nanoGPT training iteration: schedule, forward, backward, clip, step, loss.item()."""
    for group in opt.param_groups:
        group["lr"] = nano_lr(it, lr, max_iters)
    _, loss = model(x, y)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    return loss.item()


def reti_twin(nano: NanoGPT, vocab: int, n_ctx: int, n_layer: int, n_head: int) -> GPT:
    """reti's GPT (learned positions, no biases, tied) holding exactly ``nano``'s weights."""
    width = nano.wte.weight.shape[1]
    model = GPT(GPTConfig(vocab, n_ctx, n_layer, n_head, width, bias=False))
    ours = {
        "wte.weight": nano.wte.weight,
        "wpe.table.weight": nano.wpe.weight,
        "ln_f.weight": nano.ln_f.weight,
    }
    for i, b in enumerate(nano.h):
        ours |= {
            f"blocks.{i}.ln1.weight": b.ln_1.weight,
            f"blocks.{i}.attn.qkv.weight": b.attn.c_attn.weight,
            f"blocks.{i}.attn.proj.weight": b.attn.c_proj.weight,
            f"blocks.{i}.ln2.weight": b.ln_2.weight,
            f"blocks.{i}.mlp.fc.weight": b.c_fc.weight,
            f"blocks.{i}.mlp.out.weight": b.c_proj.weight,
        }
    state = {k: v.detach().clone() for k, v in ours.items()}
    state["head.weight"] = state["wte.weight"]
    model.load_state_dict(state, strict=True)
    return model
