"""Train the tagger on all labelled data and write it as one array file with its card.

The card's scores come from cross-validation on the same data, grouped by event when the corpus
records events (the most honest estimate here of unseen news) and by article; the shipped model
itself is fitted on everything. Same data and seed give the same file, byte for byte (no dates,
no memory addresses inside).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .dataset import Corpus
from .evaluate import Progress, cross_validate, label_matrix
from .features import DEFAULT_FEATURES
from .model import TopicStanceModel
from .store import check_out, save_model

__all__ = ["fit_model", "train", "MODEL_PARAMS"]

# Chosen on event-grouped CV and the written -> real-seed transfer (README, "How the default was chosen").
MODEL_PARAMS: dict[str, Any] = {
    "topic_c": 4.0,
    "stance_c": 4.0,
    "stance_topics": False,
    "thresholds": "fixed",
}


def fit_model(
    corpus: Corpus, features: str = DEFAULT_FEATURES, seed: int = 0, **params: Any
) -> TopicStanceModel:
    """Fit on every unit of the corpus (out-of-fold steps inside ``fit`` grouped by article)."""
    data = label_matrix(corpus)
    model = TopicStanceModel(features=features, seed=seed, **{**MODEL_PARAMS, **params})
    return model.fit(data.texts, data.Y, groups=data.groups)


def train(
    corpus: Corpus,
    out: Path,
    features: str = DEFAULT_FEATURES,
    seed: int = 0,
    cv_folds: int = 5,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Cross-validate (for the card), fit on everything, write model + card atomically."""
    out = check_out(out)  # before minutes of fitting, not after
    model = fit_model(corpus, features, seed)
    card: dict[str, Any] = {
        "features": features,
        "params": model.get_params(),
        "seed": seed,
        "data_hash": corpus.data_hash,
        "n_units": len(corpus.units),
        "n_articles": len(corpus.docs),
        "sources": {s: sum(u.source == s for u in corpus.units) for s in corpus.schema.sources},
        "thresholds": {name: float(t) for name, t in zip(corpus.schema.topic_names, model.thresholds_)},
    }
    if cv_folds:
        data = label_matrix(corpus)
        for key, by in (("cv", "article"), ("cv_events", "event")):
            if by == "event" and data.events is None:
                continue
            run = cross_validate(data, features, cv_folds, 1, seed, progress, group_by=by)
            card[key] = {"scheme": run["scheme"], "folds": run["folds"], "summary": run["summary"]}
    return save_model(model.export(), corpus.schema.to_dict(), card, out)
