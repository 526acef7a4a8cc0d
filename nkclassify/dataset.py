"""Articles + label files -> validated units -> a Hugging Face ``datasets.Dataset``.

Layout: ``labels/schema.json`` says which sources exist and where their articles live
(``"seed": "seeds"``); the labels of article ``seeds/NAME.txt`` are in ``labels/seed/NAME.jsonl``,
one JSON object a line, one line a unit, in article order. Every error names file:line.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import LabelError
from .fileio import atomic_write, atomic_write_text, sha256_files
from .schema import Schema, load_schema
from .segment import split_sentences

if TYPE_CHECKING:  # datasets costs about a second to import: only the functions that need it do
    import datasets

__all__ = [
    "LabelledUnit",
    "Corpus",
    "DEFAULT_LABELS_DIR",
    "load_corpus",
    "validate",
    "build_dataset",
    "export",
    "label_counts",
    "scaffold",
    "apply_corrections",
    "LabelMatrix",
    "label_matrix",
    "event_groups",
]

DEFAULT_LABELS_DIR = Path(__file__).resolve().parent.parent / "labels"
_REQUIRED = {"index": int, "start": int, "end": int, "text": str}
_ALLOWED = set(_REQUIRED) | {"topics", "stance", "note"}


@dataclass(frozen=True)
class LabelledUnit:
    """One hand-labelled unit of one article."""

    doc: str
    source: str
    index: int
    start: int
    end: int
    text: str
    topics: tuple[str, ...]
    stance: str

    def to_record(self) -> dict[str, Any]:
        return {
            "doc": self.doc,
            "source": self.source,
            "index": self.index,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "topics": list(self.topics),
            "stance": self.stance,
        }


@dataclass(frozen=True)
class Corpus:
    """Every validated unit, the schema they follow, and a hash of the files they came from."""

    schema: Schema
    units: list[LabelledUnit]
    data_hash: str
    articles: dict[str, dict[str, Any]] = field(default_factory=dict)  # doc -> events, composite, ...

    @property
    def docs(self) -> list[str]:
        return sorted({u.doc for u in self.units})


def _article_dir(labels_dir: Path, schema: Schema, source: str) -> Path:
    return labels_dir.parent / schema.sources[source]


def _label_dir(labels_dir: Path, source: str) -> Path:
    return labels_dir / source


def _read_article(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LabelError(f"{path}: article is not UTF-8 ({exc.reason} at byte {exc.start})") from None


def _check_line(
    raw: str, where: str, article: str, schema: Schema, seen: dict[tuple[int, int], str]
) -> tuple[int, int, int, str, tuple[str, ...], str]:
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise LabelError(f"{where}: malformed JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise LabelError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    unknown = sorted(set(obj) - _ALLOWED)
    if unknown:
        raise LabelError(f"{where}: unknown key(s) {', '.join(unknown)}")
    for key, kind in _REQUIRED.items():
        if not isinstance(obj.get(key), kind) or isinstance(obj.get(key), bool):
            raise LabelError(f"{where}: '{key}' must be {kind.__name__}, got {obj.get(key)!r}")
    start, end, text = obj["start"], obj["end"], obj["text"]
    if not 0 <= start < end <= len(article) or article[start:end] != text:
        raise LabelError(f"{where}: offsets {start}-{end} do not match the article text {text[:40]!r}")
    span = (start, end)
    if span in seen:
        raise LabelError(f"{where}: duplicate unit (same span as {seen[span]})")
    seen[span] = where
    topics, stance = obj.get("topics"), obj.get("stance")
    if topics is None or stance is None:
        raise LabelError(f"{where}: unit not labelled yet (topics and stance are required)")
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise LabelError(f"{where}: 'topics' must be a list of topic names")
    for topic in topics:
        if topic not in schema.topics:
            raise LabelError(f"{where}: unknown topic {topic!r} (known: {', '.join(schema.topics)})")
    if len(set(topics)) != len(topics):
        raise LabelError(f"{where}: a topic is listed twice")
    if stance not in schema.stances:
        raise LabelError(f"{where}: unknown stance {stance!r} (known: {', '.join(schema.stances)})")
    ordered = tuple(t for t in schema.topics if t in topics)
    return obj["index"], start, end, text, ordered, stance


def _read_label_file(
    path: Path, article: str, schema: Schema, source: str, errors: list[str]
) -> list[LabelledUnit]:
    units: list[LabelledUnit] = []
    seen: dict[tuple[int, int], str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        errors.append(f"{path}:1: label file is not UTF-8")
        return units
    position = 0  # every non-blank line is one unit, valid or not, so one bad line gives one error
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        where = f"{path}:{number}"
        position += 1
        try:
            index, start, end, text, topics, stance = _check_line(raw, where, article, schema, seen)
        except LabelError as exc:
            errors.append(str(exc))
            continue
        if index != position - 1:
            errors.append(f"{where}: index {index} out of order (expected {position - 1})")
        units.append(LabelledUnit(path.stem, source, index, start, end, text, topics, stance))
    expected = split_sentences(article)
    labelled = set(seen)
    for unit in expected:
        if (unit.start, unit.end) not in labelled:
            errors.append(
                f"{path}:{len(lines) + 1}: article unit {unit.index} "
                f"(chars {unit.start}-{unit.end}, {unit.text[:40]!r}) has no label"
            )
    made = {(u.start, u.end) for u in expected}
    for number, unit in enumerate(units, start=1):
        if (unit.start, unit.end) not in made:
            errors.append(f"{path}:{number}: span {unit.start}-{unit.end} is not a unit the splitter cuts")
    return units


def _iter_pairs(labels_dir: Path, schema: Schema, errors: list[str]) -> Iterator[tuple[str, Path, Path]]:
    for source in schema.sources:
        article_dir = _article_dir(labels_dir, schema, source)
        label_dir = _label_dir(labels_dir, source)
        articles = {p.stem: p for p in sorted(article_dir.glob("*.txt"))}
        labels = {p.stem: p for p in sorted(label_dir.glob("*.jsonl"))}
        for stem in sorted(set(articles) - set(labels)):
            errors.append(f"{articles[stem]}:1: article has no label file {label_dir / (stem + '.jsonl')}")
        for stem in sorted(labels):
            if stem not in articles:
                errors.append(f"{labels[stem]}:1: article {article_dir / (stem + '.txt')} not found")
                continue
            yield source, articles[stem], labels[stem]


def _collect(labels_dir: Path) -> tuple[Schema, list[LabelledUnit], list[str], list[Path]]:
    labels_dir = Path(labels_dir)
    schema = load_schema(labels_dir)
    errors: list[str] = []
    units: list[LabelledUnit] = []
    files: list[Path] = [labels_dir / "schema.json"]
    docs: dict[str, Path] = {}
    for source, article_path, label_path in _iter_pairs(labels_dir, schema, errors):
        if label_path.stem in docs:
            errors.append(f"{label_path}:1: article name also used by {docs[label_path.stem]}")
            continue
        docs[label_path.stem] = label_path
        try:
            article = _read_article(article_path)
        except LabelError as exc:
            errors.append(str(exc))
            continue
        files += [article_path, label_path]
        units += _read_label_file(label_path, article, schema, source, errors)
    return schema, units, errors, files


ARTICLES_FILE = "articles.jsonl"
_ARTICLE_KEYS = {"doc": str, "events": list, "facts": list, "composite": bool, "kind": str}


def _read_articles(labels_dir: Path, docs: set[str], errors: list[str]) -> dict[str, dict[str, Any]]:
    """``labels/articles.jsonl``: per article, the real-world events it tells and whether it is a composite.

    Optional; when present it must describe every article, since event-grouped evaluation relies on it.
    """
    path = labels_dir / ARTICLES_FILE
    if not path.exists():
        return {}
    articles: dict[str, dict[str, Any]] = {}
    number = 0
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        where = f"{path}:{number}"
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            errors.append(f"{where}: malformed JSON ({exc.msg} at column {exc.colno})")
            continue
        if (
            not isinstance(obj, dict)
            or set(obj) - set(_ARTICLE_KEYS)
            or "doc" not in obj
            or "events" not in obj
        ):
            errors.append(f"{where}: expected an object with doc, events (and facts, composite, kind)")
            continue
        bad = [k for k, kind in _ARTICLE_KEYS.items() if k in obj and not isinstance(obj[k], kind)]
        if bad or not obj["events"] or not all(isinstance(e, str) and e for e in obj["events"]):
            errors.append(
                f"{where}: {', '.join(bad) or 'events'} has the wrong type (events: non-empty list of ids)"
            )
            continue
        if obj["doc"] not in docs:
            errors.append(f"{where}: article {obj['doc']!r} has no label file")
        elif obj["doc"] in articles:
            errors.append(f"{where}: article {obj['doc']!r} listed twice")
        articles[obj["doc"]] = obj
    for doc in sorted(docs - set(articles)):
        errors.append(f"{path}:{number + 1}: article {doc!r} has no events line")
    return articles


def validate(labels_dir: Path = DEFAULT_LABELS_DIR) -> tuple[Corpus | None, list[str]]:
    """Check every label file; return the corpus (``None`` on any error) and all the errors."""
    schema, units, errors, files = _collect(Path(labels_dir))
    if not units and not errors:
        errors.append(f"{labels_dir}: no labelled units found")
    articles = _read_articles(Path(labels_dir), {u.doc for u in units}, errors)
    if articles:
        files.append(Path(labels_dir) / ARTICLES_FILE)
    if errors:
        return None, errors
    return Corpus(schema, units, sha256_files(files, Path(labels_dir).parent), articles), []


def load_corpus(labels_dir: Path = DEFAULT_LABELS_DIR) -> Corpus:
    """Load and validate the labelled data, raising ``LabelError`` with the first problem."""
    corpus, errors = validate(labels_dir)
    if corpus is None:
        more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
        raise LabelError(errors[0] + more)
    return corpus


def build_dataset(corpus: Corpus) -> datasets.Dataset:
    """The corpus as a ``datasets.Dataset``: topics multi-label, stance a ClassLabel, doc the group."""
    import datasets

    features = datasets.Features(
        {
            "doc": datasets.Value("string"),
            "source": datasets.ClassLabel(names=list(corpus.schema.sources)),
            "index": datasets.Value("int32"),
            "start": datasets.Value("int32"),
            "end": datasets.Value("int32"),
            "text": datasets.Value("string"),
            "topics": datasets.List(datasets.ClassLabel(names=corpus.schema.topic_names)),
            "stance": datasets.ClassLabel(names=corpus.schema.stance_names),
        }
    )
    return datasets.Dataset.from_list([u.to_record() for u in corpus.units], features=features)


def export(corpus: Corpus, fmt: str, out: Path | None) -> str | None:
    """Write the corpus as JSONL or Parquet to ``out`` (atomically); JSONL text when ``out`` is None."""
    if fmt == "jsonl":
        text = "".join(json.dumps(u.to_record(), ensure_ascii=False) + "\n" for u in corpus.units)
        if out is None:
            return text
        atomic_write_text(out, text)
        return None
    if fmt == "parquet":
        if out is None:
            raise LabelError("parquet export needs an output file (it is a binary format)")
        dataset = build_dataset(corpus)
        atomic_write(out, lambda tmp: dataset.to_parquet(str(tmp)))
        return None
    raise LabelError(f"unknown export format {fmt!r} (use jsonl or parquet)")


@dataclass(frozen=True)
class LabelMatrix:
    """The corpus as arrays: texts, a topic indicator matrix, stance indices, article groups."""

    texts: list[str]
    topics: np.ndarray  # (n, n_topics) int
    stance: np.ndarray  # (n,) int
    groups: np.ndarray  # (n,) article name
    sources: np.ndarray  # (n,) source name
    topic_names: list[str]
    stance_names: list[str]
    events: np.ndarray | None = None  # (n,) event group: articles linked by a shared event
    polar: tuple[str, ...] = ("favor", "against")

    @property
    def neutral(self) -> int:
        """Index of the stance that is not polar ("none"): what the keyword baseline always says."""
        return next(i for i, s in enumerate(self.stance_names) if s not in self.polar)

    @property
    def Y(self) -> np.ndarray:
        """Topic indicators and the stance index side by side: the estimator's ``Y``."""
        return np.column_stack([self.topics, self.stance])

    def group_of(self, by: str) -> np.ndarray:
        if by == "event":
            if self.events is None:
                raise LabelError("the corpus records no events (labels/articles.jsonl)")
            return self.events
        return self.groups

    def subset(self, index: np.ndarray) -> LabelMatrix:
        return LabelMatrix(
            [self.texts[i] for i in index],
            self.topics[index],
            self.stance[index],
            self.groups[index],
            self.sources[index],
            self.topic_names,
            self.stance_names,
            None if self.events is None else self.events[index],
            self.polar,
        )


