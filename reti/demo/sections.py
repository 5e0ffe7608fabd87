"""The sections of ``reti demo``, in the order the report shows them (one module each)."""

from __future__ import annotations

from reti.demo import foundations, series, text, vision
from reti.demo.base import Section

SECTIONS: list[Section] = [
    Section("demo.s1.title", foundations.run),
    Section("demo.s2.title", vision.run),
    Section("demo.s3.title", series.run),
    Section("demo.s4.title", text.run),
]
