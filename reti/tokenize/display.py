"""A tokenizer's output made visible: each token of a text as a coloured box with its id.

notes: Tokenizzazione. ``show_tokens(tokenizer, text)`` returns an ``Encoding`` whose
``_repr_html_`` Jupyter shows: the same token always gets the same colour, and its id sits
under it, so merges and splits (" the" vs "the", a word cut in three) are seen at a glance.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any


@dataclass(frozen=True)
class Encoding:
    """A text, its token ids and each token's text (its bytes decoded; a token that cuts a
    UTF-8 character in two shows the replacement character)."""

    text: str
    ids: list[int]
    pieces: list[str]

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        shown = " ".join(f"{p!r}:{i}" for p, i in zip(self.pieces[:12], self.ids))
        more = " ..." if len(self.ids) > 12 else ""
        return f"Encoding({len(self.ids)} tokens for {len(self.text)} characters: {shown}{more})"

    def _repr_html_(self) -> str:
        """Jupyter: one coloured box per token, its text on top and its id below."""
        boxes = []
        for piece, token in zip(self.pieces, self.ids):
            shown = escape(piece).replace(" ", "&#9251;").replace("\n", "\\n") or "&empty;"
            boxes.append(
                f'<span style="display:inline-block;margin:1px;padding:1px 3px;'
                f'background:{token_colour(token)};font-family:monospace;text-align:center">'
                f"{shown}<br><small>{token}</small></span>"
            )
        ratio = len(self.text) / max(len(self.ids), 1)
        head = (
            f"<p><b>{len(self.ids)} tokens</b> for {len(self.text)} characters "
            f"({ratio:.2f} characters per token)</p>"
        )
        return f"<div>{head}<div>{''.join(boxes)}</div></div>"


def token_colour(token: int) -> str:
    """A light colour fixed by the id (the golden-angle hue walk keeps neighbours apart)."""
    return f"hsl({(token * 137.508) % 360:.0f}, 70%, 82%)"


def show_tokens(tokenizer: Any, text: str) -> Encoding:
    """Encode ``text`` with any reti tokenizer (or anything with ``encode`` and ``decode``)."""
    ids = list(tokenizer.encode(text))
    if hasattr(tokenizer, "decode_bytes"):
        pieces = [tokenizer.decode_bytes([i]).decode("utf-8", errors="replace") for i in ids]
    else:
        pieces = [tokenizer.decode([i]) for i in ids]
    return Encoding(text, ids, pieces)


__all__ = ["Encoding", "show_tokens", "token_colour"]