def label_matrix(corpus: Corpus) -> LabelMatrix:
    """The corpus as arrays: texts, topic indicators, stance indices, article and event groups."""
    topic_names = corpus.schema.topic_names
    stance_names = corpus.schema.stance_names
    topics = np.array([[int(t in u.topics) for t in topic_names] for u in corpus.units], dtype=int)
    topics = topics.reshape(len(corpus.units), len(topic_names))
    groups = event_groups(corpus)
    return LabelMatrix(
        texts=[u.text for u in corpus.units],
        topics=topics,
        stance=np.array([stance_names.index(u.stance) for u in corpus.units], dtype=int),
        groups=np.array([u.doc for u in corpus.units]),
        sources=np.array([u.source for u in corpus.units]),
        topic_names=topic_names,
        stance_names=stance_names,
        events=None if groups is None else np.array([groups[u.doc] for u in corpus.units]),
        polar=tuple(corpus.schema.polar),
    )


def event_groups(corpus: Corpus) -> dict[str, str] | None:
    """Article -> event group: articles that share any event end up in one group (union-find).

    So a split by these groups never has one real-world event on both sides, even when an article
    tells two events and each is retold elsewhere.
    """
    if not corpus.articles:
        return None
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for doc in corpus.docs:
        events = corpus.articles.get(doc, {}).get("events") or [f"doc:{doc}"]
        for event in events:
            a, b = find("doc:" + doc), find("event:" + event)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return {doc: find("doc:" + doc) for doc in corpus.docs}


