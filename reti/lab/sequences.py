"""What the lab's series and text pages compute: causal vs ordinary convolution, tokenizers side
by side, next-token sampling from a small char GPT, attention maps and position biases.

The char GPT is trained once by ``reti.tasks.text.train`` (the pipeline ``reti text train``
runs) into the lab folder, and reloaded from there after a restart.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path

import torch
from torch import nn

from reti.data.fetch import fetch
from reti.data.text import load_text
from reti.errors import ConfigError, DataError, RetiError
from reti.generate import SamplingConfig, filter_logits
from reti.lab.settings import Setting, read_settings
from reti.layers import ALiBi, CausalConv1d, RelativeBias, SinusoidalPosition
from reti.numbers import int_in as _int
from reti.runtime import make_generator
from reti.tasks import text as text_task
from reti.tokenize import BPETokenizer, CharTokenizer, WordTokenizer, load_gpt2
from reti.train import TrainConfig

MAX_TEXT = 2000  # characters a playground request may send
CORPUS_CHARS = 100_000
TOKENIZERS = ("char", "word", "bpe", "gpt2")
# the Text page's sampling settings: SamplingConfig's fields (0 is the greedy temperature here)
SAMPLING = {name: Setting(SamplingConfig, default)
            for name, default in (("temperature", 1.0), ("top_k", None), ("top_p", None),
                                  ("seed", 0))}  # fmt: skip


# --- series: causal vs ordinary convolution ---------------------------------------------------


def _stack(causal: bool, kernel: int, levels: int, seed: int) -> nn.Sequential:
    """Dilated conv layers (dilation 1, 2, 4 ...) with weights from a seeded generator (built on
    the meta device: no draw from torch's global generator, which a training job may be using)."""
    layers: list[nn.Module] = []
    with torch.device("meta"):
        for level in range(levels):
            d = 2**level
            if causal:
                layers.append(CausalConv1d(1, 1, kernel, dilation=d))
            else:  # "same" padding: step i sees (k-1)d/2 steps on each side, the future too
                layers.append(nn.Conv1d(1, 1, kernel, dilation=d, padding=(kernel - 1) * d // 2))
            layers.append(nn.Tanh())
    net = nn.Sequential(*layers).to_empty(device="cpu")
    gen = make_generator(seed)
    with torch.no_grad():
        for conv in net[::2]:
            conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen) * 0.7)
            conv.bias.zero_()
    return net


def causal_demo(step: int, kernel: int = 3, levels: int = 3, length: int = 64, seed: int = 0):
    """Receptive field of output ``step`` (where d out[step] / d x is not 0) for a causal and an
    ordinary conv stack, and how much out[step] moves when every input after ``step`` changes
    (notes: Causal Convolution, H_i depends only on x_i, x_(i-1), ...)."""
    length = _int(length, "length", 8, 512)
    step = _int(step, "step", 0, length - 1)
    kernel = _int(kernel, "kernel", 2, 9)
    if kernel % 2 == 0:
        raise ConfigError(f"kernel must be odd (so the ordinary conv is centred), got {kernel}")
    levels = _int(levels, "levels", 1, 6)
    t = torch.arange(length, dtype=torch.float32)
    x = torch.sin(t / 5) + 0.3 * torch.randn(length, generator=make_generator(seed))
    noise = torch.randn(length, generator=make_generator(seed + 1))
    future = x.clone()
    future[step + 1 :] += 2 * noise[step + 1 :]
    out = {"x": x.tolist(), "x_perturbed": future.tolist(), "step": step}
    for name, causal in (("causal", True), ("ordinary", False)):
        net = _stack(causal, kernel, levels, seed)
        xi = x.clone().view(1, 1, -1).requires_grad_(True)
        y = net(xi)[0, 0]
        (grad,) = torch.autograd.grad(y[step], xi)
        with torch.no_grad():
            y2 = net(future.view(1, 1, -1))[0, 0]
        out[name] = {
            "output": y.detach().tolist(),
            "output_perturbed": y2.tolist(),
            "field": torch.nonzero(grad[0, 0]).flatten().tolist(),
            "change_at_step": float((y2[step] - y[step].detach()).abs()),
        }
    return out


# --- text: tokenizers ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def corpus() -> str:
    """The first characters of the built-in Shakespeare training text."""
    return load_text("shakespeare").train[:CORPUS_CHARS]


@functools.lru_cache(maxsize=4)
def tokenizer(kind: str):
    """char / word / bpe trained on ``corpus()``, or GPT-2's own."""
    if kind == "char":
        return CharTokenizer.train(corpus())
    if kind == "word":
        return WordTokenizer.train(corpus(), min_frequency=2)
    if kind == "bpe":
        return BPETokenizer.train(corpus()[:30_000], 512)
    if kind == "gpt2":
        return load_gpt2(fetch("gpt2"))
    raise ConfigError(f"tokenizer must be one of {', '.join(TOKENIZERS)}, got {kind!r}")


def _check_text(text) -> str:
    if not isinstance(text, str):
        raise ConfigError("text must be a string")
    if len(text) > MAX_TEXT:
        raise ConfigError(f"text has {len(text)} characters; at most {MAX_TEXT}")
    return text


def piece_text(raw: bytes) -> tuple[str, bool]:
    """A token's bytes as text, and whether it is only part of a UTF-8 character: the bytes of
    an incomplete character are written ``\\xf0\\x9f`` (as tiktokenizer shows them), never U+FFFD
    (notes: Subword Encoders -- byte-level BPE splits a character into its bytes)."""
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="backslashreplace"), True


