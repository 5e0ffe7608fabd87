"""Where a token sits: learned and sinusoidal input positions, relative bias and ALiBi.

notes: Positional Encoding. A transformer sees its tokens all at once, so order must be added:
either as a vector added to each token at the input (learned, sinusoidal), or as a bias added to
the attention scores that depends only on the distance i - j (relative, ALiBi; "in ALiBi non si
usano positional embeddings all'inizio").

One option picks the scheme, ``pos = "learned" | "sinusoidal" | "relative" | "alibi"``:

=============  ==================  =======================================================
scheme         where               past the training context (extrapolation)
=============  ==================  =======================================================
learned        input, (T, C)       no: position n_ctx has no row in the table -> error
sinusoidal     input, (T, C)       yes: the formula is defined for every t (quality drops)
relative       scores, (nh, T, T)  yes: distances past ``max_distance`` share the last bucket
alibi          scores, (nh, T, T)  yes: a linear penalty, defined for every distance
=============  ==================  =======================================================

Relative position bias follows T5 (Raffel et al. 2020), causal form: the distance i - j >= 0
goes into one of ``num_buckets`` learned per-head scalars, exactly for small distances and
log-spaced up to ``max_distance``, clipped beyond.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from reti.errors import ConfigError

POSITIONS = ("learned", "sinusoidal", "relative", "alibi")
# Which schemes are defined past the context they were trained at.
EXTRAPOLATES = {"learned": False, "sinusoidal": True, "relative": True, "alibi": True}


def check_pos(pos: str) -> str:
    """``pos`` itself if it names a scheme, else a ConfigError listing the schemes."""
    if pos not in POSITIONS:
        raise ConfigError(f"pos must be one of {', '.join(POSITIONS)}, got {pos!r}")
    return pos


class LearnedPosition(nn.Module):
    """A learned vector per absolute position, added to the token embedding (GPT-2).

    Shape: positions (T,) int64 -> (T, C).

    Raises:
        ConfigError: a position >= n_ctx (a learned table cannot extrapolate).
    """

    def __init__(self, n_ctx: int, d_model: int):
        super().__init__()
        self.n_ctx = n_ctx
        self.table = nn.Embedding(n_ctx, d_model)

    def forward(self, positions: torch.Tensor) -> torch.Tensor:
        try:  # the lookup itself refuses a row past the table: no extra pass on the fast path
            return self.table(positions)
        except IndexError:
            last = int(positions.max())
            raise ConfigError(
                f"learned positions cover 0..{self.n_ctx - 1}, got position {last}: they cannot "
                "extrapolate; use a shorter context or pos='alibi'|'sinusoidal'|'relative'"
            ) from None


class SinusoidalPosition(nn.Module):
    """p(t)_i = sin(w_k t) if i = 2k, cos(w_k t) if i = 2k+1, w_k = 1 / 10000^(2k/d).

    notes: Positional Encoding (Sinusoidal Embeddings). Computed for any t, nothing learned.

    Shape: positions (T,) int64 -> (T, C), float64.
    """

    def __init__(self, d_model: int):
        super().__init__()
        k = torch.arange(d_model) // 2  # feature i uses frequency k = i // 2
        # int64 buffers: the table is computed in float64 and cast by the caller
        self.register_buffer("two_k", 2 * k, persistent=False)
        self.register_buffer("is_cos", torch.arange(d_model) % 2 == 1, persistent=False)
        self.d_model = d_model

    def forward(self, positions: torch.Tensor) -> torch.Tensor:
        freq = 10000.0 ** (-self.two_k.double() / self.d_model)  # w_k = 1 / 10000^(2k/d)
        angle = positions.double()[:, None] * freq  # (T, 1) * (C,) -> (T, C)
        return torch.where(self.is_cos, torch.cos(angle), torch.sin(angle))


def alibi_slopes(n_head: int) -> torch.Tensor:
    """ALiBi slopes: 2^(-8/n * (h+1)) for n a power of two; otherwise those of the closest
    smaller power of two m, then the odd-numbered slopes of 2m (Press et al. 2022, appendix).

    Shape: -> (n_head,), float32.
    """
    if n_head < 1:
        raise ConfigError(f"n_head must be >= 1, got {n_head}")
    m = 2 ** math.floor(math.log2(n_head))
    base = 2.0 ** (-8.0 / m * torch.arange(1, m + 1, dtype=torch.float64))
    extra = 2.0 ** (-4.0 / m * torch.arange(1, 2 * (n_head - m) + 1, 2, dtype=torch.float64))
    return torch.cat([base, extra]).float()


def _distance(q_pos: torch.Tensor, k_pos: torch.Tensor) -> torch.Tensor:
    return q_pos[:, None] - k_pos[None, :]  # (Tq, 1) - (1, Tk) -> (Tq, Tk), i - j


class ALiBi(nn.Module):
    """b_hij = -m_h (i - j): each head penalises distant keys linearly; nothing is learned.

    notes: Positional Encoding (ALiBi). Future entries (j > i) get a positive number that the
    causal mask then blocks.

    Shape: q_pos (Tq,), k_pos (Tk,) -> (nh, Tq, Tk).
    """

    def __init__(self, n_head: int):
        super().__init__()
        self.register_buffer("slopes", alibi_slopes(n_head), persistent=False)

    def forward(self, q_pos: torch.Tensor, k_pos: torch.Tensor) -> torch.Tensor:
        distance = _distance(q_pos, k_pos).to(self.slopes.dtype)
        return -self.slopes[:, None, None] * distance  # (nh, 1, 1) * (Tq, Tk) -> (nh, Tq, Tk)


def relative_bucket(distance: torch.Tensor, num_buckets: int, max_distance: int) -> torch.Tensor:
    """T5's causal bucket of a distance i - j >= 0: exact below num_buckets // 2, then
    log-spaced up to ``max_distance``, then the last bucket (negative distances -> bucket 0)."""
    distance = distance.clamp(min=0)
    exact = num_buckets // 2
    ratio = distance.clamp(min=1).float() / exact
    spread = torch.log(ratio) / math.log(max_distance / exact) * (num_buckets - exact)
    far = (exact + spread.long()).clamp(max=num_buckets - 1)
    return torch.where(distance < exact, distance, far)


class RelativeBias(nn.Module):
    """b_hij = w_h[bucket(i - j)]: one learned scalar per head and distance bucket (T5).

    Shape: q_pos (Tq,), k_pos (Tk,) -> (nh, Tq, Tk).
    """

    def __init__(self, n_head: int, num_buckets: int = 32, max_distance: int = 128):
        super().__init__()
        if num_buckets < 2 or max_distance <= num_buckets // 2:
            raise ConfigError(
                f"relative bias needs num_buckets >= 2 and max_distance > num_buckets // 2, "
                f"got num_buckets={num_buckets}, max_distance={max_distance}"
            )
        self.num_buckets, self.max_distance = num_buckets, max_distance
        self.weight = nn.Parameter(torch.zeros(n_head, num_buckets))

    def forward(self, q_pos: torch.Tensor, k_pos: torch.Tensor) -> torch.Tensor:
        bucket = relative_bucket(_distance(q_pos, k_pos), self.num_buckets, self.max_distance)
        return self.weight[:, bucket]  # (nh, buckets)[:, (Tq, Tk)] -> (nh, Tq, Tk)


def build_positions(
    pos: str, n_ctx: int, d_model: int, n_head: int, num_buckets: int = 32, max_distance: int = 128
) -> tuple[nn.Module | None, nn.Module | None]:
    """(input positions, attention bias) for a scheme; exactly one of the two is not None."""
    check_pos(pos)
    if pos == "learned":
        return LearnedPosition(n_ctx, d_model), None
    if pos == "sinusoidal":
        return SinusoidalPosition(d_model), None
    if pos == "relative":
        return None, RelativeBias(n_head, num_buckets, max_distance)
    return None, ALiBi(n_head)
