"""Readers for the files analysts have: plain text, saved web pages, PDF reports, CSV/TSV and JSONL.

One registry, ``READERS``: a format name -> a function that turns one file into documents (or
problems). The format comes from ``--input-format`` or the file's extension (``EXTENSIONS``).
Each reader leans on a maintained library for the hard part: trafilatura finds the article in a
web page (menus, footers and ads dropped, the title kept), pypdf takes the text off each PDF page
(page numbers are kept, so every unit can say where it came from), the ``csv`` module reads quoted
and multi-line cells. A file a reader cannot read is one ``Problem`` naming it; the other inputs
go on.

Add a format: write ``read_x(path, options) -> Iterator[Document | Problem]`` and register it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import BinaryIO

from .inputs import MAX_ARTICLE_BYTES, Document, LineBlock, Problem, RawLines, decode, expand, iter_lines

__all__ = [
    "ReadOptions",
    "DEFAULT_OPTIONS",
    "READERS",
    "EXTENSIONS",
    "reader_for",
    "read_bytes_as",
    "iter_documents",
    "iter_sources",
    "UnreadFile",
]


@dataclass(frozen=True)
class ReadOptions:
    """What the user said about the inputs: the format, and the fields of tabular records."""

    input_format: str | None = None  # None: by extension
    text_field: str | None = None
    id_field: str | None = None


DEFAULT_OPTIONS = ReadOptions()
Reader = Callable[[Path, ReadOptions], Iterator[Document | Problem]]


def _read_limited(path: Path, limit: int = MAX_ARTICLE_BYTES) -> bytes | Problem:
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        return Problem(str(path), f"cannot read ({exc.strerror or exc})")
    if len(data) > limit:
        return Problem(
            str(path), f"over {limit >> 20} MB: too large for this format; split it, or tag it line by line"
        )
    return data


def read_text(path: Path, options: ReadOptions) -> Iterator[Document | Problem]:
    data = _read_limited(path)
    yield data if isinstance(data, Problem) else decode(data, str(path))


def read_html(path: Path, options: ReadOptions) -> Iterator[Document | Problem]:
    data = _read_limited(path)
    if isinstance(data, Problem):
        yield data
        return
    yield html_document(data, str(path))


def html_document(data: bytes, source: str) -> Document | Problem:
    """The main text of a saved web page, its title as the first line."""
    import logging

    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)  # its warnings would land mid-output
    import trafilatura

    try:
        found = trafilatura.bare_extraction(
            data, with_metadata=True, favor_recall=True, include_comments=False
        )
    except Exception as exc:  # a parser can fail in many ways on a broken page
        return Problem(source, f"not a readable web page ({type(exc).__name__}: {exc})")
    text = (getattr(found, "text", None) or "").strip() if found is not None else ""
    if not text:
        return Problem(source, "no article text found in the web page")
    title = (getattr(found, "title", None) or "").strip()
    if title and not text.startswith(title):
        text = f"{title}\n\n{text}"
    return Document(source, text + "\n")


def read_pdf(path: Path, options: ReadOptions) -> Iterator[Document | Problem]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            yield Problem(str(path), "encrypted PDF: cannot read its text")
            return
        pages, starts, offset = [], [], 0
        for page in reader.pages:
            text = (page.extract_text() or "").strip()
            starts.append(offset)
            pages.append(text)
            offset += len(text) + 2
    except (PdfReadError, OSError, ValueError, KeyError, TypeError) as exc:
        yield Problem(str(path), f"not a readable PDF ({type(exc).__name__}: {exc})")
        return
    text = "\n\n".join(pages)
    if not text.strip():
        yield Problem(str(path), "the PDF has no text layer (a scan?); nothing to tag")
        return
    yield Document(str(path), text, pages=tuple(starts))


def _records(
    path: Path, options: ReadOptions, rows: Iterator[dict], kind: str
) -> Iterator[Document | Problem]:
    if not options.text_field:
        yield Problem(
            str(path), f"{kind} input needs the name of its text field (the column or key with the text)"
        )
        return
    for number, row in enumerate(rows, start=1):
        if isinstance(row, Problem):
            yield row
            continue
        if options.text_field not in row:
            columns = ", ".join(map(str, row)) or "none"
            yield Problem(str(path), f"no field {options.text_field!r} (fields: {columns})")
            return
        record_id = str(row.get(options.id_field, "")) if options.id_field else str(number)
        if options.id_field and options.id_field not in row:
            yield Problem(str(path), f"record {number}: no field {options.id_field!r}, skipped")
            continue
        text = row[options.text_field]
        if not isinstance(text, str) or not text.strip():
            yield Problem(
                str(path),
                f"record {number} (id {record_id}): empty or non-text {options.text_field!r}, skipped",
            )
            continue
        yield Document(
            str(path), text.replace("\r\n", "\n").replace("\r", "\n"), record_id=record_id, ordinal=number
        )


def _text_of(path: Path) -> str | Problem:
    data = _read_limited(path, 1 << 30)
    if isinstance(data, Problem):
        return data
    decoded = decode(data, str(path))
    return decoded if isinstance(decoded, Problem) else decoded.text


def _read_delimited(
    path: Path, options: ReadOptions, delimiter: str, kind: str
) -> Iterator[Document | Problem]:
    text = _text_of(path)
    if isinstance(text, Problem):
        yield text
        return

    def rows() -> Iterator[dict]:
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            yield from reader
        except csv.Error as exc:
            yield Problem(str(path), f"malformed {kind} near line {reader.line_num} ({exc})")

    yield from _records(path, options, rows(), kind)


def read_csv(path: Path, options: ReadOptions) -> Iterator[Document | Problem]:
    yield from _read_delimited(path, options, ",", "CSV")


def read_tsv(path: Path, options: ReadOptions) -> Iterator[Document | Problem]:
    yield from _read_delimited(path, options, "\t", "TSV")


def read_jsonl(path: Path, options: ReadOptions) -> Iterator[Document | Problem]:
    text = _text_of(path)
    if isinstance(text, Problem):
        yield text
        return

    def rows() -> Iterator[dict]:
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Problem(str(path), f"line {number}: malformed JSON ({exc.msg}), skipped")
                continue
            if not isinstance(row, dict):
                yield Problem(str(path), f"line {number}: not a JSON object, skipped")
                continue
            yield row

    yield from _records(path, options, rows(), "JSONL")


READERS: dict[str, Reader] = {
    "text": read_text,
    "html": read_html,
    "pdf": read_pdf,
    "csv": read_csv,
    "tsv": read_tsv,
    "jsonl": read_jsonl,
}
EXTENSIONS: dict[str, str] = {
    ".txt": "text",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".pdf": "pdf",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


def reader_for(path: Path, options: ReadOptions) -> tuple[str, Reader]:
    """The format name and reader for a file: ``--input-format`` first, else its extension, else text."""
    name = options.input_format or EXTENSIONS.get(path.suffix.lower(), "text")
    return name, READERS[name]


def read_bytes_as(data: bytes, source: str, options: ReadOptions) -> Iterator[Document | Problem]:
    """Standard input in the format the user named (text by default)."""
    name = options.input_format or "text"
    if name == "text":
        yield decode(data, source)
        return
    if name == "html":
        yield html_document(data, source)
        return
    import tempfile

    with tempfile.TemporaryDirectory() as folder:  # the other readers work on files
        path = Path(folder) / f"stdin.{name}"
        path.write_bytes(data)
        for item in READERS[name](path, options):
            if isinstance(item, Problem):
                yield Problem(source, item.message)
            else:
                yield Document(source, item.text, item.note, item.record_id, item.pages, item.ordinal)


def _suffixes(options: ReadOptions) -> frozenset[str]:
    if options.input_format is None:
        return frozenset(EXTENSIONS)
    return frozenset(ext for ext, name in EXTENSIONS.items() if name == options.input_format)


def iter_documents(
    paths: list[str],
    stdin: BinaryIO | None = None,
    options: ReadOptions = DEFAULT_OPTIONS,
    read_files: bool = True,
) -> Iterator[Document | Problem | UnreadFile]:
    """Whole documents in the order given (folders sorted); ``-`` or no path reads ``stdin``.

    Inputs are never read whole beyond a per-format cap, so memory stays bounded; a long text is
    tagged line by line with ``--lines``. Without ``read_files`` each file comes as an
    ``UnreadFile`` (standard input is still read here, as it must be).
    """
    for path_text in paths or ["-"]:
        if path_text == "-":
            if stdin is None:
                yield Problem("-", "standard input is not available")
                continue
            data = stdin.read(MAX_ARTICLE_BYTES + 1)
            if len(data) > MAX_ARTICLE_BYTES:
                yield Problem(
                    "-", f"over {MAX_ARTICLE_BYTES >> 20} MB: too large for one article; tag it line by line"
                )
                continue
            yield from read_bytes_as(data, "-", options)
            continue
        for item in expand(path_text, _suffixes(options)):
            if isinstance(item, Problem):
                yield item
            elif not read_files:
                yield UnreadFile(item, options, _size(item))
            else:
                yield from reader_for(item, options)[1](item, options)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # the reader will say why
        return 0


@dataclass
class UnreadFile:
    """A file ``iter_documents`` left unread (``read_files=False``): read by whoever tags it (a
    ``--jobs`` worker), so the process that walks the folders does not read them too."""

    path: Path
    options: ReadOptions
    size: int  # bytes, to share the files out in batches of about equal text

    def read(self) -> list[Document | Problem]:
        """What ``iter_documents`` gives for this file."""
        return list(reader_for(self.path, self.options)[1](self.path, self.options))


def _document_lines(document: Document) -> LineBlock:
    """A document as one block of lines; a record (CSV/JSONL) is one unit, numbered by its place in the file."""
    notes = [document.note] if document.note else []
    if document.record_id is not None:  # inner line breaks of a record are folded
        text = " ".join(document.text.split())
        return LineBlock(document.source, [document.ordinal or 1], [0], [text], notes, [document.record_id])
    texts = document.text.split("\n")
    offsets = list(accumulate((len(t) + 1 for t in texts[:-1]), initial=0))
    pages = [document.page_of(o) for o in offsets] if document.pages else None
    return LineBlock(document.source, list(range(1, len(texts) + 1)), offsets, texts, notes, None, pages)


def _as_lines(documents: Iterator[Document | Problem]) -> Iterator[LineBlock | Problem]:
    for document in documents:
        yield document if isinstance(document, Problem) else _document_lines(document)


def iter_sources(
    paths: list[str],
    stdin: BinaryIO | None = None,
    options: ReadOptions = DEFAULT_OPTIONS,
    raw_lines: int = 0,
) -> Iterator[LineBlock | Problem | RawLines]:
    """``--lines`` mode: every line of every input; plain text streams (files and stdin alike).

    ``raw_lines`` goes to ``iter_lines`` for the plain text streams (see there)."""
    for path_text in paths or ["-"]:
        if path_text == "-":
            if stdin is None:
                yield Problem("-", "standard input is not available")
            elif (options.input_format or "text") == "text":
                yield from iter_lines(stdin, "-", raw_lines=raw_lines)
            else:
                yield from _as_lines(read_bytes_as(stdin.read(MAX_ARTICLE_BYTES + 1), "-", options))
            continue
        for item in expand(path_text, _suffixes(options)):
            if isinstance(item, Problem):
                yield item
                continue
            name, reader = reader_for(item, options)
            if name == "text":
                try:
                    handle = open(item, "rb")  # noqa: SIM115 - an open error is reported apart from reading
                except OSError as exc:
                    yield Problem(str(item), f"cannot read ({exc.strerror or exc})")
                    continue
                with handle:
                    yield from iter_lines(handle, str(item), raw_lines=raw_lines)
                continue
            yield from _as_lines(reader(item, options))
