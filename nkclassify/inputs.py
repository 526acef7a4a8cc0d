"""Read what users hand the tagger: files, folders of ``*.txt``, or standard input.

Bad input never stops good input: each problem becomes a ``Problem`` the caller reports, and the
remaining documents are still read. Decoding tries UTF-8 (with or without BOM), then Windows-1252,
the usual encoding of text saved from older news sites.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

__all__ = ["Document", "Problem", "MAX_LINE_CHARS", "decode", "iter_documents", "iter_line_chunks"]

MAX_LINE_CHARS = 100_000  # far beyond any paragraph of prose; longer lines mean data, not articles
_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class Document:
    """One article's text and where it came from (a path, or ``-`` for standard input)."""

    source: str
    text: str
    note: str | None = None  # a warning worth showing, e.g. a fallback decoding


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


def _expand(path_text: str) -> Iterator[Path | Problem]:
    path = Path(path_text)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.txt") if p.is_file())
        if not files:
            yield Problem(path_text, "folder has no .txt files")
        yield from files
    elif path.is_file():
        yield path
    elif path.exists():
        yield Problem(path_text, "not a regular file or folder")
    else:
        yield Problem(path_text, "no such file or folder")


def iter_documents(paths: list[str], stdin: BinaryIO | None = None) -> Iterator[Document | Problem]:
    """Documents in the order given (folders sorted); ``-`` or no path reads ``stdin`` whole."""
    for path_text in paths or ["-"]:
        if path_text == "-":
            if stdin is None:
                yield Problem("-", "standard input is not available")
                continue
            yield decode(stdin.read(), "-")
            continue
        for item in _expand(path_text):
            if isinstance(item, Problem):
                yield item
                continue
            try:
                data = item.read_bytes()
            except OSError as exc:
                yield Problem(str(item), f"cannot read ({exc.strerror or exc})")
                continue
            yield decode(data, str(item))


def iter_line_chunks(stream: BinaryIO, lines_per_chunk: int = 4096) -> Iterator[Document | Problem]:
    """Standard input in ``--lines`` mode, read a chunk at a time so output streams as input arrives.

    Each chunk is a Document whose source is ``-``; callers number units across chunks.
    """
    chunk: list[bytes] = []
    for raw in stream:
        chunk.append(raw)
        if len(chunk) >= lines_per_chunk:
            yield decode(b"".join(chunk), "-")
            chunk = []
    if chunk:
        yield decode(b"".join(chunk), "-")
