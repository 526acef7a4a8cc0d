"""Writers: tagged units (or one summary per article) as JSONL, CSV, a terminal table or an HTML page.

One registry, ``WRITERS``: a format name -> a writer class. A writer is made with the label names
and the level (``unit`` or ``article``); ``header()`` comes first, ``write(document)`` returns the
text for each tagged document as it arrives (so output streams), ``footer()`` ends it. Writers
return strings and never print. Add a format: one class here, one entry in ``WRITERS``.
"""

from __future__ import annotations

import csv
import heapq
import io
import json
from collections.abc import Callable, Sequence
from itertools import repeat
from json.encoder import encode_basestring as _encode_string  # the C encoder, ensure_ascii=False
from typing import Any

import numpy as np

__all__ = ["WRITERS", "FORMATS", "LEVELS", "Writer", "ArticleSummary", "explanation_text", "jsonl_lines"]

LEVELS = ("unit", "article")
_ENCODER = json.JSONEncoder(ensure_ascii=False)  # built once: json.dumps(..., ensure_ascii=False) rebuilds it
_TOP = 3  # evidence sentences kept per topic and per stance in an article summary


def jsonl_lines(units: Sequence[dict[str, Any]]) -> str:
    """One JSON object per unit, keys in the order the tagger made them."""
    encode = _ENCODER.encode
    return "".join(encode(u) + "\n" for u in units)


