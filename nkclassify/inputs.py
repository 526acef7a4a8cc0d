"""The raw material of tagging: documents, lines, problems; bytes decoded; folders walked.

Bad input never stops good input: each problem becomes a ``Problem`` the caller reports, and the
remaining documents are still read. Decoding tries UTF-8 (with or without BOM), then Windows-1252,
the usual encoding of text saved from older news sites.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate, repeat
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .errors import InputError

__all__ = [
    "Document",
    "Problem",
    "Line",
    "LineBlock",
    "MAX_LINE_CHARS",
    "MAX_ARTICLE_BYTES",
    "decode",
    "expand",
    "iter_lines",
    "read_unit",
    "RawLines",
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


def _text(data: bytes) -> tuple[str, str | None]:
    """A whole input's text: UTF-8 (with or without BOM), else Windows-1252 with a note saying so;
    the UTF-8 ``UnicodeDecodeError`` (where the first bad byte is) when neither decodes it."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        try:
            return data.decode("cp1252"), f"not UTF-8 (bad byte at {exc.start}); decoded as Windows-1252"
        except UnicodeDecodeError:
            raise exc from None


def read_unit(stream: BinaryIO, max_chars: int = MAX_LINE_CHARS) -> tuple[str, str | None]:
    """The whole of a stream as one unit (``explain -``), stripped, and a note when it was not
    UTF-8 but Windows-1252 (decoded as ``tag`` decodes a file); ``InputError`` when it is neither,
    or longer than a unit may be (it is read no further than that)."""
    data = stream.read(4 * max_chars + 1)  # 4 bytes a character at most
    try:
        text, note = _text(data)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"standard input is not UTF-8 or Windows-1252 text (bad byte at {exc.start})"
        ) from None
    if len(text) > max_chars:
        raise InputError(f"standard input is longer than one unit may be ({max_chars:,} characters)")
    return text.strip(), note


def decode(data: bytes, source: str) -> Document | Problem:
    """Bytes -> Document, or the reason they are not a text article."""
    if b"\0" in data[:_SNIFF_BYTES]:
        return Problem(source, "binary file (contains NUL bytes), skipped")
    try:
        text, note = _text(data)
    except UnicodeDecodeError as exc:
        return Problem(source, f"not UTF-8 or Windows-1252 text (bad byte at {exc.start}), skipped")
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
    """One unit of a ``--lines`` stream read from a record or page: its 1-based number and offset."""

    source: str
    number: int
    offset: int
    text: str
    note: str | None = None
    record_id: str | None = None
    page: int | None = None


@dataclass
class LineBlock:
    """Consecutive lines of one plain-text stream, as columns: no object per line.

    ``numbers`` are 1-based input line numbers, ``offsets`` character offsets of each line's start,
    ``texts`` the lines without their line break; ``notes`` are warnings about lines in the block.
    """

    source: str
    numbers: list[int]
    offsets: list[int]
    texts: list[str]
    notes: list[str]
    ids: list[str | None] | None = None  # per-line record ids (CSV/JSONL records)
    pages: list[int | None] | None = None  # per-line page numbers (PDF)
    # an empty block that says the input paused (a live pipe or terminal has nothing more yet):
    # what came so far should be tagged now, not held for a full batch
    pause: bool = False

    def __len__(self) -> int:
        return len(self.texts)

    def split(self, n: int) -> tuple[LineBlock, LineBlock]:
        """The first ``n`` lines (with the block's notes) and the rest."""

        def cut(column):
            return (None, None) if column is None else (column[:n], column[n:])

        numbers, offsets, texts, ids, pages = map(
            cut, (self.numbers, self.offsets, self.texts, self.ids, self.pages)
        )
        return (
            LineBlock(self.source, numbers[0], offsets[0], texts[0], self.notes, ids[0], pages[0]),
            LineBlock(self.source, numbers[1], offsets[1], texts[1], [], ids[1], pages[1]),
        )

    def lines(self) -> Iterator[Line]:
        """The block as ``Line`` objects (for callers that want one line at a time)."""
        ids, pages = self.ids or repeat(None), self.pages or repeat(None)
        for number, offset, text, record_id, page in zip(self.numbers, self.offsets, self.texts, ids, pages):
            yield Line(self.source, number, offset, text, None, record_id, page)


MAX_SKIP_BYTES = 64 << 20  # an over-long line is skipped up to here; beyond, the input is not text
BLOCK_BYTES = 1 << 20  # bytes read at a time in --lines mode


