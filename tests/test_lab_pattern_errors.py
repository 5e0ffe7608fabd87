"""The CNN builder shows the pattern parser's messages in the page's language: every message a
student can meet matches one entry of lab.js's PATTERN_ERRORS, whose catalogue key exists in
both languages and fills every placeholder from the message (the same first-match rule as
lab.patternText; the browser side is tests/test_lab_browser.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import reti.lab
from reti.errors import ParseError
from reti.i18n import catalogue
from reti.models.pattern import parse

LAB_JS = Path(reti.lab.__file__).parent / "static" / "lab.js"
ENTRY = re.compile(r'^  \[/(.+)/, "(lab\.perr\.\w+)"\],$', re.M)

BAD = [
    "", "CONV3@8,SM", "CONV3@8 POOL", "CONV3@8-", "CONV3@8-?", "(CONV3@8)*", "(CONV3@8)*0",
    "(CONV3@8", "CONVV3@8", "CONV3@", "RELU@4", "CONV3@0", "FC", "DROPOUT", "RELU3", "CONV3x",
    "CONV0@8", "RELU(1)", "CONV3@8(foo=1)", "CONV3@8(1,2,3,4,5)", "CONV3@8(stride=1,stride=2)",
    "CONV3@8(stride=1", "DROPOUT(0.5,foo)", "DROPOUT(2)", "CONV3@8(stride=0)", "CONV3@8$",
    "CONV3@1.2.3",
]  # fmt: skip


def _entries() -> list[tuple[re.Pattern, str]]:
    found = ENTRY.findall(LAB_JS.read_text(encoding="utf-8"))
    assert len(found) >= 25, "lab.js's PATTERN_ERRORS table was not found"
    return [(re.compile(js), key) for js, key in found]


def _fill(template: str, match: re.Match) -> str:
    return re.sub(r"\{(\d)\}", lambda m: match.group(int(m.group(1)) + 1) or "", template)


@pytest.mark.parametrize("pattern", BAD)
def test_every_parser_message_reads_in_italian(pattern):
    with pytest.raises(ParseError) as info:
        parse(pattern)
    message = info.value.message
    en, it = catalogue("en"), catalogue("it")
    first = next(((r.search(message), k) for r, k in _entries() if r.search(message)), None)
    if first is None:
        pytest.fail(f"no PATTERN_ERRORS entry reads {message!r}")
    match, key = first
    assert key in en and key in it
    assert _fill(en[key], match) == message  # the English entry says what the parser said
    italian = _fill(it[key], match)
    assert italian != message and "{" not in italian, italian
