"""Where models live and how they are written: one array file per model, plus a card for people.

The default model ships inside the package (``nkclassify/resources/``), so any install (editable,
wheel, pipx) finds it; ``train`` writes to ``--out`` or ``./models/`` of the current folder, never
into the installed package. The model file itself holds schema, card and versions (see
``nkclassify.modelfile``); the Markdown card beside it is a copy for people, never read back.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

from . import __version__
from .errors import ModelError
from .fileio import atomic_write, atomic_write_text
from .modelfile import SUFFIX, write_model_file

__all__ = [
    "DEFAULT_MODEL_PATH",
    "DEFAULT_OUT",
    "resource_path",
    "environment",
    "save_model",
    "markdown_card_path",
    "render_markdown_card",
    "card_summary",
    "check_out",
]


_RESOURCES = Path(__file__).resolve().parent / "resources"


def resource_path(name: str) -> Path:
    """A file shipped inside the package (model, card, schema, guide). The package's own folder,
    not ``importlib.resources`` (one import less at every start, 1 ms here): the model is mapped
    from a real file, so a package inside a zip could not be served either way."""
    return _RESOURCES / name


DEFAULT_MODEL_PATH = resource_path("nkclassify" + SUFFIX)
DEFAULT_OUT = Path("models") / ("nkclassify" + SUFFIX)


def environment() -> dict[str, str]:
    """Versions that trained the model (recorded; the file loads under any of them)."""
    import platform

    import numpy
    import sklearn

    return {
        "nkclassify": __version__,
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
    }


def markdown_card_path(model_path: Path) -> Path:
    return Path(model_path).with_suffix(".md")


def check_out(path: Path) -> Path:
    """Refuse an output path that is not a model file name, or names a folder or a special file."""
    path = Path(path)
    if path.suffix != SUFFIX:
        raise ModelError(
            f"{path}: a model file name must end in {SUFFIX} (its card is written beside it as .md)"
        )
    if path.is_dir():
        raise ModelError(f"{path}: is a folder; name the model file to write")
    if path.exists() and not path.is_file():
        raise ModelError(f"{path}: not a regular file; refusing to replace it with a model")
    return path


def save_model(exported: dict[str, Any], schema: dict, card: dict[str, Any], path: Path) -> dict[str, Any]:
    """Write the model file atomically, then its Markdown card; return the card (with the file's hash).

    The file is built in memory and hashed before it is renamed into place; the card beside it is
    written after the model, from the same values, and is never read when loading.
    """
    path = check_out(path)
    card = {**card, "versions": environment()}
    buffer = io.BytesIO()
    write_model_file(buffer, exported, schema, card)
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()  # of the very bytes written, taken before the rename
    atomic_write(path, lambda tmp: tmp.write_bytes(data))
    card = {**card, "model_file": path.name, "model_sha256": digest}
    atomic_write_text(markdown_card_path(path), render_markdown_card(card, schema))
    return card


def render_markdown_card(card: dict[str, Any], schema: dict) -> str:
    """A short human-readable card: what the model is, what it was trained on, how good it is."""
    versions = ", ".join(f"{k} {v}" for k, v in card.get("versions", {}).items())
    lines = [
        "# nkclassify model card",
        "",
        f"- Model file: `{card.get('model_file')}` (SHA-256 `{card.get('model_sha256')}`)",
        f"- Trained: {card.get('trained', '?')} with {versions}",
        f"- Features: `{card.get('features')}`, parameters `{json.dumps(card.get('params', {}), sort_keys=True)}`",
        f"- Training data: {card.get('n_units')} units in {card.get('n_articles')} articles "
        f"(data hash `{card.get('data_hash')}`)",
        f"- Stance target: {schema['stance']['target']}",
        "",
        "The file holds arrays and JSON only: loading it never runs code.",
        "",
        "## Topic thresholds",
        "",
        "| topic | threshold |",
        "|---|---|",
        *[f"| {t} | {v:.3f} |" for t, v in card.get("thresholds", {}).items()],
    ]
    for key, title in (("cv", "Cross-validation"), ("cv_events", "Cross-validation grouped by event")):
        scores = card.get(key)
        if scores:
            lines += [
                "",
                f"## {title} ({scores.get('scheme', '')})",
                "",
                "| metric | mean | std |",
                "|---|---|---|",
            ]
            lines += [
                f"| {k} | {v['mean']:.3f} | {v['std']:.3f} |" for k, v in scores.get("summary", {}).items()
            ]
    return "\n".join(lines) + "\n"


def card_summary(card: dict[str, Any]) -> str:
    """One line about a model: features, data, date."""
    return (
        f"features {card.get('features')}, trained on {card.get('n_units')} units "
        f"in {card.get('n_articles')} articles"
    )
