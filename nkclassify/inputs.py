"""The raw material of tagging: documents, lines, problems; bytes decoded; folders walked.

Bad input never stops good input: each problem becomes a ``Problem`` the caller reports, and the
remaining documents are still read. Decoding tries UTF-8 (with or without BOM), then Windows-1252,
the usual encoding of text saved from older news sites.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "Document",
    "Problem",
    "Line",
    "MAX_LINE_CHARS",
    "MAX_ARTICLE_BYTES",
    "decode",
    "expand",
    "iter_lines",
]

MAX_LINE_CHARS = 100_000  # far beyond any paragraph of prose; longer lines mean data, not articles
MAX_ARTICLE_BYTES = 20 << 20  # one article of 20 MB is a book; larger inputs go line by line (--lines)
_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class Document:
    """One article's text and where it came from (a path, or ``-`` for standard input)."""

    source: str
    text: str
    note: str | None = None  # a warning worth showing, e.g. a fallback decoding
    record_id: str | None = None  # the record's id, for documents that are rows of a CSV or JSONL file
    pages: tuple[int, ...] | None = None  # character offset where each page starts (PDF)
    ordinal: int | None = None  # 1-based place of a record in its file (CSV, JSONL)

    def page_of(self, offset: int) -> int | None:
        """1-based page holding a character offset, for documents that came in pages."""
        if not self.pages:
            return None
        import bisect

        return bisect.bisect_right(self.pages, offset)


@dataclass(frozen=True)
class Problem:
    """An input that was skipped, with the one-line reason."""

    source: str
    message: str


def decode(data: bytes, source: str) -> Document | Problem:
    """Bytes -> Document, or the reason they are not a text article."""
    if b"\0" in data[:_SNIFF_BYTES]:
        return Problem(source, "binary file (contains NUL bytes), skipped")
    note = None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            return Problem(source, f"not UTF-8 or Windows-1252 text (bad byte at {exc.start}), skipped")
        note = f"not UTF-8 (bad byte at {exc.start}); decoded as Windows-1252"
    if not text.strip():
        return Problem(source, "empty file, nothing to tag")
    longest = max((len(line) for line in text.split("\n")), default=0)
    if longest > MAX_LINE_CHARS:
        return Problem(
            source, f"a line of {longest:,} characters (limit {MAX_LINE_CHARS:,}): not article text, skipped"
        )
    return Document(source, text.replace("\r\n", "\n").replace("\r", "\n"), note)


def _walk(folder: Path, suffixes: frozenset[str]) -> Iterator[Path | Problem]:
    """Every file with a known suffix below a folder, sorted; what cannot be read is named, never skipped."""
    found: list[Path | Problem] = []

    def failed(exc: OSError) -> None:
        found.append(Problem(str(exc.filename or folder), f"cannot read folder ({exc.strerror or exc})"))

    for root, dirs, files in os.walk(folder, onerror=failed, followlinks=False):
        dirs.sort()
        for name in files:
            if Path(name).suffix.lower() not in suffixes:
                continue
            path = Path(root) / name
            if path.is_symlink() and not path.exists():
                found.append(Problem(str(path), "dangling or looping symbolic link, skipped"))
            elif not path.is_file():
                found.append(Problem(str(path), "not a regular file (a FIFO, socket or device), skipped"))
            else:
                found.append(path)
    if not found:
        found.append(
            Problem(str(folder), f"folder has no files of a known kind ({', '.join(sorted(suffixes))})")
        )
    yield from sorted(found, key=lambda p: str(p.source) if isinstance(p, Problem) else str(p))


TEXT_SUFFIXES = frozenset({".txt"})


def expand(path_text: str, suffixes: frozenset[str] = TEXT_SUFFIXES) -> Iterator[Path | Problem]:
    """A path as the user gave it: the file itself, or the files of known kinds below a folder."""
    path = Path(path_text)
    if path.is_dir():
        yield from _walk(path, suffixes)
    elif path.is_file():
        yield path
    elif path.exists():
        yield Problem(path_text, "not a regular file or folder")
    elif path.is_symlink():
        yield Problem(path_text, "dangling or looping symbolic link")
    else:
        yield Problem(path_text, "no such file or folder")


@dataclass(frozen=True)
class Line:
    """One line of a stream read in ``--lines`` mode: its 1-based number and character offset."""

    source: str
    number: int
    offset: int
    text: str
    note: str | None = None
    record_id: str | None = None
    page: int | None = None


MAX_SKIP_BYTES = 64 << 20  # an over-long line is skipped up to here; beyond, the input is not text


def iter_lines(
    stream: BinaryIO, source: str = "-", max_chars: int = MAX_LINE_CHARS
) -> Iterator[Line | Problem]:
    """Every line of a byte stream, one at a time, in memory bounded by ``max_chars``.

    Each line is decoded on its own, so one bad line costs that line only: a line that is not
    UTF-8 is decoded as Windows-1252 with a note; a line with NUL bytes or over ``max_chars``
    characters becomes a ``Problem`` naming its number; numbering counts every real input line.
    """
    limit = max_chars * 4 + 2  # UTF-8 needs at most 4 bytes a character
    number = offset = 0
    while True:
        raw = stream.readline(limit)
        if not raw:
            return
        number += 1
        if len(raw) >= limit and not raw.endswith(b"\n"):
            skipped = len(raw)
            while True:
                more = stream.readline(1 << 20)
                skipped += len(more)
                if not more or more.endswith(b"\n"):
                    break
                if skipped > MAX_SKIP_BYTES:
                    yield Problem(
                        source,
                        f"line {number}: no line break in {skipped:,} bytes; not text, stopped reading it",
                    )
                    return
            yield Problem(
                source, f"line {number}: over {max_chars:,} characters ({skipped:,} bytes), skipped"
            )
            offset += skipped
            continue
        note = None
        if b"\0" in raw:
            yield Problem(source, f"line {number}: binary data (NUL bytes), skipped")
            offset += len(raw)
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = raw.decode("cp1252", errors="replace")
            note = f"line {number}: not UTF-8 (bad byte at {exc.start}); decoded as Windows-1252"
        if number == 1 and text.startswith("\ufeff"):
            text = text[1:]
        body = text.rstrip("\r\n")
        if len(body) > max_chars:
            yield Problem(source, f"line {number}: over {max_chars:,} characters, skipped")
        else:
            yield Line(source, number, offset, body, note)
        offset += len(text)
