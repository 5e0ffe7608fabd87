"""Char- and word-level tokenizers (notes: Text Embeddings, "Char encoders" and "encoders a livello
di parola"): a fixed table of strings, one id each, with the same interface as BPE.

Ids: ``0`` is the unknown token (when there is one), then the table, then the special tokens.
Text outside the table encodes to the unknown token (decoded as its string, ``"<unk>"``), or is an
error when ``unk_token=None``. Within the table, ``decode(encode(s)) == s`` exactly, lone
surrogates included (code points are kept as they are; ``decode_bytes`` writes them with
``surrogatepass``).

Words are GPT-2's pre-tokenizer chunks (a word with its leading space, a number, a run of
punctuation, a run of white space), so a word-level round trip loses no spacing.
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path

from reti.errors import ConfigError, DataError
from reti.io import atomic_write_json
from reti.tokenize.jsonfile import check, field
from reti.tokenize.pretokenize import encode_with_special, split_special, splitter

UNK = "<unk>"


class _TableTokenizer:
    """The shared table logic; subclasses say how text is cut (``_pieces``)."""

    kind = "table"

    def __init__(
        self,
        tokens: Sequence[str],
        special_tokens: Sequence[str] = (),
        unk_token: str | None = UNK,
    ):
        table = ([unk_token] if unk_token is not None else []) + list(tokens) + list(special_tokens)
        if len(set(table)) != len(table):
            raise ConfigError(f"{self.kind} tokenizer table has duplicate entries")
        self.unk_token = unk_token
        self._itos = table
        self._stoi = {s: i for i, s in enumerate(table)}
        self.special_tokens = {s: self._stoi[s] for s in special_tokens}

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(vocab_size={self.vocab_size}, unk_token="
            f"{self.unk_token!r}, special_tokens={list(self.special_tokens)})"
        )

    @property
    def vocab_size(self) -> int:
        return len(self._itos)

    @staticmethod
    def _pieces(text: str) -> list[str]:
        raise NotImplementedError

    # ------------------------------------------------------------------ encode / decode
    def encode_ordinary(self, text: str) -> list[int]:
        """Ids of ``text``, special-token strings as plain text.

        Raises:
            DataError: a piece outside the table when there is no unknown token.
        """
        pieces = self._pieces(text)
        if self.unk_token is not None:
            unk = self._stoi[self.unk_token]
            return [self._stoi.get(p, unk) for p in pieces]
        try:
            return [self._stoi[p] for p in pieces]
        except KeyError as exc:
            raise DataError(
                f"{exc.args[0]!r} is not in the {self.kind} vocabulary and this tokenizer has "
                "no unknown token (train it with unk_token='<unk>')"
            ) from None

    def encode(
        self,
        text: str,
        allowed_special: str | Collection[str] = (),
        disallowed_special: str | Collection[str] = "all",
    ) -> list[int]:
        """Token ids; special tokens follow tiktoken's ``allowed_special`` rule (see
        ``reti.tokenize.pretokenize.resolve_special``)."""
        return encode_with_special(
            text, self.special_tokens, allowed_special, disallowed_special, self.encode_ordinary
        )

    def token_text(self, token: int) -> str:
        """The string a token stands for.

        Raises:
            ConfigError: an id outside the vocabulary.
        """
        try:
            token = operator.index(token)
            if token < 0:
                raise IndexError
            return self._itos[token]
        except (IndexError, TypeError):
            raise ConfigError(
                f"token id must be an int in [0, {self.vocab_size}), got {token!r}"
            ) from None

    def token_bytes(self, token: int) -> bytes:
        return self.token_text(token).encode("utf-8", "surrogatepass")

    def decode(self, ids: Iterable[int], errors: str = "replace") -> str:
        """The text of ``ids``; ``errors`` is accepted for a common interface (a table of strings
        cannot hold invalid UTF-8). ``ids`` may be a list or a tensor."""
        ids = ids.tolist() if hasattr(ids, "tolist") else ids
        return "".join([self.token_text(i) for i in ids])

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        return self.decode(ids).encode("utf-8", "surrogatepass")

    # ------------------------------------------------------------------ training, save, load
    @classmethod
    def train(
        cls,
        text: str,
        vocab_size: int | None = None,
        *,
        min_frequency: int = 1,
        special_tokens: Collection[str] = (),
        unk_token: str | None = UNK,
    ):
        """The table of pieces seen at least ``min_frequency`` times, the most frequent first
        until ``vocab_size`` (unknown + table + specials) is reached.

        Raises:
            DataError: empty text. ConfigError: vocab_size or min_frequency out of range.
        """
        specials = list(dict.fromkeys(special_tokens))
        reserved = len(specials) + (unk_token is not None)
        if vocab_size is not None and (not isinstance(vocab_size, int) or vocab_size <= reserved):
            raise ConfigError(
                f"{cls.kind} vocab_size must be an int > {reserved} (unknown + special tokens), "
                f"got {vocab_size!r}"
            )
        if min_frequency < 1:
            raise ConfigError(f"min_frequency must be >= 1, got {min_frequency}")
        if not text:
            raise DataError(f"cannot train a {cls.kind} tokenizer on an empty text")
        counts: Counter[str] = Counter()
        for piece, special in split_special(text, frozenset(specials)):
            if not special:
                counts.update(cls._pieces(piece))
        for name in (*specials, unk_token):
            counts.pop(name, None)
        kept = [p for p, c in counts.items() if c >= min_frequency]
        kept.sort(key=lambda p: (-counts[p], p))
        if vocab_size is not None:
            kept = kept[: vocab_size - reserved]
        return cls(cls._order(kept), specials, unk_token)

    @staticmethod
    def _order(kept: list[str]) -> list[str]:
        return kept

    def save(self, path: str | Path) -> Path:
        """Our JSON: type, the table, special tokens, unknown token (written atomically)."""
        first = 1 if self.unk_token is not None else 0
        return atomic_write_json(
            path,
            {
                "type": self.kind,
                "version": 1,
                "tokens": self._itos[first : len(self._itos) - len(self.special_tokens)],
                "special_tokens": list(self.special_tokens),
                "unk_token": self.unk_token,
            },
        )

    @classmethod
    def from_dict(cls, obj: Mapping, source: str = "tokenizer"):
        """Rebuild from the dict ``save`` wrote; ``source`` names it in errors (the file).

        Raises:
            DataError: a missing or mistyped field, named with its path.
        """
        tokens = field(obj, "tokens", list, source)
        specials = field(obj, "special_tokens", list, source, default=[])
        for name, items in (("tokens", tokens), ("special_tokens", specials)):
            for i, token in enumerate(items):
                check(token, str, source, f"{name}[{i}]")
        unk = field(obj, "unk_token", (str, type(None)), source, default=UNK)
        try:
            return cls(tokens, specials, unk)
        except ConfigError as exc:
            raise DataError(f"{source}: {exc}") from None


class CharTokenizer(_TableTokenizer):
    """One token per Unicode code point; the table sorted by code point.

    >>> tok = CharTokenizer.train("hello")
    >>> tok.encode("hole"), tok.decode(tok.encode("hex"))
    ([2, 4, 3, 1], 'he<unk>')
    """

    kind = "char"

    @staticmethod
    def _pieces(text: str) -> list[str]:
        return list(text)

    @staticmethod
    def _order(kept: list[str]) -> list[str]:
        return sorted(kept)


class WordTokenizer(_TableTokenizer):
    """One token per GPT-2 chunk (``" world"``, ``"'s"``, ``"!!"``, ``"\\n\\n"``), the most frequent
    first.

    >>> tok = WordTokenizer.train("the cat the cat the hat", min_frequency=2)
    >>> tok.encode("the cat the hat"), tok.decode(tok.encode("the cat the hat"))
    ([0, 1, 2, 0], '<unk> cat the<unk>')
    """

    kind = "word"

    @staticmethod
    def _pieces(text: str) -> list[str]:
        return splitter("gpt2")(text)
