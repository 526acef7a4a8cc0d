"""The label schema, read from ``labels/schema.json`` so labels change without code changes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .errors import LabelError

__all__ = ["Schema", "load_schema", "SCHEMA_FORMAT_VERSION"]

SCHEMA_FORMAT_VERSION = 1


@dataclass(frozen=True)
class Schema:
    """Topic names with descriptions, the stance target and labels, and where articles live."""

    topics: dict[str, str]
    stance_target: str
    stances: dict[str, str]
    sources: dict[str, str]
    polar: tuple[str, ...] = ("favor", "against")  # the stances F_avg averages (not the neutral one)

    @property
    def topic_names(self) -> list[str]:
        return list(self.topics)

    @property
    def stance_names(self) -> list[str]:
        return list(self.stances)

    def to_dict(self) -> dict:
        return {
            "format_version": SCHEMA_FORMAT_VERSION,
            "topics": self.topics,
            "stance": {"target": self.stance_target, "labels": self.stances, "polar": list(self.polar)},
            "sources": self.sources,
        }


def _named_strings(value: object, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise LabelError(f"{where} must be a non-empty object of name: description")
    for name, text in value.items():
        if not isinstance(text, str) or not name.strip():
            raise LabelError(f"{where}: entry {name!r} must map a name to a description string")
    return dict(value)


def schema_from_dict(data: object, where: str) -> Schema:
    """Build a schema from parsed JSON, naming ``where`` in every error."""
    if not isinstance(data, dict):
        raise LabelError(f"{where}: the schema must be a JSON object")
    version = data.get("format_version")
    if version != SCHEMA_FORMAT_VERSION:
        raise LabelError(
            f"{where}: format_version {version!r} is not supported (expected {SCHEMA_FORMAT_VERSION})"
        )
    stance = data.get("stance")
    if not isinstance(stance, dict) or not isinstance(stance.get("target"), str):
        raise LabelError(f"{where}: 'stance' must hold a 'target' string and 'labels'")
    stances = _named_strings(stance.get("labels"), f"{where}: stance.labels")
    polar = stance.get("polar", ["favor", "against"])
    if not isinstance(polar, list) or not polar or any(p not in stances for p in polar):
        raise LabelError(
            f"{where}: stance.polar must list stance labels (the ones F_avg averages), got {polar!r}"
        )
    return Schema(
        topics=_named_strings(data.get("topics"), f"{where}: topics"),
        stance_target=stance["target"],
        stances=stances,
        sources=_named_strings(data.get("sources"), f"{where}: sources"),
        polar=tuple(polar),
    )


def load_schema(labels_dir: Path) -> Schema:
    """Read ``schema.json`` from a labels folder."""
    path = Path(labels_dir) / "schema.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LabelError(f"{path}: schema file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelError(f"{path}: cannot read schema ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LabelError(f"{path}:{exc.lineno}: malformed JSON ({exc.msg})") from None
    return schema_from_dict(data, str(path))
