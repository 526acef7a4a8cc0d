"""Render tagged units as JSONL, CSV or a readable table. Pure functions: they return strings."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

__all__ = ["FORMATS", "jsonl_lines", "csv_header", "csv_rows", "table_block", "explanation_text"]

FORMATS = ("table", "jsonl", "csv")


_KEYS = ("source", "index", "text", "topics", "stance", "scores")
_ENCODER = json.JSONEncoder(ensure_ascii=False)  # built once: json.dumps(..., ensure_ascii=False) rebuilds it


def jsonl_lines(units: Sequence[dict[str, Any]]) -> str:
    """One JSON object per unit, keys exactly source, index, text, topics, stance, scores."""
    encode = _ENCODER.encode
    return "".join(encode(u if tuple(u) == _KEYS else {k: u[k] for k in _KEYS}) + "\n" for u in units)


def csv_header(topic_names: Sequence[str], stance_names: Sequence[str]) -> str:
    columns = ["source", "index", "text", "topics", "stance"]
    columns += [f"topic_{t}" for t in topic_names] + [f"stance_{s}" for s in stance_names]
    return _csv([columns])


def csv_rows(units: Sequence[dict[str, Any]], topic_names: Sequence[str], stance_names: Sequence[str]) -> str:
    """Flattened rows: topics joined by ';', one probability column per topic and stance."""
    rows = []
    for u in units:
        rows.append(
            [u["source"], u["index"], u["text"], ";".join(u["topics"]), u["stance"]]
            + [u["scores"]["topics"][t] for t in topic_names]
            + [u["scores"]["stance"][s] for s in stance_names]
        )
    return _csv(rows)


def _csv(rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 1)] + "…"


def table_block(
    source: str, units: Sequence[dict[str, Any]], summary: dict[str, Any], width: int = 120
) -> str:
    """A per-article table (index, stance, topics, sentence) followed by the article summary."""
    topic_width = max([len(", ".join(u["topics"])) for u in units] + [6])
    text_width = max(width - topic_width - 17, 30)
    lines = [
        f"== {source} ({summary['units']} units)",
        f"{'#':>4}  {'stance':<8} {'topics':<{topic_width}}  sentence",
    ]
    for u in units:
        topics = ", ".join(u["topics"]) or "-"
        lines.append(
            f"{u['index']:>4}  {u['stance']:<8} {topics:<{topic_width}}  {_clip(u['text'], text_width)}"
        )
    shares = (
        ", ".join(f"{t} {v['share']:.0%} ({v['count']})" for t, v in summary["topics"].items() if v["count"])
        or "no topic in any unit"
    )
    stances = ", ".join(f"{s} {n}" for s, n in summary["stance"].items())
    lines += [f"topics: {shares}", f"stance: {stances}", ""]
    return "\n".join(lines) + "\n"


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
