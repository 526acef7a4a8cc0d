"""Tag text with a trained model: the Python API behind ``nkclassify tag`` and ``explain``.

from nkclassify import Tagger
tagger = Tagger.load()
for record in tagger.tag(["Nine workers defected to South Korea."]):
    print(record["topics"], record["stance"], record["scores"])

Runs on the array engine: numpy only, no scikit-learn, and loading a model never trains one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .engine import Engine, Explanation
from .inputs import Document, Line, Problem
from .readers import DEFAULT_OPTIONS, ReadOptions, iter_documents, iter_sources
from .store import DEFAULT_MODEL_PATH

__all__ = ["Tagger", "TaggedDocument", "Explanation"]


@dataclass
class TaggedDocument:
    """Tagged units of one input (or of one batch of its lines); ``note`` carries a reading warning."""

    source: str
    units: list[dict[str, Any]]
    note: str | None = None
    record_id: str | None = None


class Tagger:
    """A loaded model plus the label names it predicts."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.topic_names = engine.topic_names
        self.stance_names = engine.stance_names
        self.card = engine.card

    @classmethod
    def load(cls, path: Path | str | None = None) -> Tagger:
        """Load a model file (default: the one shipped in the package) and verify it."""
        return cls(Engine.load(DEFAULT_MODEL_PATH if path is None else Path(path)))

    def predict_records(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        """Topics, stance and rounded probabilities for each text (no source or index)."""
        if not texts:
            return []
        topic_proba, topics, stance_proba, stance = self.engine.predict(list(texts))
        # Rounded and converted in bulk: per-value Python calls would cost more than the model.
        topic_p = np.round(topic_proba, 4).tolist()
        stance_p = np.round(stance_proba, 4).tolist()
        chosen = topics.tolist()
        stance = stance.tolist()
        topic_names, stance_names = self.topic_names, self.stance_names
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
            for i, text in enumerate(texts)
        ]

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
        batch_units: int = 4096,
        options: ReadOptions = DEFAULT_OPTIONS,
        jobs: int = 1,  # 0: every core available
    ) -> Iterator[TaggedDocument | Problem]:
        """Tag what a user named: files, folders, or ``-``/nothing for standard input.

        Whole articles are split into sentences; with ``lines`` every input streams line by line in
        batches (memory stays flat however long the input), each non-blank line one unit whose
        ``index`` is its 0-based line number, so a skipped line leaves a visible gap.
        """
        sources = list(paths) or ["-"]
        items = iter_sources(sources, stdin, options) if lines else iter_documents(sources, stdin, options)
        if jobs == 0:  # all the cores this process may use
            jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        if jobs > 1:
            return self._in_parallel(items, lines, batch_units, jobs)
        if lines:
            return self.tag_lines(items, batch_units)
        return self.tag_documents(items, batch_units)

    def _in_parallel(
        self, items: Iterable, lines: bool, batch_units: int, jobs: int
    ) -> Iterator[TaggedDocument | Problem]:
        """Tag batches in worker processes; results come back in input order, a few batches ahead at most.

        Workers are forked with the loaded model (no reload), and only ``2 x jobs`` batches are in
        flight, so memory stays bounded however long the input.
        """
        import itertools
        import multiprocessing as mp
        from collections import deque

        global _WORKER
        _WORKER = (self, lines, batch_units)
        chunks = _chunks(items, batch_units, lines)
        first = next(chunks, None)
        second = next(chunks, None)
        if second is None:  # one batch: no process is worth starting
            yield from _work(first) if first else ()
            return
        context = mp.get_context("fork")
        with context.Pool(jobs) as pool:
            pending: deque = deque()
            for chunk in itertools.chain([first, second], chunks):
                pending.append(pool.apply_async(_work, (chunk,)))
                if len(pending) >= 2 * jobs:
                    yield from pending.popleft().get()
            while pending:
                yield from pending.popleft().get()

    def tag_lines(
        self, items: Iterable[Line | Problem], batch_units: int = 4096
    ) -> Iterator[TaggedDocument | Problem]:
        """Tag a stream of lines in batches; problems and notes pass through in input order."""
        batch: list[Line] = []

        def flush() -> Iterator[TaggedDocument]:
            records = self.predict_records([line.text.strip() for line in batch])
            current: list[dict[str, Any]] = []
            source = batch[0].source
            for line, record in zip(batch, records):
                if line.source != source:
                    yield TaggedDocument(source, current)
                    source, current = line.source, []
                lead = len(line.text) - len(line.text.lstrip())
                start = line.offset + lead
                unit: dict[str, Any] = {"source": line.source}
                if line.record_id is not None:
                    unit["id"] = line.record_id
                unit.update(index=line.number - 1, start=start, end=start + len(record["text"]))
                if line.page is not None:
                    unit["page"] = line.page
                current.append({**unit, **record})
            yield TaggedDocument(source, current)

        for item in items:
            if isinstance(item, Problem) or item.note:
                if batch:
                    yield from flush()
                    batch = []
                if isinstance(item, Problem):
                    yield item
                    continue
                yield TaggedDocument(item.source, [], item.note)
            if not item.text.strip():
                continue
            batch.append(item)
            if len(batch) >= batch_units:
                yield from flush()
                batch = []
        if batch:
            yield from flush()

    def tag_documents(
        self, documents: Iterable[Document | Problem], batch_units: int = 4096
    ) -> Iterator[TaggedDocument | Problem]:
        """Tag whole articles in order, predicting in batches across articles for speed."""
        from .segment import split_sentences  # syntok: only whole articles need it

        pending: list[tuple[Document | Problem, list]] = []
        count = 0

        def flush() -> Iterator[TaggedDocument | Problem]:
            records = iter(self.predict_records([u.text for item, units in pending for u in units]))
            for item, units in pending:
                if isinstance(item, Problem):
                    yield item
                    continue
                tagged = []
                for u in units:
                    unit: dict[str, Any] = {"source": item.source}
                    if item.record_id is not None:
                        unit["id"] = item.record_id
                    unit.update(index=u.index, start=u.start, end=u.end)
                    if item.pages:
                        unit["page"] = item.page_of(u.start)
                    tagged.append({**unit, **next(records)})
                yield TaggedDocument(item.source, tagged, item.note, item.record_id)

        for item in documents:
            units = [] if isinstance(item, Problem) else split_sentences(item.text)
            pending.append((item, units))
            count += len(units)
            if count >= batch_units:
                yield from flush()
                pending, count = [], 0
        yield from flush()

    def explain(self, text: str, top: int = 8) -> Explanation:
        """The features whose value x weight pushed each predicted label most."""
        return self.engine.explain(text, top)


_WORKER: tuple[Tagger, bool, int] | None = None  # set in the parent just before the workers fork


def _work(chunk: list) -> list:
    tagger, lines, batch_units = _WORKER
    run = tagger.tag_lines if lines else tagger.tag_documents
    return list(run(chunk, batch_units))


def _chunks(items: Iterable, batch_units: int, lines: bool) -> Iterator[list]:
    """Lines by count; whole documents by size (about ``batch_units`` sentences' worth of text)."""
    chunk: list = []
    size, limit = 0, batch_units if lines else batch_units * 20  # about 80 kB of articles a batch
    for item in items:
        chunk.append(item)
        size += 1 if lines else len(getattr(item, "text", ""))
        if size >= limit:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk
