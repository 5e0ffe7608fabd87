"""GPT-2 encoding throughput: reti's pure-Python GPT-2 vs tiktoken (Rust), same ranks, one thread.

What: encode the 42 modern-spelling Shakespeare works (5.06 MB) with GPT-2; MB/s of UTF-8 input.
Both sides use the real ``gpt2.tiktoken`` ranks from reti's data cache; tiktoken's Encoding is
built locally from them with OpenAI's pattern (no network) and run with ``encode_ordinary`` (one
thread). The ids are checked equal.
How: rounds alternate tiktoken, reti *cold* (a fresh tokenizer, empty chunk cache: every distinct
chunk is merged once) and reti *warm* (the same text again: every chunk is a cache hit). The best
of each is reported; the headline ``reti`` number is the cold one (the honest first-pass figure).
Each round's own ratios (reti / tiktoken, cold and warm) are printed too: the machine is shared,
and a ratio within one round is steadier than the best of each side. Times are the process's CPU
seconds (``time.process_time``; both sides run on this one thread), so another job on the
machine does not count against either side.
Construction is outside the encode timings on both sides, and timed on its own (``load`` columns):
tiktoken's reads the ranks file and builds its maps; reti's ``load_gpt2`` reads the file and
builds the pair table for batch merging (``reti.tokenize.merge_batch``, ~0.04 s of its ~0.08 s).
``ratio_rounds_cold_with_load`` counts construction + cold encode on both sides.
``--quick``: the first 1 MB, one round.

    python bench/gpt2_encode.py [--quick] [--rounds 3]

Ends with one JSON line: {"bench": "gpt2_encode", "reti": MB/s, "peer": MB/s, "unit": "MB/s",
"ratio": reti/peer, "reti_warm": MB/s, "ratio_rounds_cold": [...], "ratio_rounds_warm": [...],
"ratio_rounds_cold_with_load": [...], "load_s": {"tiktoken": s, "reti": s}} (load: best round).
"""

from __future__ import annotations

import argparse
import json
import time

import tiktoken
from tiktoken_ext.openai_public import r50k_pat_str

from reti.data import fetch
from reti.data.text import shakespeare_works
from reti.tokenize import GPT2_EOT, load_gpt2, load_tiktoken_ranks


def timed(fn, *args):
    """(CPU seconds of this process, result) of ``fn(*args)``."""
    start = time.process_time()
    out = fn(*args)
    return time.process_time() - start, out


def tiktoken_gpt2(path):
    """tiktoken's GPT-2 Encoding built locally from ``path`` (no network)."""
    return tiktoken.Encoding(
        "gpt2-local",
        pat_str=r50k_pat_str,
        mergeable_ranks=load_tiktoken_ranks(path),
        special_tokens={"<|endoftext|>": GPT2_EOT},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    text = "".join(shakespeare_works().values())
    rounds = args.rounds
    if args.quick:
        text, rounds = text[:1_000_000], 1
    mb = len(text.encode("utf-8")) / 1e6
    path = fetch("gpt2") / "gpt2.tiktoken"
    print(f"text {mb:.2f} MB, {rounds} round(s); CPU seconds of this process")
    print(
        f"{'round':>5}  {'tiktoken MB/s':>13}  {'reti cold':>9}  {'reti warm':>9}  "
        f"{'load tiktoken s':>15}  {'load reti s':>11}"
    )
    best = {"tiktoken": 0.0, "cold": 0.0, "warm": 0.0}
    per_round: dict[str, list[float]] = {"cold": [], "warm": [], "with_load": []}
    loads = {"tiktoken": float("inf"), "reti": float("inf")}
    for r in range(rounds):
        load_tik, oracle = timed(tiktoken_gpt2, path)
        t_tik, expected = timed(oracle.encode_ordinary, text)
        load_reti, reti = timed(load_gpt2, path)
        t_cold, ids = timed(reti.encode_ordinary, text)
        t_warm, ids_warm = timed(reti.encode_ordinary, text)
        if ids != expected or ids_warm != expected:
            raise SystemExit("reti's ids differ from tiktoken's")
        speeds = {"tiktoken": mb / t_tik, "cold": mb / t_cold, "warm": mb / t_warm}
        best = {k: max(best[k], v) for k, v in speeds.items()}
        for side in ("cold", "warm"):
            per_round[side].append(round(speeds[side] / speeds["tiktoken"], 3))
        per_round["with_load"].append(round((load_tik + t_tik) / (load_reti + t_cold), 3))
        loads["tiktoken"] = min(loads["tiktoken"], load_tik)
        loads["reti"] = min(loads["reti"], load_reti)
        print(
            f"{r:>5}  {speeds['tiktoken']:>13.2f}  {speeds['cold']:>9.2f}  {speeds['warm']:>9.2f}  "
            f"{load_tik:>15.3f}  {load_reti:>11.3f}"
        )
    ratio = best["cold"] / best["tiktoken"]
    print(
        f"best: tiktoken {best['tiktoken']:.2f} MB/s, reti cold {best['cold']:.2f} MB/s "
        f"({ratio:.2f}x), warm {best['warm']:.2f} MB/s ({best['warm'] / best['tiktoken']:.2f}x)"
    )
    result = {
        "bench": "gpt2_encode",
        "reti": round(best["cold"], 3),
        "peer": round(best["tiktoken"], 3),
        "unit": "MB/s",
        "ratio": round(ratio, 3),
        "reti_warm": round(best["warm"], 3),
        "ratio_rounds_cold": per_round["cold"],
        "ratio_rounds_warm": per_round["warm"],
        "ratio_rounds_cold_with_load": per_round["with_load"],
        "load_s": {side: round(t, 3) for side, t in loads.items()},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
