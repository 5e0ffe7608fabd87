"""Claim 13: byte-level BPE vs char vs word tokens — sequence length, vocabulary, unknown words,
bits per byte.

notes: Text Embeddings ("Problematiche con encoders a livello di parola", "Char encoders",
"Subword Encoders (Byte Pair Encoding)"). The tokenizers are reti.tokenize's, trained on
Shakespeare and measured on held-out plays; the small GPTs come from ``reti.claims.text``'s
cache (the same size and budget as claim 11's, ALiBi positions).
"""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path

from reti.claims.base import FAILS, HOLDS, Budget, Claim, Finding, mean_std
from reti.claims.figures import claim_figure
from reti.claims.sequences import fewer_threads
from reti.claims.text import CONTEXT, corpus, lm_budget, tokenizer, trained_lm
from reti.i18n import catalogue, text
from reti.tasks.text import evaluate_text
from reti.tokenize import BPETokenizer
from reti.tokenize.build import encode_text
from reti.tokenize.pretokenize import splitter


def tokenizer_stats(tok, text: str) -> dict[str, float]:
    """Tokens per UTF-8 byte, vocabulary size, share of <unk> tokens, exact round trip."""
    ids = encode_text(tok, text)
    unk = getattr(tok, "unk_token", None)  # table tokenizers: id 0 is <unk>; byte BPE has none
    unknown = int((ids == 0).sum()) if unk is not None and tok.token_text(0) == unk else 0
    return {
        "tokens per byte": len(ids) / len(text.encode("utf-8")),
        "vocabulary": tok.vocab_size,
        "unknown rate": unknown / len(ids),
        "round trip": tok.decode(ids.tolist()) == text,
    }


def tokens_verdict(stats: dict[str, dict], bpe: str) -> str:
    """Holds if BPE has no unknowns where word-level has some, and BPE's sequences are shorter
    (fewer tokens per byte) than char's."""
    ok = (
        stats[bpe]["unknown rate"] == 0
        and stats["word"]["unknown rate"] > 0
        and stats[bpe]["tokens per byte"] < stats["char"]["tokens per byte"]
    )
    return HOLDS if ok else FAILS


def tokenizer_run(budget: Budget, out: Path) -> Finding:
    """Claim 13: the three tokenizers on held-out plays, and a small GPT on each."""
    lm = lm_budget(budget)
    held_out = corpus()[1][: lm.eval_chars * 4]
    bpe = f"bpe:{lm.bpe_vocab}"
    specs = ("char", "word", bpe)
    stats = {s: tokenizer_stats(tokenizer(s, lm.tokenizer_chars), held_out) for s in specs}
    bpb: dict[str, list[float]] = {s: [] for s in specs}
    with fewer_threads():
        for seed in budget.seeds[: budget.pick(1, 3)]:  # GPT training is the costly part
            for spec in specs:
                model, tok = trained_lm(spec, "alibi", seed, lm, budget.device)
                bpb[spec].append(evaluate_text(model, tok, held_out)["bits_per_byte"])
    verdict = tokens_verdict(stats, bpe)
    panels = []
    for name, table in (("tokens per byte", stats), ("unknown rate", stats),
                        ("bits per byte (GPT)", None)):  # fmt: skip

        def draw(ax, name=name, table=table) -> None:
            values = [table[s][name] if table else statistics.fmean(bpb[s]) for s in specs]
            ax.bar(range(3), values, color=["C0", "C1", "C2"], alpha=0.8)
            ax.set_xticks(range(3), specs)
            ax.set_title(name, fontsize=9)

        panels.append(draw)
    numbers = [
        {"tokenizer": s, "vocabulary": st["vocabulary"],
         "tokens / byte": f"{st['tokens per byte']:.3f}",
         "unknown rate": f"{st['unknown rate']:.4f}", "exact round trip": st["round trip"],
         "bits / byte (GPT)": mean_std(bpb[s])}
        for s, st in stats.items()
    ]  # fmt: skip
    return Finding(
        verdict,
        "holds if byte-level BPE has an unknown-token rate of exactly 0 on the held-out text "
        "while the word-level tokenizer's is > 0, and BPE needs fewer tokens per byte than the "
        "char tokenizer; else does not hold (deterministic: no seeds involved)",
        numbers,
        "; ".join(
            f"{s}: {st['tokens per byte']:.3f} tokens/byte, vocabulary {st['vocabulary']}, "
            f"unknown {st['unknown rate']:.2%}, {mean_std(bpb[s])} bits/byte"
            for s, st in stats.items()
        )
        + ".",
        claim_figure(out / "tokenizers.png", panels, [], budget.lang),
        f"Char, word (GPT-2 pre-tokenizer chunks seen >= 2 times) and byte-level BPE "
        f"({lm.bpe_vocab} tokens) trained on {lm.tokenizer_chars:,} chars of Shakespeare, "
        f"measured on {len(held_out):,} chars of held-out plays. Bits per byte: an ALiBi GPT "
        f"per tokenizer, same size and budget ({lm.steps} steps of {lm.batch_size} windows of "
        f"{CONTEXT} tokens, {len(bpb['char'])} seed(s)), on the held-out text; a word model "
        "predicting <unk> is credited with the 5 bytes of '<unk>', so its bits per byte "
        "flatter it.",
    )