def tokenize_all(text: str, kinds: tuple[str, ...] = TOKENIZERS) -> dict:
    """Each tokenizer's tokens of ``text``: id, the text piece it stands for (``partial``: the
    piece is bytes of an unfinished UTF-8 character, shown as ``\\xNN``), and the count."""
    text = _check_text(text)
    result = {}
    for kind in kinds:
        tok = tokenizer(kind)
        ids = tok.encode(text, allowed_special=(), disallowed_special=())
        pieces = [piece_text(tok.token_bytes(i)) for i in ids]
        result[kind] = {
            "ids": ids,
            "pieces": [p for p, _ in pieces],
            "partial": [partial for _, partial in pieces],
            "count": len(ids),
            "vocab_size": tok.vocab_size,
        }
    return {"text": text, "tokenizers": result}


# --- text: a small char GPT -----------------------------------------------------------------------


class NotReady(RetiError):
    """The char GPT is still being trained (its job is in the lab's queue)."""


class CharGPT:
    """The lab's char GPT: trained once into ``folder`` by a job of the lab's worker (trainings
    run one at a time there: each seeds torch's global generator), then reloaded."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._lock = threading.Lock()
        self._loaded = None

    @property
    def trained(self) -> bool:
        return (self.folder / "checkpoints").is_dir()

    def train(self, steps: int, callbacks=(), control=None) -> None:
        """Train it (``reti.tasks.text.train``: 2 layers, d_model 64, on Shakespeare)."""
        tc = TrainConfig(max_steps=steps, batch_size=32, lr=3e-3, quiet=True, device="cpu")
        cfg = text_task.TextConfig(
            data="shakespeare", tokenizer="char", max_chars=CORPUS_CHARS, n_ctx=32, n_layer=2,
            n_head=2, d_model=64, val_windows=32, out=str(self.folder), train=tc,
        )  # fmt: skip
        text_task.train(cfg, overwrite=True, callbacks=callbacks, control=control)

    def get(self):
        """(model, tokenizer).

        Raises:
            NotReady: its training job has not finished yet.
        """
        with self._lock:
            if self._loaded is None:
                if not self.trained:
                    raise NotReady("the char GPT is still training; try again in a moment")
                model, tok, _ = text_task.load_run(self.folder)
                self._loaded = (model, tok)
            return self._loaded


def _prompt_ids(tok, prompt: str) -> list[int]:
    ids = tok.encode(_check_text(prompt), allowed_special=(), disallowed_special=())
    if not ids:
        raise DataError("the prompt is empty: type at least one character")
    return ids


def sample_step(
    gpt: CharGPT, prompt: str, temperature: float, top_k=None, top_p=None, seed: int = 0
) -> dict:
    """One next token of ``prompt`` and the distribution it was drawn from (notes: Temperature;
    temperature 0 means the most likely token)."""
    model, tok = gpt.get()
    raw = {"temperature": temperature, "top_k": None if top_k in (0, "0") else top_k,
           "top_p": top_p, "seed": seed}  # fmt: skip
    s = read_settings(raw, "sampling", SAMPLING)
    temperature, top_k, top_p = s["temperature"], s["top_k"], s["top_p"]
    ids = _prompt_ids(tok, prompt)[-model.config.n_ctx :]
    with torch.no_grad():
        logits = model(torch.tensor([ids]))[0, -1].float()
    if temperature == 0:
        probs = torch.zeros_like(logits)
        probs[logits.argmax()] = 1.0
        token = int(logits.argmax())
    else:
        probs = torch.softmax(filter_logits(logits, temperature, top_k, top_p), -1)
        gen = make_generator(s["seed"])
        token = int(torch.multinomial(probs, 1, generator=gen))
    top = torch.topk(probs, min(10, len(probs)))
    return {
        "token": token,
        "piece": tok.decode([token]),
        "top": [
            {"id": int(i), "piece": tok.decode([int(i)]), "p": float(p)}
            for p, i in zip(top.values, top.indices)
        ],
    }


def attention(gpt: CharGPT, prompt: str) -> dict:
    """Attention weights of every layer and head for ``prompt`` (tokens on both axes)."""
    model, tok = gpt.get()
    ids = _prompt_ids(tok, prompt)[: model.config.n_ctx]
    with torch.no_grad():
        maps = model.attention_maps(torch.tensor([ids]))
    return {
        "tokens": [tok.decode([i]) for i in ids],
        "layers": [[head.tolist() for head in layer[0]] for layer in maps],
    }


def position_biases(n: int = 24, n_head: int = 4, d_model: int = 32) -> dict:
    """The position schemes of the notes as matrices: sinusoidal p(t) (T, d), the ALiBi bias of
    each head (T, T) and the relative bias buckets (T, T), future entries masked (None)."""
    n = _int(n, "n", 2, 128)
    n_head = _int(n_head, "n_head", 1, 16)
    d_model = _int(d_model, "d_model", 2, 256)
    pos = torch.arange(n)
    causal = pos[:, None] >= pos[None, :]
    alibi = ALiBi(n_head)(pos, pos)
    rel = RelativeBias(n_head, num_buckets=8, max_distance=32)
    with torch.no_grad():
        rel.weight.copy_(-torch.arange(8, dtype=torch.float32).expand(n_head, 8))  # bucket ids
        buckets = rel(pos, pos)[0]

    def masked(m: torch.Tensor) -> list:
        return [[float(v) if ok else None for v, ok in zip(r, c)] for r, c in zip(m, causal)]

    return {
        "n": n,
        "sinusoidal": SinusoidalPosition(d_model)(pos).float().tolist(),
        "alibi": [masked(h) for h in alibi],
        "relative_buckets": masked(-buckets),
    }
