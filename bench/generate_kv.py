"""Generation speed: 500 tokens with the KV cache vs recomputing the whole context each step.

What: ``reti.generate.generate`` on one GPT (4 layers, 4 heads, width 128, vocabulary 84 as
the char-level Shakespeare model, trained context 64, ALiBi positions so that the model may
attend to all 500 + prompt tokens: no window), greedy, from an 8-token prompt. With the cache
each step feeds only the newest token; without it each step feeds the whole sequence again.
Both must give the same tokens (checked here too; the tests prove it for every scheme).
Weights are random: the cost does not depend on them.

How: cache and no-cache runs alternate (cache, full, cache, full, ...) for ``--rounds`` rounds
after one short warm-up each; tokens/s is tokens over the median seconds of a run. Threads: 1
by default (the 2 cores were shared with other jobs; ``--threads 0`` keeps torch's default).
The numbers in docs/text.md were measured on a loaded machine: rerun on a quiet one.

    python bench/generate_kv.py [--quick] [--tokens 500] [--rounds 2]

Ends with one JSON line: {"bench": "generate_kv", "reti": ..., "peer": ..., "unit": "tokens/s"}
where "reti" is with the KV cache and "peer" the full recompute.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from reti.generate import SamplingConfig, generate
from reti.models.gpt import GPT, GPTConfig


def timed(model: GPT, prompt: list[int], cfg: SamplingConfig) -> tuple[float, list[int]]:
    start = time.perf_counter()
    out = generate(model, prompt, cfg)
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pos", default="alibi")
    parser.add_argument("--threads", type=int, default=1, help="0: torch's default")
    parser.add_argument("--quick", action="store_true", help="the default size")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=84, n_ctx=64, n_layer=4, n_head=4, d_model=128, pos=args.pos))
    prompt = list(range(1, 9))
    cached = SamplingConfig(max_tokens=args.tokens, greedy=True, use_cache=True)
    full = SamplingConfig(max_tokens=args.tokens, greedy=True, use_cache=False)
    for cfg in (cached, full):  # warm-up
        generate(model, prompt, SamplingConfig(max_tokens=20, greedy=True, use_cache=cfg.use_cache))
    times: dict[str, list[float]] = {"kv cache": [], "recompute": []}
    outs = {}
    print(f"{args.tokens} tokens, pos={args.pos}, threads {torch.get_num_threads()}")
    print(f"{'round':>5} {'method':>10} {'seconds':>8} {'tokens/s':>9}")
    for r in range(args.rounds):
        for name, cfg in (("kv cache", cached), ("recompute", full)):
            seconds, outs[name] = timed(model, prompt, cfg)
            times[name].append(seconds)
            print(f"{r + 1:>5} {name:>10} {seconds:>8.2f} {args.tokens / seconds:>9.1f}")
    same = outs["kv cache"] == outs["recompute"]
    tps = {k: args.tokens / statistics.median(v) for k, v in times.items()}
    ratio = tps["kv cache"] / tps["recompute"]
    print(f"\nsame tokens: {same}; kv cache {tps['kv cache']:.1f} tokens/s, "
          f"recompute {tps['recompute']:.1f} tokens/s: {ratio:.2f}x")  # fmt: skip
    result = {
        "bench": "generate_kv",
        "reti": round(tps["kv cache"], 1),
        "peer": round(tps["recompute"], 1),
        "unit": "tokens/s",
        "ratio": round(ratio, 2),
        "same_tokens": same,
        "tokens": args.tokens,
        "pos": args.pos,
        "threads": torch.get_num_threads(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
