"""Claims on the first pages of the notes: parameter counts, growth with the input, filters and
channels (notes: Fully / Locally Connected Neural Net, Convolutional Neural Net, Layer
Convoluzionale Multiplo)."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from reti.claims.base import FAILS, HOLDS, Budget, Claim, Finding
from reti.claims.figures import claim_figure
from reti.i18n import text
from reti.layers import (
    LocallyConnected2d,
    compare_connectivity,
    conv_params,
    count_parameters,
    fully_connected_params,
)


def params_run(budget: Budget, out: Path) -> Finding:
    rows = compare_connectivity(1000, 1_000_000, 10, 100)
    expected = {"fully connected": 10**12, "locally connected": 10**8, "convolutional": 10**4}
    numbers = [
        {"layer": r.kind, "weights": f"{r.weights:.0e}", "notes": f"{expected[r.kind]:.0e}"}
        for r in rows
    ]
    # The calculator must also agree with real layers (a size small enough to build).
    lc = LocallyConnected2d(1, 4, input_size=20, kernel_size=5, bias=False)
    conv = torch.nn.Conv2d(1, 4, 5, bias=False)
    small = compare_connectivity(20, 4 * 16 * 16, 5, 4)
    built = {"locally connected": count_parameters(lc), "convolutional": count_parameters(conv)}
    for r in small[1:]:
        numbers.append({"layer": f"{r.kind} (20x20, 5x5, 4 maps)", "weights": r.weights,
                        "notes": f"built layer: {built[r.kind]}"})  # fmt: skip
    ok = all(r.weights == expected[r.kind] for r in rows) and all(
        r.weights == built[r.kind] for r in small[1:]
    )

    def draw(ax):
        ax.bar([r.kind for r in rows], [r.weights for r in rows], color=["C0", "C1", "C2"])
        ax.set_yscale("log")
        ax.set_ylabel(text("claims.params.ylabel", budget.lang))

    return Finding(
        HOLDS if ok else FAILS,
        text("claims.params.rule", budget.lang),
        numbers,
        text("claims.params.summary", budget.lang),
        claim_figure(out / "params.png", [draw], [], budget.lang),
        text("claims.params.experiment", budget.lang),
    )


def growth_run(budget: Budget, out: Path) -> Finding:
    """Doubling the side of the image (4x the inputs, with as many hidden units as inputs)
    multiplies the FC weights by 16 = 4^2 and leaves a convolution's unchanged."""
    sides = [8, 16, 32, 64, 128]
    fc = [fully_connected_params(n, n * n).weights for n in sides]
    conv = [conv_params(5, 16).weights for _ in sides]
    ratios = [b / a for a, b in zip(fc, fc[1:])]
    built = count_parameters(torch.nn.Linear(16 * 16, 16 * 16, bias=False))
    ok = all(r == 16 for r in ratios) and len(set(conv)) == 1 and built == fc[1]
    numbers = [
        {"image": f"{n}x{n}", "inputs N": n * n, "FC weights (N hidden)": w, "conv 16 5x5": c}
        for n, w, c in zip(sides, fc, conv)
    ]

    def draw(ax):
        inputs = [n * n for n in sides]
        ax.loglog(inputs, fc, marker="o", label="fully connected")
        ax.loglog(inputs, conv, marker="s", label="conv 16 filters 5x5")
        ax.set_xlabel(text("claims.growth.xlabel", budget.lang))
        ax.set_ylabel(text("claims.params.ylabel", budget.lang))
        ax.legend(fontsize=7)

    return Finding(
        HOLDS if ok else FAILS,
        text("claims.growth.rule", budget.lang),
        numbers,
        text(
            "claims.growth.summary",
            budget.lang,
            ratios=", ".join(f"{r:g}" for r in ratios),
            built=built,
        ),  # fmt: skip
        claim_figure(out / "growth.png", [draw], [], budget.lang),
        text("claims.growth.experiment", budget.lang),
    )


def maps_run(budget: Budget, out: Path) -> Finding:
    """K filters give K activation maps, stacked as channels: map k of the layer equals the
    convolution with filter k alone."""
    g = torch.Generator().manual_seed(budget.seed)
    x = torch.randn(2, 3, 32, 32, generator=g)
    w, b = torch.randn(6, 3, 5, 5, generator=g), torch.randn(6, generator=g)
    together = F.conv2d(x, w, b)
    alone = torch.cat([F.conv2d(x, w[k : k + 1], b[k : k + 1]) for k in range(6)], dim=1)
    worst = (together - alone).abs().max().item()
    ok = tuple(together.shape) == (2, 6, 28, 28) and worst <= 1e-5

    def draw(ax):
        maps = together[0]  # (6, 28, 28) -> a 2 x 3 grid of maps
        grid = torch.cat([torch.cat(list(maps[r * 3 : r * 3 + 3]), dim=1) for r in (0, 1)])
        ax.imshow(grid.numpy(), cmap="viridis")
        ax.set_title(text("claims.maps.title", budget.lang), fontsize=9)
        ax.set_axis_off()

    return Finding(
        HOLDS if ok else FAILS,
        text("claims.maps.rule", budget.lang),
        [{"output shape": str(tuple(together.shape)), "largest |layer - filter alone|": worst}],
        text("claims.maps.summary", budget.lang, shape=tuple(together.shape), worst=f"{worst:.2g}"),
        claim_figure(out / "maps.png", [draw], [], budget.lang),
        text("claims.maps.experiment", budget.lang),
    )


CLAIMS = [
    Claim(
        "parameter counts",
        "Fully Connected / Locally Connected / Convolutional Neural Net",
        38,
        "Molti parametri: 10^12 per una immagine 1000x1000 con 1M hidden units … 100M … con "
        "filter size 10x10 … con 100 filtri e dimensione 10x10, si hanno 10k parametri.",
        "A fully connected layer needs 10^12 weights, a locally connected one 10^8, a "
        "convolutional one with 100 shared 10x10 filters 10^4.",
        params_run,
    ),
    Claim(
        "FC grows quadratically",
        "Convolutional Neural Net — Motivazioni",
        87,
        "Le reti standard crescono quadraticamente con la dimensione dell'input.",
        "A fully connected layer (as many hidden units as inputs) grows with the square of the "
        "input size; a convolution does not grow at all.",
        growth_run,
    ),
    Claim(
        "filters make channels",
        "Layer Convoluzionale Multiplo",
        154,
        "Si possono usare più filtri, ottenendo più mappe di attivazione. … Ogni mappa è un "
        "nuovo channel.",
        "K filters give K activation maps, stacked as the K channels of the output.",
        maps_run,
    ),
]