def _csv(rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


class ArticleSummary:
    """Counts, shares of sentences and the strongest evidence of one article, built unit by unit."""

    def __init__(
        self,
        source: str,
        record_id: str | None,
        topic_names: Sequence[str],
        stance_names: Sequence[str],
        keep_units: bool = False,
    ):
        self.source, self.record_id = source, record_id
        self.topic_names, self.stance_names = list(topic_names), list(stance_names)
        self.units = 0
        self.topic_counts = dict.fromkeys(self.topic_names, 0)
        self.stance_counts = dict.fromkeys(self.stance_names, 0)
        self._top: dict[str, list[tuple[float, int, dict]]] = {}
        self.kept: list[dict] | None = (
            [] if keep_units else None
        )  # every unit, for writers that show them all

    def add(self, units: Sequence[dict[str, Any]]) -> None:
        if self.kept is not None:
            self.kept += units
        for u in units:
            self.units += 1
            for t in u["topics"]:
                self.topic_counts[t] += 1
                self._keep(t, u["scores"]["topics"][t], u)
            self.stance_counts[u["stance"]] += 1
            if u["stance"] != "none":
                self._keep(f"stance:{u['stance']}", u["scores"]["stance"][u["stance"]], u)

    def _keep(self, key: str, p: float, unit: dict) -> None:
        heap = self._top.setdefault(key, [])
        item = (p, -unit["index"], {"index": unit["index"], "p": p, "text": unit["text"]})
        if len(heap) < _TOP:
            heapq.heappush(heap, item)
        elif item[:2] > heap[0][:2]:
            heapq.heapreplace(heap, item)

    def evidence(self, key: str) -> list[dict]:
        return [entry for _, _, entry in sorted(self._top.get(key, []), key=lambda i: (-i[0], -i[1]))]

    def to_record(self) -> dict[str, Any]:
        n = self.units or 1
        record: dict[str, Any] = {"source": self.source}
        if self.record_id is not None:
            record["id"] = self.record_id
        record.update(
            units=self.units,
            topics={
                t: {"sentences": c, "share_of_sentences": round(c / n, 4)}
                for t, c in self.topic_counts.items()
            },
            stance={s: c for s, c in self.stance_counts.items()},
            evidence={
                **{t: self.evidence(t) for t in self.topic_names},
                **{f"stance:{s}": self.evidence(f"stance:{s}") for s in self.stance_names if s != "none"},
            },
        )
        return record


class Writer:
    """Base: unit rows by default; article level collects a summary per (source, record id).

    A writer that always works per article (the HTML page) sets ``per_article``; one that shows
    every unit of an article sets ``keeps_units``.
    """

    per_article = False
    keeps_units = False

    def __init__(
        self, topic_names: Sequence[str], stance_names: Sequence[str], level: str = "unit", width: int = 120
    ):
        self.topic_names, self.stance_names = list(topic_names), list(stance_names)
        self.level, self.width = level, width
        self._summary: ArticleSummary | None = None

    def header(self) -> str:
        return ""

    def _grouped(self) -> bool:
        return self.per_article or self.level == "article"

    def renderer(self) -> Callable[[Any], str] | None:
        """What formats one tagged document on its own, wherever it runs (a ``--jobs`` worker);
        ``None`` when documents must come here to be grouped into article summaries."""
        return None if self._grouped() else self.rows

    def footer(self) -> str:
        return self._flush() if self._grouped() else ""

    def write(self, document: Any) -> str:
        if not self._grouped():
            if document.rendered is not None:  # formatted already, by this writer's rows in a worker
                return document.rendered
            return self.rows(document) if len(document) else ""
        out = ""
        for key, units in _by_record(document.units):
            if self._summary is not None and (self._summary.source, self._summary.record_id) != key:
                out += self._flush()
            if self._summary is None:
                self._summary = ArticleSummary(
                    key[0], key[1], self.topic_names, self.stance_names, self.keeps_units
                )
            self._summary.add(units)
        return out

    def _flush(self) -> str:
        summary, self._summary = self._summary, None
        return self.article(summary) if summary is not None and summary.units else ""

    def rows(self, document: Any) -> str:
        """One row per unit of a tagged document, formatted from its columns."""
        raise NotImplementedError

    def article(self, summary: ArticleSummary) -> str:
        raise NotImplementedError


def _by_record(units: Sequence[dict]) -> list[tuple[tuple[str, str | None], list[dict]]]:
    groups: list[tuple[tuple[str, str | None], list[dict]]] = []
    for u in units:
        key = (u["source"], u.get("id"))
        if not groups or groups[-1][0] != key:
            groups.append((key, []))
        groups[-1][1].append(u)
    return groups


class _Labels:
    """Strings a writer repeats on every row, made once per label set: topic sets by bit mask."""

    def __init__(self, topic_names: Sequence[str], stance_names: Sequence[str]) -> None:
        k = len(topic_names)
        self.bits = 1 << np.arange(k, dtype=np.int64) if k <= 16 else None
        combos = (
            [[t for j, t in enumerate(topic_names) if m >> j & 1] for m in range(1 << k)] if k <= 16 else []
        )
        self.json_sets = [_ENCODER.encode(c) for c in combos]
        self.csv_sets = [";".join(c) for c in combos]
        self.table_sets = [", ".join(c) or "-" for c in combos]
        self.json_stances = [_ENCODER.encode(s) for s in stance_names]

    def masks(self, topics: Any) -> list[int]:
        return (topics @ self.bits).tolist()


_PLACES = 4  # probabilities are rounded to 4 places (np.round), so 10,001 strings cover them all
_SHOWN = [repr(k / 10**_PLACES) for k in range(10**_PLACES + 1)]


def _json_inner(texts: list[str]) -> list[str]:
    """Each text as it stands between the quotes of its JSON string. Most texts need no escaping:
    one numpy scan of the batch's UTF-8 bytes finds the few that do (a control character, '"' or
    '\\' is a byte no other character's UTF-8 contains), and only those go through the encoder
    (a call per text was a fifth of the time a row took)."""
    raw = np.frombuffer("\x1f".join(texts).encode("utf-8", "surrogatepass"), dtype=np.uint8)
    breaks = np.flatnonzero(raw == 0x1F)  # the separators, if no text holds one itself
    if len(breaks) != len(texts) - 1:
        return [_encode_string(text)[1:-1] for text in texts]
    hits = np.flatnonzero(((raw < 0x20) & (raw != 0x1F)) | (raw == 0x22) | (raw == 0x5C))
    if not len(hits):
        return texts
    inner = list(texts)
    for i in dict.fromkeys(np.searchsorted(breaks, hits).tolist()):  # its text: separators before it
        inner[i] = _encode_string(texts[i])[1:-1]
    return inner


def _shown(proba: Any) -> list[list[str]]:
    """Columns of rounded probabilities as ``repr`` gives them (what json and csv write), by lookup.

    ``np.round(p, 4)`` is ``rint(p * 1e4) / 1e4``, so the integer ``k`` picks the exact float's text.
    """
    ks = np.rint(np.asarray(proba).T * 10**_PLACES).astype(np.int64).clip(0, 10**_PLACES)
    return [list(map(_SHOWN.__getitem__, column)) for column in ks.tolist()]


class JsonlWriter(Writer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._labels = _Labels(self.topic_names, self.stance_names)

        # the constant text between the columns of a row, label names JSON-encoded once
        topic_keys = [_ENCODER.encode(t) + ": " for t in self.topic_names]
        stance_keys = [_ENCODER.encode(n) + ": " for n in self.stance_names]
        self._between = (
            None
            if not (topic_keys and stance_keys)
            else (
                [', "start": ', ', "end": ', ', "text": "', '", "topics": ', ', "stance": ']
                + [', "scores": {"topics": {' + topic_keys[0]]
                + [", " + key for key in topic_keys[1:]]
                + ['}, "stance": {' + stance_keys[0]]
                + [", " + key for key in stance_keys[1:]]
                + ["}}}\n"]
            )
        )

    def rows(self, document: Any) -> str:
        """Each unit's JSON object, formatted straight from the columns (the same bytes as encoding
        ``document.units`` one by one; records with ids or pages take that slower road)."""
        if (
            document.ids is not None
            or document.pages is not None
            or self._labels.bits is None
            or not self._between
        ):
            return jsonl_lines(document.units)
        labels = self._labels
        columns = [
            map(str, document.index),
            map(str, document.start),
            map(str, document.end),
            _json_inner(document.texts),
            map(labels.json_sets.__getitem__, labels.masks(document.topics)),
            map(labels.json_stances.__getitem__, document.stance.tolist()),
            *_shown(document.topic_proba),
            *_shown(document.stance_proba),
        ]
        # each row: the columns with the constant text between them, joined (no dict, no encoder)
        pieces = [repeat('{"source": ' + _ENCODER.encode(document.source) + ', "index": ')]
        for column, between in zip(columns, self._between):
            pieces += [column, repeat(between)]
        return "".join(map("".join, zip(*pieces)))

    def article(self, summary: ArticleSummary) -> str:
        return _ENCODER.encode(summary.to_record()) + "\n"


class CsvWriter(Writer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._labels = _Labels(self.topic_names, self.stance_names)

    def header(self) -> str:
        if self.level == "article":
            columns = ["source", "id", "units"]
            columns += [f"{t}_sentences" for t in self.topic_names] + [
                f"{t}_share_of_sentences" for t in self.topic_names
            ]
            columns += [f"stance_{s}" for s in self.stance_names]
            columns += [f"top_{t}" for t in self.topic_names]
            columns += [f"top_stance_{s}" for s in self.stance_names if s != "none"]
            return _csv([columns])
        columns = ["source", "id", "index", "start", "end", "page", "text", "topics", "stance"]
        columns += [f"topic_{t}" for t in self.topic_names] + [f"stance_{s}" for s in self.stance_names]
        return _csv([columns])

    def rows(self, document: Any) -> str:
        if self._labels.bits is None:
            topic_sets = [";".join(u["topics"]) for u in document.units]
        else:
            topic_sets = map(self._labels.csv_sets.__getitem__, self._labels.masks(document.topics))
        blank = repeat("")
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(
            zip(
                repeat(document.source),
                blank if document.ids is None else ("" if i is None else i for i in document.ids),
                document.index,
                document.start,
                document.end,
                blank if document.pages is None else ("" if p is None else p for p in document.pages),
                document.texts,
                topic_sets,
                map(self.stance_names.__getitem__, document.stance.tolist()),
                *_shown(document.topic_proba),
                *_shown(document.stance_proba),
            )
        )
        return buffer.getvalue()

    def article(self, summary: ArticleSummary) -> str:
        record = summary.to_record()
        top = lambda key: (summary.evidence(key) or [{"text": ""}])[0]["text"]  # noqa: E731
        row = [record["source"], record.get("id", ""), record["units"]]
        row += [record["topics"][t]["sentences"] for t in self.topic_names]
        row += [record["topics"][t]["share_of_sentences"] for t in self.topic_names]
        row += [record["stance"][s] for s in self.stance_names]
        row += [top(t) for t in self.topic_names]
        row += [top(f"stance:{s}") for s in self.stance_names if s != "none"]
        return _csv([row])


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 1)] + "…"


class TableWriter(Writer):
    """A per-article table (index, stance, topics, sentence) followed by the article summary."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._labels = _Labels(self.topic_names, self.stance_names)

    def rows(self, document: Any) -> str:
        if self._labels.bits is None:
            topic_sets = [", ".join(u["topics"]) or "-" for u in document.units]
        else:
            topic_sets = list(map(self._labels.table_sets.__getitem__, self._labels.masks(document.topics)))
        stances = list(map(self.stance_names.__getitem__, document.stance.tolist()))
        topic_width = max([len(t) for t in topic_sets if t != "-"] + [6])
        text_width = max(self.width - topic_width - 17, 30)
        lines = [
            f"== {document.source} ({len(document)} sentences)",
            f"{'#':>4}  {'stance':<8} {'topics':<{topic_width}}  sentence",
        ]
        lines += [
            f"{i:>4}  {s:<8} {t:<{topic_width}}  {_clip(text, text_width)}"
            for i, s, t, text in zip(document.index, stances, topic_sets, document.texts)
        ]
        counts = dict(zip(self.topic_names, document.topics.sum(axis=0).tolist()))
        stance_counts = dict(
            zip(self.stance_names, np.bincount(document.stance, minlength=len(self.stance_names)).tolist())
        )
        return "\n".join(lines) + "\n" + self._count_lines(len(document), counts, stance_counts)

    def article(self, summary: ArticleSummary) -> str:
        name = summary.source + (f" #{summary.record_id}" if summary.record_id is not None else "")
        lines = [f"== {name} ({summary.units} sentences)"]
        for t in self.topic_names:
            for e in summary.evidence(t)[:1]:
                lines.append(f"   top {t:<13} {e['p']:.2f}  {_clip(e['text'], self.width - 30)}")
        return "\n".join(lines) + "\n" + self._summary_lines(summary)

    def _summary_lines(self, summary: ArticleSummary) -> str:
        return self._count_lines(summary.units, summary.topic_counts, summary.stance_counts)

    @staticmethod
    def _count_lines(units: int, topic_counts: dict[str, int], stance_counts: dict[str, int]) -> str:
        n = units or 1
        shares = (
            ", ".join(f"{t} {c} ({c / n:.0%})" for t, c in topic_counts.items() if c)
            or "no topic in any sentence"
        )
        stances = ", ".join(f"{s} {c}" for s, c in stance_counts.items())
        return f"sentences per topic (share of sentences): {shares}\nstance (sentences): {stances}\n\n"


_STANCE_COLOURS = {"against": "#f8d7da", "favor": "#d4edda", "none": "transparent"}


class HtmlWriter(Writer):
    """One self-contained page: each article's sentences highlighted by stance, topics as badges,
    probabilities on hover, the article summary on top, filters by topic and stance."""

    per_article = True
    keeps_units = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._articles: list[str] = []

    def article(self, summary: ArticleSummary) -> str:
        """Render one article into the page kept for the footer; nothing is written until then."""
        from html import escape as e  # here, not at the top: its entity table costs every start 3 ms

        n = summary.units
        title = summary.source + (f" #{summary.record_id}" if summary.record_id is not None else "")
        shares = (
            " ".join(
                f'<span class="badge t-{e(t)}">{e(t)} {c} ({c / n:.0%} of sentences)</span>'
                for t, c in summary.topic_counts.items()
                if c
            )
            or '<span class="muted">no topic in any sentence</span>'
        )
        stances = " · ".join(f"{e(s)} {c}" for s, c in summary.stance_counts.items())
        sentences = []
        for u in summary.kept or ():
            tip = "; ".join(f"{t} {p:.2f}" for t, p in u["scores"]["topics"].items())
            tip += " | " + "; ".join(f"{s} {p:.2f}" for s, p in u["scores"]["stance"].items())
            badges = "".join(f'<span class="badge t-{e(t)}">{e(t)}</span>' for t in u["topics"])
            sentences.append(
                f'<span class="u s-{e(u["stance"])}" data-topics="{e(" ".join(u["topics"]))}" '
                f'data-stance="{e(u["stance"])}" title="{e(tip)}">{e(u["text"])}{badges}</span>'
            )
        self._articles.append(
            f'<article><h2>{e(title)}</h2><p class="summary">{n} sentences. Topics: {shares}<br>'
            f"Stance: {stances}</p><div>{''.join(sentences)}</div></article>"
        )
        return ""

    def footer(self) -> str:
        from html import escape as e

        super().footer()  # the last article joins the page
        topic_boxes = "".join(
            f'<label><input type="checkbox" class="ft" value="{e(t)}" checked> {e(t)}</label>'
            for t in self.topic_names
        )
        topic_boxes += '<label><input type="checkbox" class="ft" value="" checked> no topic</label>'
        stance_boxes = "".join(
            f'<label><input type="checkbox" class="fs" value="{e(s)}" checked> {e(s)}</label>'
            for s in self.stance_names
        )
        colours = "".join(
            f".s-{e(s)}{{background:{c}}}" for s, c in _STANCE_COLOURS.items() if s in self.stance_names
        )
        palette = ["#1f77b4", "#9467bd", "#d62728", "#2ca02c", "#ff7f0e", "#8c564b", "#e377c2"]
        badges = "".join(
            f".t-{e(t)}{{border-color:{palette[i % len(palette)]};color:{palette[i % len(palette)]}}}"
            for i, t in enumerate(self.topic_names)
        )
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nkclassify report</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{{font:15px/1.55 system-ui,sans-serif;max-width:60em;margin:1em auto;padding:0 1em;color:#222}}
header{{position:sticky;top:0;background:#fff;border-bottom:1px solid #ccc;padding:.5em 0}}
label{{margin-right:.8em;white-space:nowrap}} .muted{{color:#777}}
article{{border-bottom:1px solid #eee;padding:.5em 0}} h2{{font-size:1.05em;margin:.3em 0}}
.summary{{color:#444;font-size:.92em}} .u{{display:block;padding:2px 4px;margin:1px 0;border-radius:3px;cursor:help}}
.u.hidden{{opacity:.15}} .key{{padding:0 4px;border-radius:3px}} .badge{{font-size:.7em;border:1px solid #999;border-radius:8px;padding:0 4px;margin-left:3px;white-space:nowrap}}
{colours}{badges}
</style></head><body>
<header><strong>nkclassify</strong> — {len(self._articles)} article(s). Stance: <span class="key s-against">against</span>
<span class="key s-favor">favor</span> none. Hover a sentence for its probabilities.<br>
Topics: {topic_boxes}<br>Stance: {stance_boxes}</header>
<main>{"".join(self._articles)}</main>
<script>
function apply(){{
  const topics=[...document.querySelectorAll('.ft:checked')].map(b=>b.value);
  const stances=[...document.querySelectorAll('.fs:checked')].map(b=>b.value);
  document.querySelectorAll('.u[data-stance]').forEach(u=>{{
    const ts=u.dataset.topics?u.dataset.topics.split(' '):[''];
    const show=stances.includes(u.dataset.stance)&&ts.some(t=>topics.includes(t));
    u.classList.toggle('hidden',!show);
  }});
}}
document.querySelectorAll('input').forEach(b=>b.addEventListener('change',apply));
// A link can carry filters: report.html#topics=defection,finances&stance=against
const wanted=new URLSearchParams(location.hash.slice(1));
for(const [key,cls] of [['topics','.ft'],['stance','.fs']]){{
  if(wanted.has(key)){{const keep=wanted.get(key).split(',');
    document.querySelectorAll(cls).forEach(b=>{{b.checked=keep.includes(b.value);}});}}
}}
apply();
</script></body></html>
"""


WRITERS: dict[str, type[Writer]] = {
    "table": TableWriter,
    "jsonl": JsonlWriter,
    "csv": CsvWriter,
    "html": HtmlWriter,
}
FORMATS = tuple(WRITERS)


def explanation_text(explanation: Any) -> str:
    """The explanation as indented text for the terminal."""
    lines = [f"sentence: {explanation.text}"]
    if explanation.topics:
        for name, entry in explanation.topics.items():
            lines.append(f"topic {name}: p={entry['probability']:.3f} (threshold {entry['threshold']:.3f})")
            lines += [f"    {e['weight']:+.3f}  {e['feature']}" for e in entry["evidence"]]
    else:
        lines.append("topics: none passed its threshold")
        best = explanation.best_rejected_topic
        if best:
            lines.append(
                f"  closest: {best['topic']} p={best['probability']:.3f} (threshold {best['threshold']:.3f})"
            )
            lines += [f"    {e['weight']:+.3f}  {e['feature']}" for e in best["evidence"]]
    stance = explanation.stance
    lines.append(f"stance {stance['label']}: p={stance['probability']:.3f}")
    lines += [f"    {e['weight']:+.3f}  {e['feature']}" for e in stance["evidence"]]
    return "\n".join(lines) + "\n"
