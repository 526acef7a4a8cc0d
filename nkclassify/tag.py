"""Tag text with a trained model: the Python API behind ``nkclassify tag`` and ``explain``.

from nkclassify import Tagger
tagger = Tagger.load()
for record in tagger.tag(["Nine workers defected to South Korea."]):
    print(record["topics"], record["stance"], record["scores"])

Runs on the array engine: numpy only, no scikit-learn, and loading a model never trains one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from itertools import chain, repeat
from operator import add
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .engine import Engine, Explanation
from .inputs import Document, LineBlock, Problem, RawLines
from .readers import DEFAULT_OPTIONS, ReadOptions, UnreadFile, iter_documents, iter_sources
from .store import DEFAULT_MODEL_PATH

__all__ = ["Tagger", "TaggedDocument", "Explanation"]


@dataclass(eq=False)
class TaggedDocument:
    """Tagged units of one input (or of one batch of its lines), held as columns.

    Writers format straight from these arrays; ``units`` gives one dict per unit for callers that
    want records (the Python API, article summaries). ``note`` carries a reading warning.
    """

    source: str
    topic_names: Sequence[str]
    stance_names: Sequence[str]
    texts: list[str] = field(default_factory=list)
    index: list[int] = field(default_factory=list)
    start: list[int] = field(default_factory=list)
    end: list[int] = field(default_factory=list)
    topic_proba: np.ndarray | None = None  # (n, topics), rounded to 4 places
    topics: np.ndarray | None = None  # (n, topics) booleans
    stance_proba: np.ndarray | None = None  # (n, stances), rounded to 4 places
    stance: np.ndarray | None = None  # (n,) stance indices
    ids: list[str | None] | None = None  # per-unit record ids, when any unit has one
    pages: list[int | None] | None = None  # per-unit page numbers, when the input had pages
    note: str | None = None
    record_id: str | None = None
    rendered: str | None = None  # the output text, when a worker made it (then the columns are gone)
    size: int | None = None  # units, when the columns are gone

    def __len__(self) -> int:
        return len(self.texts) if self.size is None else self.size

    def as_rendered(self, text: str) -> TaggedDocument:
        """A light copy carrying ``text`` instead of the columns (what crosses back from a worker)."""
        return TaggedDocument(
            self.source,
            self.topic_names,
            self.stance_names,
            note=self.note,
            record_id=self.record_id,
            rendered=text,
            size=len(self),
        )

    def labels(self) -> list[dict[str, Any]]:
        """Per unit: text, topics, stance and the rounded probabilities (what ``Tagger.tag`` returns)."""
        if not self.texts:
            return []
        topic_names, stance_names = list(self.topic_names), list(self.stance_names)
        topic_p, stance_p = self.topic_proba.tolist(), self.stance_proba.tolist()
        chosen, stance = self.topics.tolist(), self.stance.tolist()
        return [
            {
                "text": text,
                "topics": [n for n, on in zip(topic_names, chosen[i]) if on],
                "stance": stance_names[stance[i]],
                "scores": {
                    "topics": dict(zip(topic_names, topic_p[i])),
                    "stance": dict(zip(stance_names, stance_p[i])),
                },
            }
            for i, text in enumerate(self.texts)
        ]

    @cached_property
    def units(self) -> list[dict[str, Any]]:
        """One record per unit: source, id, index, start, end, page, then ``labels()``."""
        ids = self.ids or repeat(None)
        pages = self.pages or repeat(None)
        records = []
        for i, (labels, record_id, page) in enumerate(zip(self.labels(), ids, pages)):
            unit: dict[str, Any] = {"source": self.source}
            if record_id is not None:
                unit["id"] = record_id
            unit.update(index=self.index[i], start=self.start[i], end=self.end[i])
            if page is not None:
                unit["page"] = page
            unit.update(labels)
            records.append(unit)
        return records


class Tagger:
    """A loaded model plus the label names it predicts."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.topic_names = engine.topic_names
        self.stance_names = engine.stance_names
        self.card = engine.card
        # units per engine call: big enough that numpy's per-call costs vanish, small enough that
        # the call's arrays stay a few tens of MB (a vector block adds a (units, dim) sum per call)
        self.batch_units = 2048 if engine.dense else 4096

    @classmethod
    def load(cls, path: Path | str | None = None) -> Tagger:
        """Load a model file (default: the one shipped in the package) and verify it."""
        return cls(Engine.load(DEFAULT_MODEL_PATH if path is None else Path(path)))

    def predict_records(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        """Topics, stance and rounded probabilities for each text (no source or index)."""
        texts = list(texts)
        n = len(texts)
        [document] = self._tagged([_Piece("-", texts, list(range(n)), [0] * n, [len(t) for t in texts])])
        return document.labels()

    def tag(self, texts: Iterable[str] | str) -> list[dict[str, Any]]:
        """Tag each text as one unit (a string is one unit)."""
        return self.predict_records([texts] if isinstance(texts, str) else list(texts))

    def tag_article(self, text: str) -> list[dict[str, Any]]:
        """Split an article into sentences and tag each, with offsets."""
        return next(self.tag_documents([Document("-", text)])).units

    def tag_inputs(
        self,
        paths: Sequence[str],
        stdin: BinaryIO | None,
        lines: bool = False,
        batch_units: int | None = None,  # None: the tagger's own (``batch_units``)
        options: ReadOptions = DEFAULT_OPTIONS,
        jobs: int = 1,  # 0: every core available
        render: Callable[[TaggedDocument], str] | None = None,
    ) -> Iterator[TaggedDocument | Problem]:
        """Tag what a user named: files, folders, or ``-``/nothing for standard input.

        Whole articles are split into sentences; with ``lines`` every input streams line by line in
        batches (memory stays flat however long the input), each non-blank line one unit whose
        ``index`` is its 0-based line number, so a skipped line leaves a visible gap.

        ``render``, when given, turns each tagged document into its output text inside the worker
        processes (``jobs`` > 1): the document comes back as ``rendered`` text without its arrays,
        so the formatting is shared out too and less crosses between processes.
        """
        sources = list(paths) or ["-"]
        batch_units = batch_units or self.batch_units
        if jobs == 0:  # all the cores this process may use
            jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        if not hasattr(os, "fork"):  # workers are forked with the loaded model; without fork, one process
            jobs = 1
        if lines:
            # with workers, clean UTF-8 travels to them as bytes: they decode and split it themselves
            items = iter_sources(sources, stdin, options, raw_lines=batch_units if jobs > 1 else 0)
        else:  # with workers, they read the files too: the parent only walks the folders
            items = iter_documents(sources, stdin, options, read_files=jobs == 1)
        if jobs > 1:
            return self._in_parallel(items, lines, batch_units, jobs, render)
        if lines:
            return self.tag_lines(items, batch_units)
        return self.tag_documents(items, batch_units)

    def _in_parallel(
        self,
        items: Iterable,
        lines: bool,
        batch_units: int,
        jobs: int,
        render: Callable[[TaggedDocument], str] | None = None,
    ) -> Iterator[TaggedDocument | Problem]:
        """Tag batches in worker processes (``workers.Workers``); results come back in input order.

        Workers are forked with the loaded model (no reload), and only ``2 x jobs`` batches are out
        at once, so memory stays bounded however long the input. Closing this iterator (or leaving
        it unfinished to the garbage collector) ends and reaps the workers.
        """
        from .workers import Workers

        work = partial(_work, self, lines, batch_units, render)  # forked, not pickled: any callable
        chunks = _chunks(items, batch_units, lines)
        first = next(chunks, None)
        if first and _ends_in_pause(first):  # a live feed (a pipe that waits): tag it here as it comes
            yield from work(first)
            for chunk in chunks:
                yield from work(chunk)
            return
        second = next(chunks, None)
        if second is None:  # one batch: no process is worth starting
            yield from work(first) if first else ()
            return
        with Workers(work, jobs) as workers:
            for results in workers.map(chain([first, second], chunks), drain=_ends_in_pause):
                yield from results

    def _tagged(self, pieces: list[_Piece]) -> Iterator[TaggedDocument]:
        """Predict every piece's units in one engine call, then hand each piece its rows."""
        texts = [t for piece in pieces for t in piece.texts]
        if texts:
            topic_proba, topics, stance_proba, stance = self.engine.predict(texts)
            topic_proba, stance_proba = np.round(topic_proba, 4), np.round(stance_proba, 4)
        at = 0
        for piece in pieces:
            n = len(piece.texts)
            rows = slice(at, at + n)
            at += n
            yield TaggedDocument(
                piece.source,
                self.topic_names,
                self.stance_names,
                piece.texts,
                piece.index,
                piece.start,
                piece.end,
                topic_proba[rows] if n else None,
                topics[rows] if n else None,
                stance_proba[rows] if n else None,
                stance[rows] if n else None,
                piece.ids,
                piece.pages,
                piece.note,
                piece.record_id,
            )

    def tag_lines(
        self, items: Iterable[LineBlock | Problem], batch_units: int | None = None
    ) -> Iterator[TaggedDocument | Problem]:
        """Tag a stream of line blocks in batches; problems and notes keep their place.

        Blank lines are skipped; a unit's ``index`` is its 0-based input line number, and its offsets
        leave out the line's surrounding white space.
        """
        batch_units = batch_units or self.batch_units
        pending: list[_Piece] = []
        count = 0
        for item in items:
            # what came before a problem or a note is given first; a pause (the input waits) tags
            # what came now rather than hold it for a full batch
            if isinstance(item, Problem) or item.pause or item.notes:
                yield from self._tagged(pending)
                pending, count = [], 0
            if isinstance(item, Problem):
                yield item
                continue
            if item.pause:
                continue
            for note in item.notes:
                yield TaggedDocument(item.source, self.topic_names, self.stance_names, note=note)
            piece = _line_piece(item)
            while len(piece.texts):
                room = batch_units - count
                head, piece = piece.split(room)
                pending.append(head)
                count += len(head.texts)
                if count >= batch_units:
                    yield from self._tagged(pending)
                    pending, count = [], 0
        yield from self._tagged(pending)

    def tag_documents(
        self, documents: Iterable[Document | Problem], batch_units: int | None = None
    ) -> Iterator[TaggedDocument | Problem]:
        """Tag whole articles in order, predicting in batches across articles for speed."""
        from .segment import split_sentences  # syntok: only whole articles need it

        batch_units = batch_units or self.batch_units
        pending: list[_Piece | Problem] = []
        count = 0

        def flush() -> Iterator[TaggedDocument | Problem]:
            tagged = self._tagged([p for p in pending if not isinstance(p, Problem)])
            for item in pending:
                yield item if isinstance(item, Problem) else next(tagged)

        for item in documents:
            if isinstance(item, Problem):
                pending.append(item)
                continue
            units = split_sentences(item.text)
            starts = [u.start for u in units]
            pending.append(
                _Piece(
                    item.source,
                    [u.text for u in units],
                    [u.index for u in units],
                    starts,
                    [u.end for u in units],
                    [item.record_id] * len(units) if item.record_id is not None else None,
                    [item.page_of(s) for s in starts] if item.pages else None,
                    item.note,
                    item.record_id,
                )
            )
            count += len(units)
            if count >= batch_units:
                yield from flush()
                pending, count = [], 0
        yield from flush()

    def explain(self, text: str, top: int = 8) -> Explanation:
        """The features whose value x weight pushed each predicted label most."""
        return self.engine.explain(text, top)


def _work(tagger: Tagger, lines: bool, batch_units: int, render: Callable | None, chunk: list) -> list:
    """What a worker does with one batch: read what the parent left unread, tag, maybe render."""
    if lines:
        chunk = [
            block for item in chunk for block in (item.blocks() if isinstance(item, RawLines) else (item,))
        ]
    else:
        chunk = [doc for item in chunk for doc in (item.read() if isinstance(item, UnreadFile) else (item,))]
    run = tagger.tag_lines if lines else tagger.tag_documents
    results = list(run(chunk, batch_units))
    if render is None:
        return results
    return [
        item.as_rendered(render(item)) if isinstance(item, TaggedDocument) and len(item) else item
        for item in results
    ]


def _chunks(items: Iterable, batch_units: int, lines: bool) -> Iterator[list]:
    """Lines by count (blocks cut to fit, so every worker batch is ``batch_units`` lines and the
    workers share the last ones evenly); whole documents by size (about ``batch_units`` sentences'
    worth of text). Raw line bytes come cut to at most ``batch_units`` lines already: each is a
    batch of its own, or joined with the raw bytes before it while they fit (a pipe's short reads)."""
    chunk: list = []
    size, limit = 0, batch_units if lines else batch_units * 20  # about 80 kB of articles a batch
    for item in items:
        if isinstance(item, LineBlock) and item.pause:  # the input paused: what came goes now
            if chunk:
                chunk.append(item)
                yield chunk
                chunk, size = [], 0
            continue
        if isinstance(item, RawLines):
            if chunk and size + len(item) <= limit and isinstance(chunk[-1], RawLines):
                chunk[-1] = chunk[-1].joined(item)
                size += len(item)
                continue
            if chunk:
                yield chunk
            chunk, size = [item], len(item)
            continue
        while lines and isinstance(item, LineBlock) and size + len(item) > limit:
            head, item = item.split(limit - size)
            chunk.append(head)
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        if lines:
            size += len(item) if isinstance(item, LineBlock) else 1
        else:
            size += item.size if isinstance(item, UnreadFile) else len(getattr(item, "text", ""))
        if size >= limit:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _ends_in_pause(chunk: list) -> bool:
    return isinstance(chunk[-1], LineBlock) and chunk[-1].pause


@dataclass
class _Piece:
    """Units of one source waiting for the engine: columns, as ``TaggedDocument`` will hold them."""

    source: str
    texts: list[str]
    index: list[int]
    start: list[int]
    end: list[int]
    ids: list[str | None] | None = None
    pages: list[int | None] | None = None
    note: str | None = None
    record_id: str | None = None

    def split(self, n: int) -> tuple[_Piece, _Piece]:
        """The first ``n`` units and the rest."""
        if n >= len(self.texts):
            return self, _Piece(self.source, [], [], [], [])

        def cut(column):
            return (column[:n], column[n:]) if column is not None else (None, None)

        columns = [cut(c) for c in (self.texts, self.index, self.start, self.end, self.ids, self.pages)]
        head = _Piece(self.source, *(c[0] for c in columns))
        rest = _Piece(self.source, *(c[1] for c in columns))
        return head, rest


def _line_piece(block: LineBlock) -> _Piece:
    """The non-blank lines of a block, stripped, with offsets of what is kept."""
    stripped = [t.strip() for t in block.texts]
    if stripped == block.texts and all(stripped):  # the usual block: nothing to strip (same strs), no blank
        index = list(map((-1).__add__, block.numbers))
        end = list(map(add, block.offsets, map(len, block.texts)))
        return _Piece(block.source, block.texts, index, block.offsets, end, block.ids, block.pages)
    left = [t.lstrip() for t in block.texts]
    kept = [i for i, t in enumerate(left) if t]
    if len(kept) == len(left):
        texts = [t.rstrip() for t in left]
        start = [o + len(t) - len(s) for o, t, s in zip(block.offsets, block.texts, left)]
        index = [n - 1 for n in block.numbers]
    else:
        texts = [left[i].rstrip() for i in kept]
        start = [block.offsets[i] + len(block.texts[i]) - len(left[i]) for i in kept]
        index = [block.numbers[i] - 1 for i in kept]
    end = [s + len(t) for s, t in zip(start, texts)]
    ids = None if block.ids is None else [block.ids[i] for i in kept]
    pages = None if block.pages is None else [block.pages[i] for i in kept]
    return _Piece(block.source, texts, index, start, end, ids, pages)
