"""Train the tagger on all labelled data and write it as one array file with its card.

The card's scores come from cross-validation on the same data (the caller's scorer: grouped by
event and by article); the shipped model itself is fitted on everything. Same data and seed give
the same file, byte for byte (no dates, no memory addresses inside).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .dataset import Corpus, label_matrix
from .features import DEFAULT_FEATURES
from .model import TopicStanceModel
from .store import check_out, save_model

__all__ = ["fit_model", "train"]

Scorer = Callable[[Corpus, str, int], dict]


def fit_model(
    corpus: Corpus, features: str = DEFAULT_FEATURES, seed: int = 0, **params: Any
) -> TopicStanceModel:
    """Fit on every unit of the corpus with the estimator's defaults (the settings the README chose)."""
    data = label_matrix(corpus)
    return TopicStanceModel(features=features, seed=seed, **params).fit(
        data.texts, data.Y, groups=data.groups
    )


def train(
    corpus: Corpus,
    out: Path,
    features: str = DEFAULT_FEATURES,
    seed: int = 0,
    scorer: Scorer | None = None,
) -> dict[str, Any]:
    """Fit on everything and write model + card atomically; ``scorer`` adds the card's CV scores.

    The CLI passes ``evaluate.card_scores`` as the scorer, so training never imports evaluation.
    """
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
    if scorer is not None:
        card.update(scorer(corpus, features, seed))
    return save_model(model.export(), corpus.schema.to_dict(), card, out)