def label_counts(corpus: Corpus) -> dict[str, dict[str, int]]:
    """Units per topic, per stance, per source, and units with no topic."""
    topics = Counter(t for u in corpus.units for t in u.topics)
    stances = Counter(u.stance for u in corpus.units)
    sources = Counter(u.source for u in corpus.units)
    return {
        "topics": {t: topics[t] for t in corpus.schema.topics},
        "no topic": {"(none)": sum(1 for u in corpus.units if not u.topics)},
        "stance": {s: stances[s] for s in corpus.schema.stances},
        "source": {s: sources[s] for s in corpus.schema.sources},
        "articles": {"articles": len(corpus.docs), "units": len(corpus.units)},
    }


def scaffold(article: Path, labels_dir: Path = DEFAULT_LABELS_DIR, source: str = "written") -> Path:
    """Write (or refresh) an unlabelled label file for an article, one line per splitter unit.

    Units whose text is unchanged keep the labels they already had, so an article can be edited
    after labelling; new units get ``null`` topics and stance, which ``validate`` rejects until a
    person has labelled them.
    """
    labels_dir = Path(labels_dir)
    schema = load_schema(labels_dir)
    if source not in schema.sources:
        raise LabelError(f"unknown source {source!r} (known: {', '.join(schema.sources)})")
    article = Path(article)
    expected_dir = _article_dir(labels_dir, schema, source).resolve()
    if article.resolve().parent != expected_dir:
        raise LabelError(f"{article}: articles of source {source!r} belong in {expected_dir}")
    text = _read_article(article)
    out = _label_dir(labels_dir, source) / f"{article.stem}.jsonl"
    previous: dict[str, dict[str, Any]] = {}
    if out.exists():
        for line in out.read_text(encoding="utf-8").splitlines():
            if line.strip():
                obj = json.loads(line)
                previous[obj["text"]] = obj
    lines = []
    for unit in split_sentences(text):
        old = previous.get(unit.text, {})
        record = {
            "index": unit.index,
            "start": unit.start,
            "end": unit.end,
            "text": unit.text,
            "topics": old.get("topics"),
            "stance": old.get("stance"),
        }
        lines.append(json.dumps(record, ensure_ascii=False))
    atomic_write_text(out, "\n".join(lines) + "\n")
    return out


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return sorted(a.get("topics") or []) == sorted(b.get("topics") or []) and a.get("stance") == b.get(
        "stance"
    )


