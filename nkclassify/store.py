"""Model files on disk: a joblib file plus a JSON card (and a Markdown card for people).

A joblib file is code: unpickling runs whatever it holds. So the card records the SHA-256 of the
joblib file, and loading refuses a file whose hash differs before unpickling anything. The card
also records the scikit-learn version; a model pickled under another version is never used
silently (``StaleModelError``). Format changes bump ``MODEL_FORMAT_VERSION``.
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .errors import ModelError
from .fileio import atomic_write, atomic_write_text, sha256_file
from .schema import Schema, schema_from_dict

__all__ = [
    "MODEL_FORMAT_VERSION",
    "DEFAULT_MODEL_PATH",
    "StaleModelError",
    "StoredModel",
    "card_path",
    "save_model",
    "load_model",
    "read_card",
]

MODEL_FORMAT_VERSION = 1
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "models" / "nkclassify.joblib"


class StaleModelError(ModelError):
    """The model was pickled under a scikit-learn version other than the installed one."""


@dataclass
class StoredModel:
    """A fitted model with the schema it predicts and the card that describes it."""

    model: Any
    schema: Schema
    card: dict[str, Any]
    path: Path | None = None


def card_path(model_path: Path) -> Path:
    return Path(model_path).with_suffix(".json")


def markdown_card_path(model_path: Path) -> Path:
    return Path(model_path).with_suffix(".md")


def environment() -> dict[str, str]:
    """Versions that decide whether a pickle can be trusted to load and behave the same."""
    import numpy
    import sklearn

    return {
        "nkclassify": __version__,
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
    }


def save_model(stored: StoredModel, path: Path) -> dict[str, Any]:
    """Write the joblib file, then its JSON and Markdown cards, each atomically; return the card."""
    import joblib

    path = Path(path)
    payload = {"format_version": MODEL_FORMAT_VERSION, "model": stored.model}
    atomic_write(path, lambda tmp: joblib.dump(payload, tmp, compress=3))
    card = dict(stored.card)
    card.update(
        format_version=MODEL_FORMAT_VERSION,
        versions=environment(),
        schema=stored.schema.to_dict(),
        model_file=path.name,
        model_sha256=sha256_file(path),
    )
    atomic_write_text(card_path(path), json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(markdown_card_path(path), render_markdown_card(card))
    stored.card, stored.path = card, path
    return card


def read_card(path: Path) -> dict[str, Any]:
    """The JSON card beside a model file."""
    card_file = card_path(path)
    try:
        card = json.loads(card_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{card_file}: model card not found; cannot verify {Path(path).name}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{card_file}: unreadable model card ({exc})") from None
    if not isinstance(card, dict) or card.get("format_version") != MODEL_FORMAT_VERSION:
        raise ModelError(f"{card_file}: unsupported model format (expected version {MODEL_FORMAT_VERSION})")
    return card


def load_model(path: Path = DEFAULT_MODEL_PATH) -> StoredModel:
    """Verify the hash and versions recorded in the card, then unpickle the model."""
    import joblib
    import sklearn

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: model file not found (train one with: nkclassify train)")
    card = read_card(path)
    if sha256_file(path) != card.get("model_sha256"):
        raise ModelError(f"{path}: SHA-256 does not match its card; refusing to load a changed model file")
    built_with = card.get("versions", {}).get("scikit-learn")
    if built_with != sklearn.__version__:
        raise StaleModelError(
            f"{path}: built with scikit-learn {built_with}, installed {sklearn.__version__}; "
            "rebuild it with: nkclassify train"
        )
    try:
        payload = joblib.load(path)
    except Exception as exc:  # a pickle can fail in any way; the hash already matched
        raise ModelError(f"{path}: cannot load model ({type(exc).__name__}: {exc})") from None
    if not isinstance(payload, dict) or payload.get("format_version") != MODEL_FORMAT_VERSION:
        raise ModelError(f"{path}: unsupported model format")
    schema = schema_from_dict(card["schema"], f"{card_path(path)}: schema")
    return StoredModel(payload["model"], schema, card, path)


def render_markdown_card(card: dict[str, Any]) -> str:
    """A short human-readable card: what the model is, what it was trained on, how good it is."""
    from .report import markdown_table

    versions = ", ".join(f"{k} {v}" for k, v in card["versions"].items())
    lines = [
        "# nkclassify model card",
        "",
        f"- Model file: `{card['model_file']}` (SHA-256 `{card['model_sha256']}`)",
        f"- Trained: {card.get('trained', '?')} with {versions}",
        f"- Features: `{card.get('features')}`, seed {card.get('seed')}",
        f"- Training data: {card.get('n_units')} units in {card.get('n_articles')} articles "
        f"(data hash `{card.get('data_hash')}`)",
        f"- Stance target: {card['schema']['stance']['target']}",
        "",
        "Load only model files you trust: a joblib file runs code when it is loaded.",
        "",
        "## Topic thresholds",
        "",
        markdown_table(["topic", "threshold"], [[t, v] for t, v in card.get("thresholds", {}).items()]),
    ]
    scores = card.get("cv")
    if scores:
        rows = [[k, v["mean"], v["std"]] for k, v in scores.get("summary", {}).items()]
        lines += [
            "",
            f"## Cross-validation ({scores.get('scheme', '')})",
            "",
            markdown_table(["metric", "mean", "std"], rows),
        ]
    embedding = card.get("embedding")
    if embedding:
        lines += ["", "## Embedding model", "", "```json", json.dumps(embedding, indent=2), "```"]
    return "\n".join(lines) + "\n"
