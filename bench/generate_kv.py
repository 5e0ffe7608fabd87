"""Generation speed against nanoGPT's ``generate``: 500 new tokens past a 64-token window.

What: one GPT of nanoGPT's CPU size (4 layers, 4 heads, width 128, context 64, vocabulary 65,
no biases, tied output), random weights (the cost does not depend on them), 500 new tokens
sampled (temperature 1, one seeded ``torch.Generator``) from a 1-token prompt, one thread.

* peer ``nanogpt``: bench/_nanogpt.py's generate, nanoGPT's loop: crop the sequence to the
  block size, a full forward of it per new token (logits of the last position only).
* ``exact``: ``reti.generate.generate`` on reti's GPT holding the same weights, slide="exact"
  (the default): a KV cache inside the window, then a fresh window per token, as the peer.
  Checked: the same tokens as the peer with greedy decoding (``same_tokens``).
* ``amortized``: the same model, slide="amortized": when the window is full its last half is
  re-encoded once, then one token per step (each token sees 32..64 tokens, not always 64).
* ``rolling``: the same weights without the position table and pos="alibi", slide="rolling": a
  KV cache that forgets its oldest keys, one token per step (sliding-window attention).

How: the four run in turn (nanogpt, exact, amortized, rolling, nanogpt, ...) for ``--rounds``
rounds after a short warm-up of each; tokens/s is 500 over the median seconds of a method's runs;
the ratios are of those medians (min..max of the per-round ratios too). Seconds are the
process's CPU seconds (``time.process_time``; one thread, so they do not count the time spent
waiting for a core that other jobs hold); the wall-clock tokens/s are reported too.

    python bench/generate_kv.py [--tokens 500] [--rounds 3] [--threads 1]

Ends with one JSON line: {"bench": "generate_kv", "reti": <rolling tokens/s>, "peer": <nanogpt>,
"unit": "tokens/s", "ratio": ..., "modes": {...}, ...}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from _nanogpt import NanoGPT, reti_twin

from reti.generate import SamplingConfig, generate
from reti.models.gpt import GPT, GPTConfig

VOCAB, CTX, LAYERS, HEADS, WIDTH = 65, 64, 4, 4, 128


def alibi_twin(nano: NanoGPT) -> GPT:
    """reti's GPT with ALiBi and no position table, the other weights taken from ``nano``."""
    learned = reti_twin(nano, VOCAB, CTX, LAYERS, HEADS)
    model = GPT(GPTConfig(VOCAB, CTX, LAYERS, HEADS, WIDTH, bias=False, pos="alibi"))
    state = {k: v for k, v in learned.state_dict().items() if not k.startswith("wpe.")}
    model.load_state_dict(state, strict=True)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="0: torch's default")
    parser.add_argument("--quick", action="store_true", help="the default size")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    nano = NanoGPT(VOCAB, CTX, LAYERS, HEADS, WIDTH).eval()
    learned = reti_twin(nano, VOCAB, CTX, LAYERS, HEADS).eval()
    alibi = alibi_twin(nano).eval()

    def run_nano(n: int, greedy: bool = False) -> list[int]:
        gen = torch.Generator().manual_seed(0)
        out = nano.generate(torch.zeros((1, 1), dtype=torch.long), n, gen, greedy=greedy)
        return out[0, 1:].tolist()

    def reti_runner(model: GPT, slide: str):
        def run(n: int, greedy: bool = False) -> list[int]:
            cfg = SamplingConfig(max_tokens=n, greedy=greedy, seed=0, slide=slide)
            return generate(model, [0], cfg)

        return run

    methods = {
        "nanogpt": run_nano,
        "exact": reti_runner(learned, "exact"),
        "amortized": reti_runner(learned, "amortized"),
        "rolling": reti_runner(alibi, "rolling"),
    }
    same = methods["exact"](200, greedy=True) == run_nano(200, greedy=True)
    for run in methods.values():  # warm-up
        run(80)
    times: dict[str, list[float]] = {k: [] for k in methods}
    walls: dict[str, list[float]] = {k: [] for k in methods}
    print(f"{args.tokens} new tokens from a 1-token prompt; threads {torch.get_num_threads()}")
    print(f"{'round':>5} {'method':>10} {'cpu s':>8} {'tokens/s':>9} {'wall t/s':>9}")
    for r in range(args.rounds):
        for name, run in methods.items():
            start, wall = time.process_time(), time.perf_counter()
            out = run(args.tokens)
            seconds, wall = time.process_time() - start, time.perf_counter() - wall
            assert len(out) == args.tokens
            times[name].append(seconds)
            walls[name].append(wall)
            print(f"{r + 1:>5} {name:>10} {seconds:>8.3f} {args.tokens / seconds:>9.1f} "
                  f"{args.tokens / wall:>9.1f}")  # fmt: skip
    tps = {k: args.tokens / statistics.median(v) for k, v in times.items()}
    modes = {}
    for name in ("exact", "amortized", "rolling"):
        per_round = [p / s for s, p in zip(times[name], times["nanogpt"], strict=True)]
        modes[name] = {
            "tokens_s": round(tps[name], 1),
            "ratio": round(tps[name] / tps["nanogpt"], 2),
            "ratio_min": round(min(per_round), 2),
            "ratio_max": round(max(per_round), 2),
            "wall_tokens_s": round(args.tokens / statistics.median(walls[name]), 1),
        }
        m = modes[name]
        print(f"{name:>10}: {tps[name]:8.1f} tokens/s, {m['ratio']:.2f}x nanoGPT "
              f"(rounds {m['ratio_min']:.2f}-{m['ratio_max']:.2f}x)")  # fmt: skip
    print(f"{'nanogpt':>10}: {tps['nanogpt']:8.1f} tokens/s; exact mode gives the peer's tokens: "
          f"{same}")  # fmt: skip
    result = {
        "bench": "generate_kv",
        "reti": modes["rolling"]["tokens_s"],
        "peer": round(tps["nanogpt"], 1),
        "peer_wall": round(args.tokens / statistics.median(walls["nanogpt"]), 1),
        "unit": "tokens/s",
        "ratio": modes["rolling"]["ratio"],
        "modes": modes,
        "same_tokens_exact": same,
        "timing": "process cpu seconds",
        "tokens": args.tokens,
        "rounds": args.rounds,
        "threads": torch.get_num_threads(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