def iter_lines(
    stream: BinaryIO,
    source: str = "-",
    max_chars: int = MAX_LINE_CHARS,
    block_bytes: int = BLOCK_BYTES,
    raw_lines: int = 0,
) -> Iterator[LineBlock | Problem | RawLines]:
    """Every line of a byte stream, in blocks of about ``block_bytes``, in bounded memory.

    A block of clean UTF-8 is decoded and split in one go; a block holding a bad line is read
    line by line, so one bad line costs that line only: a line that is not UTF-8 is decoded as
    Windows-1252 with a note; a line with NUL bytes or over ``max_chars`` characters becomes a
    ``Problem`` naming its number. Numbering counts every real input line. ``read1`` is used where
    the stream has it, so a slow pipe is read as its lines arrive, and when a pipe or terminal has
    nothing more waiting an empty ``LineBlock`` with ``pause`` set says so (a live feed is then
    tagged line by line as it comes, not a batch at a time).

    With ``raw_lines``, clean stretches are only checked and counted: they come out as
    ``RawLines`` of at most that many lines, still bytes, for a worker process to decode and split
    (``RawLines.blocks()`` gives exactly the blocks this reader would have given).
    """
    read = getattr(stream, "read1", stream.read)
    if raw_lines:
        state: _LineState = _RawLineState(source, max_chars, raw_lines)
    else:
        state = _LineState(source, max_chars)
    tail = b""
    while True:
        data = read(block_bytes)
        at_end = not data
        short = len(data) < block_bytes  # a pipe's or terminal's read: perhaps all there is for now
        if tail:
            data = tail + data
        cut = data.rfind(b"\n") + 1
        tail = data[cut:]
        if cut:
            yield from state.chunk(data[:cut], newline=True)
            if short and not at_end and _paused(stream):
                yield LineBlock(source, [], [], [], [], pause=True)
        if at_end:
            if tail:  # the last line, without a line break
                yield from state.chunk(tail, newline=False)
            return
        if len(tail) > state.limit:  # a line longer than the limit so far: skip to its end
            problem, tail = _skip_long_line(read, tail, state, block_bytes)
            yield problem
            if tail is None:
                return


def _paused(stream: BinaryIO) -> bool:
    """Nothing more is waiting to be read on the stream's file descriptor right now (a regular
    file is always ready; a stream without a descriptor, or a platform without ``select`` on
    it, never counts as paused)."""
    import select

    try:
        return not select.select([stream.fileno()], [], [], 0)[0]
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return False


class _LineState:
    """Line number and offset carried across blocks, and the per-block decoding."""

    def __init__(self, source: str, max_chars: int) -> None:
        self.source, self.max_chars = source, max_chars
        self.limit = max_chars * 4 + 2  # bytes: UTF-8 needs at most 4 a character, and a \r\n
        self.number = self.offset = 0

    def chunk(self, data: bytes, newline: bool) -> Iterator[LineBlock | Problem]:
        """Lines separated by ``\\n`` (``newline``: the last one ends with one) as blocks, problems between."""
        if b"\0" not in data:
            try:
                texts = data.decode("utf-8").split("\n")
            except UnicodeDecodeError:
                texts = None
            if newline and texts is not None:
                texts.pop()
            # a line within the character limit is within the byte limit too: 4 bytes a character at most
            if texts is not None and max(map(len, texts)) <= self.max_chars:
                yield self._fast(texts, newline, b"\r" in data)
                return
        raws = data.split(b"\n")
        if newline:
            raws.pop()
        yield from self._slow(raws, newline)

    def _fast(self, texts: list[str], newline: bool, carriage_returns: bool = True) -> LineBlock:
        first = self.number + 1
        if first == 1 and texts[0].startswith("\ufeff"):
            texts[0] = texts[0][1:]
        # each line's offset: a running sum of the line lengths (with their breaks), from this one on
        offsets = list(accumulate(map(int(newline).__add__, map(len, texts)), initial=self.offset))
        self.offset = offsets.pop()
        self.number += len(texts)
        bodies = [t.rstrip("\r") for t in texts] if carriage_returns else texts
        return LineBlock(self.source, list(range(first, first + len(texts))), offsets, bodies, [])

    def _slow(self, raws: list[bytes], newline: bool) -> Iterator[LineBlock | Problem]:
        block = LineBlock(self.source, [], [], [], [])
        for raw in raws:
            problem = self._read_one(raw, newline, block)
            if problem is not None:  # the lines before it go first, so everything keeps its order
                if block.texts or block.notes:
                    yield block
                    block = LineBlock(self.source, [], [], [], [])
                yield problem
        if block.texts or block.notes:
            yield block

    def _read_one(self, raw: bytes, newline: bool, block: LineBlock) -> Problem | None:
        """Add one line (and any note on it) to ``block``, or return why it is skipped."""
        self.number += 1
        number = self.number
        size = len(raw) + newline
        if size > self.limit or (size == self.limit and not newline):
            self.offset += size
            return Problem(
                self.source, f"line {number}: over {self.max_chars:,} characters ({size:,} bytes), skipped"
            )
        if b"\0" in raw:
            self.offset += size
            return Problem(self.source, f"line {number}: binary data (NUL bytes), skipped")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = raw.decode("cp1252", errors="replace")
            block.notes.append(f"line {number}: not UTF-8 (bad byte at {exc.start}); decoded as Windows-1252")
        if number == 1 and text.startswith("\ufeff"):
            text = text[1:]
        body = text.rstrip("\r")
        offset, self.offset = self.offset, self.offset + len(text) + newline
        if len(body) > self.max_chars:
            return Problem(self.source, f"line {number}: over {self.max_chars:,} characters, skipped")
        block.numbers.append(number)
        block.offsets.append(offset)
        block.texts.append(body)
        return None