def merges_run(budget: Budget, out: Path) -> Finding:
    """reti's byte BPE against the plain algorithm: the base vocabulary is every byte, and each
    new token is a most frequent adjacent pair (ties may pick either)."""
    sample = " ".join(v for k, v in sorted(catalogue("it").items()) if k.startswith("claims."))
    n = 40
    tok = BPETokenizer.train(sample, 256 + n, special_tokens=(), min_frequency=2)
    learned = [tok.token_bytes(256 + i) for i in range(tok.vocab_size - 256)]
    base_ok = all(tok.token_bytes(b) == bytes([b]) for b in range(256))
    # replay reti's merges; at each step the merged pair must have the largest count
    words = Counter(tuple(bytes([b]) for b in w.encode("utf-8")) for w in splitter("gpt2")(sample))
    rows, ok = [], base_ok and len(learned) == n
    for step, token in enumerate(learned):
        pairs: Counter[bytes] = Counter()
        for w, c in words.items():
            for x, y in zip(w, w[1:]):
                pairs[x + y] += c
        best = max(pairs.values())
        ok = ok and pairs[token] == best
        if step < 8 or pairs[token] != best:
            rows.append({"step": step + 1, "new token": repr(token.decode("utf-8", "replace")),
                         "its pair count": pairs[token], "largest pair count": best})  # fmt: skip
        merged = Counter()
        for w, c in words.items():
            i, new = 0, []
            while i < len(w):
                if i + 1 < len(w) and w[i] + w[i + 1] == token:
                    new.append(token)
                    i += 2
                else:
                    new.append(w[i])
                    i += 1
            merged[tuple(new)] += c
        words = merged
    return Finding(
        HOLDS if ok else FAILS,
        text("claims.merges.rule", budget.lang),
        rows,
        text("claims.merges.summary", budget.lang, n=len(learned), base=base_ok),
        None,
        text("claims.merges.experiment", budget.lang, chars=len(sample), n=n),
    )


CLAIMS = [
    Claim(
        "BPE vs char vs word",
        "Text Embeddings — encoders a livello di parola, char encoders, BPE",
        762,
        "Problematiche con encoders a livello di parola: difficoltà a gestire le boundaries "
        "delle parole. … Char encoders: riducono la complessità ma sono difficili da usare. … "
        "Subword Encoders (Byte Pair Encoding).",
        "Subword (BPE) tokens avoid the word-level problems (no unknown words) and give shorter "
        "sequences than characters.",
        tokenizer_run,
    ),
    Claim(
        "BPE merges the most frequent pair",
        "Text Embeddings — Subword Encoders (Byte Pair Encoding)",
        780,
        "Algoritmo che parte dal vocabolario base con tutti i caratteri. Conta la frequenza "
        "delle coppie di caratteri. Unisce la coppia più frequente in un nuovo simbolo. … Si "
        "ferma dopo un numero di step.",
        "Byte BPE starts from all 256 bytes and each step merges a most frequent adjacent pair, "
        "for a fixed number of steps.",
        merges_run,
    ),
]