def apply_corrections(
    corrections: Path, labels_dir: Path = DEFAULT_LABELS_DIR, dry_run: bool = False
) -> dict[str, int]:
    """Apply a corrections file (a second pass's changes) to the label files, all or nothing.

    Each line names a unit (``doc``, ``index``, ``text``) with its ``old`` and ``new`` labels
    (``{"topics": [...], "stance": ...}``) and why. A line whose unit or old labels no longer match
    the label file is an error, so a stale pass cannot overwrite a newer decision; nothing is
    written unless every line applies. A line whose labels already equal ``new`` is counted as
    already applied. Returns counts: changed, already (applied before), files; ``dry_run``
    checks and counts without writing.
    """
    labels_dir = Path(labels_dir)
    schema = load_schema(labels_dir)
    files = {label.stem: label for _, _, label in _iter_pairs(labels_dir, schema, [])}
    wanted: dict[str, dict[int, tuple[str, dict[str, Any], dict[str, Any]]]] = {}
    errors: list[str] = []
    try:
        lines = Path(corrections).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelError(f"{corrections}: cannot read ({exc})") from None
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        where = f"{corrections}:{number}"
        try:
            obj = json.loads(raw)
            doc, index, text, old, new = obj["doc"], obj["index"], obj["text"], obj["old"], obj["new"]
            topics, stance = list(new["topics"]), new["stance"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            errors.append(f"{where}: not a correction line (doc, index, text, old, new): {exc}")
            continue
        unknown = [t for t in topics if t not in schema.topics]
        if unknown or len(set(topics)) != len(topics) or stance not in schema.stances:
            errors.append(f"{where}: new labels {topics} / {stance!r} do not fit the schema")
        elif doc not in files:
            errors.append(f"{where}: no label file for article {doc!r}")
        elif index in wanted.get(doc, {}):
            errors.append(f"{where}: unit {doc}:{index} is corrected twice")
        else:
            ordered = [t for t in schema.topics if t in topics]
            wanted.setdefault(doc, {})[index] = (text, old, {"topics": ordered, "stance": stance})
    counts = {"changed": 0, "already": 0, "files": 0}
    rewritten: dict[Path, str] = {}
    for doc, fixes in wanted.items():
        path = files[doc]
        units = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        by_index = {unit["index"]: unit for unit in units}
        changed = False
        for index, (text, old, new) in sorted(fixes.items()):
            unit = by_index.get(index)
            if unit is None or unit["text"] != text:
                errors.append(f"{path}: unit {index} is not {text[:40]!r} (the article changed?)")
                continue
            current = {"topics": unit["topics"], "stance": unit["stance"]}
            if _same(current, new):  # topics compare as sets: older files list them in any order
                counts["already"] += 1
            elif not _same(current, old):
                errors.append(f"{path}: unit {index} is labelled {current}, not the correction's old {old}")
            else:
                unit.update(new)
                counts["changed"] += 1
                changed = True
        if changed:
            rewritten[path] = "".join(json.dumps(unit, ensure_ascii=False) + "\n" for unit in units)
    if errors:
        raise LabelError(
            "; ".join(errors[:5]) + (f" (and {len(errors) - 5} more)" if len(errors) > 5 else "")
        )
    if not dry_run:
        for path, text in rewritten.items():
            atomic_write_text(path, text)
    counts["files"] = len(rewritten)
    return counts