@dataclass
class RawLines:
    """Lines of a text stream still as UTF-8 bytes, found clean by the reader (no NUL byte, valid
    UTF-8, no line over the limit), with the 1-based number and character offset of the first: a
    worker decodes and splits them, so the parent only reads, checks and counts."""

    source: str
    data: bytes
    newline: bool  # the last line ends with a line break
    number: int  # lines before these
    offset: int  # characters before these
    count: int  # lines
    max_chars: int

    def __len__(self) -> int:
        return self.count

    def blocks(self) -> list[LineBlock]:
        """The lines as ``iter_lines`` gives them (the same reading code, started where these start)."""
        state = _LineState(self.source, self.max_chars)
        state.number, state.offset = self.number, self.offset
        return list(state.chunk(self.data, self.newline))

    def joined(self, other: RawLines) -> RawLines:
        """These lines and the ones right after them, as one."""
        return RawLines(
            self.source,
            self.data + other.data,
            other.newline,
            self.number,
            self.offset,
            self.count + other.count,
            self.max_chars,
        )


class _RawLineState(_LineState):
    """``iter_lines``'s chunk reader with ``raw_lines``: a clean chunk comes out as ``RawLines`` of
    at most ``lines_per_item`` lines (counted, not decoded into lines here); anything else (a NUL
    byte, a bad byte, a line that may be over the limit) is read here as without, so problems and
    notes are the same."""

    def __init__(self, source: str, max_chars: int, lines_per_item: int = 4096) -> None:
        super().__init__(source, max_chars)
        self.lines_per_item = lines_per_item

    def chunk(self, data: bytes, newline: bool) -> Iterator[LineBlock | Problem | RawLines]:
        pieces = self._clean_pieces(data, newline) if b"\0" not in data else None
        if pieces is None:
            yield from super().chunk(data, newline)
            return
        for piece, piece_newline, count, chars in pieces:
            if self.number == 0 and piece.startswith(b"\xef\xbb\xbf"):
                chars -= 1  # the reader drops a byte-order mark at the start: offsets count without it
            yield RawLines(self.source, piece, piece_newline, self.number, self.offset, count, self.max_chars)
            self.number += count
            self.offset += chars

    def _clean_pieces(self, data: bytes, newline: bool) -> list[tuple[bytes, bool, int, int]] | None:
        """(bytes, ends with a line break, lines, characters) of each piece, or None if not clean."""
        ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)  # where each \n is
        if not newline and len(ends):
            return None  # only a last line without a break comes that way
        # a line of no more bytes than the limit has no more characters either
        if len(data) > self.max_chars:
            lengths = np.diff(ends, prepend=-1) - 1 if newline else np.array([len(data)])
            if lengths.max(initial=0) > self.max_chars:
                return None
        count = len(ends) if newline else 1
        parts = -(-count // self.lines_per_item)  # even pieces of at most lines_per_item lines
        cuts = [0] + [int(ends[count * k // parts - 1]) + 1 for k in range(1, parts)] + [len(data)]
        pieces = []
        for k in range(parts):
            piece = data[cuts[k] : cuts[k + 1]]
            try:
                chars = len(piece.decode("utf-8"))
            except UnicodeDecodeError:
                return None
            lines = count * (k + 1) // parts - count * k // parts
            pieces.append((piece, newline or k < parts - 1, lines, chars))
        return pieces


def _skip_long_line(read, tail: bytes, state: _LineState, block_bytes: int) -> tuple[Problem, bytes | None]:
    """Read past a line longer than the limit; ``None`` as the rest when no line break ever came."""
    state.number += 1
    skipped = len(tail)
    while True:
        data = read(block_bytes)
        if not data:
            rest = b""
            break
        cut = data.find(b"\n")
        if cut >= 0:
            skipped += cut + 1
            rest = data[cut + 1 :]
            break
        skipped += len(data)
        if skipped > MAX_SKIP_BYTES:
            message = f"line {state.number}: no line break in {skipped:,} bytes; not text, stopped reading it"
            return Problem(state.source, message), None
    state.offset += skipped
    message = f"line {state.number}: over {state.max_chars:,} characters ({skipped:,} bytes), skipped"
    return Problem(state.source, message), rest
