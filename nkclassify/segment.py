"""Cut article text into the units the labels and the tagger work on.

A unit is one sentence as syntok cuts it, never crossing a line break: headlines, captions,
bylines and stray page lines sit on lines of their own in real pages, and the annotation guide
makes each of them a unit. Offsets are character offsets into the original text, so every unit
can be traced back to the article it came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from syntok import segmenter

__all__ = ["Unit", "split_sentences", "split_lines"]

_LINE = re.compile(r"[^\n]+")


@dataclass(frozen=True)
class Unit:
    """One sentence (or page line) of an article, with its place in the article text."""

    index: int
    start: int
    end: int
    text: str


def _sentences_of_line(line: str, offset: int) -> Iterator[tuple[int, int]]:
    for paragraph in segmenter.analyze(line):
        for sentence in paragraph:
            start = sentence[0].offset
            end = sentence[-1].offset + len(sentence[-1].value)
            yield offset + start, offset + end


def _spans(text: str, split_line: bool) -> Iterator[tuple[int, int]]:
    for match in _LINE.finditer(text):
        line = match.group()
        stripped = line.strip()
        if not stripped:
            continue
        if split_line:
            yield from _sentences_of_line(line, match.start())
        else:
            lead = len(line) - len(line.lstrip())
            yield match.start() + lead, match.start() + lead + len(stripped)


def _units(text: str, split_line: bool) -> list[Unit]:
    units: list[Unit] = []
    for start, end in _spans(text, split_line):
        chunk = text[start:end].strip()
        if not chunk:
            continue
        # syntok may leave a token's trailing space inside the span; keep offsets exact.
        lead = text[start:end].index(chunk)
        start += lead
        units.append(Unit(len(units), start, start + len(chunk), chunk))
    return units


def split_sentences(text: str) -> list[Unit]:
    """Split an article into sentence units (the unit the labels use)."""
    return _units(text, split_line=True)


def split_lines(text: str) -> list[Unit]:
    """Treat every non-blank line as one unit, for input that is already one sentence a line."""
    return _units(text, split_line=False)
