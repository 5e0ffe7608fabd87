"""Tokens that are part of a UTF-8 character show their bytes (``\\xf0\\x9f``), not U+FFFD."""

from __future__ import annotations

import pytest

from reti.lab.sequences import piece_text, tokenize_all


def test_a_whole_character_is_text_and_a_split_one_is_its_bytes():
    assert piece_text("é".encode()) == ("é", False)
    assert piece_text(" 🙂".encode()) == (" 🙂", False)
    # U+1F984 (unicorn) is f0 9f a6 84: its first two bytes alone, as tiktokenizer shows them
    assert piece_text(b"\xf0\x9f") == ("\\xf0\\x9f", True)
    assert piece_text(b" \xe6") == (" \\xe6", True)  # a space, then a lone lead byte


@pytest.mark.parametrize("kind", ["gpt2", "bpe"])
def test_split_pieces_put_back_together_give_the_text(kind):
    text = "日本語 ✨🦄 héllo"
    d = tokenize_all(text, (kind,))["tokenizers"][kind]
    assert "\ufffd" not in "".join(d["pieces"])
    assert len(d["partial"]) == d["count"] and any(d["partial"])
    # the shown pieces, bytes turned back into bytes, decode to the text exactly
    raw = b"".join(
        p.encode("latin-1").decode("unicode_escape").encode("latin-1") if partial else p.encode()
        for p, partial in zip(d["pieces"], d["partial"])
    )
    assert raw.decode("utf-8") == text
