"""Train the tagger on all labelled data and describe it in a model card.

The card's scores come from grouped cross-validation on the same data (so a user sees what to
expect on unseen articles); the shipped model itself is fitted on everything.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

from .dataset import Corpus
from .evaluate import Progress, cross_validate, label_matrix
from .model import TopicStanceModel
from .store import StoredModel, save_model

__all__ = ["fit_model", "train"]


def fit_model(corpus: Corpus, features: str = "tfidf", seed: int = 0) -> StoredModel:
    """Fit on every unit of the corpus; the card gets thresholds and data provenance."""
    data = label_matrix(corpus)
    model = TopicStanceModel(
        n_topics=len(data.topic_names), n_stances=len(data.stance_names), features=features, seed=seed
    ).fit(data.texts, data.topics, data.stance, groups=list(data.groups))
    card: dict[str, Any] = {
        "features": features,
        "seed": seed,
        "data_hash": corpus.data_hash,
        "n_units": len(corpus.units),
        "n_articles": len(corpus.docs),
        "sources": {s: sum(u.source == s for u in corpus.units) for s in corpus.schema.sources},
        "thresholds": {name: float(t) for name, t in zip(data.topic_names, model.thresholds_)},
    }
    provenance = getattr(model.features_, "named_transformers", {}).get("static")
    if provenance is not None and hasattr(provenance, "provenance"):
        card["embedding"] = provenance.provenance()
    return StoredModel(model, corpus.schema, card)


def train(
    corpus: Corpus,
    out: Path,
    features: str = "tfidf",
    seed: int = 0,
    cv_folds: int = 5,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Cross-validate (for the card), fit on everything, write model + cards atomically."""
    stored = fit_model(corpus, features, seed)
    if cv_folds:
        run = cross_validate(label_matrix(corpus), features, cv_folds, 1, seed, progress)
        stored.card["cv"] = {
            "scheme": run["scheme"],
            "folds": run["folds"],
            "summary": run["summary"],
            "baselines": run["baselines"],
        }
    stored.card["trained"] = _dt.date.today().isoformat()
    return save_model(stored, out)
