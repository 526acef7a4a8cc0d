"""Text features by name: every feature set feeds the same linear heads.

- ``tfidf``: word uni- and bigrams (core dependencies only; the fastest).
- ``tfidf+char``: plus character 3-5-grams inside word boundaries, which catch inflections and
  names ("defect", "defected", "defectors") that few training sentences show; several times slower.
- ``tfidf+static``: word TF-IDF plus model2vec static sentence embeddings (numpy only at run time,
  the model shipped in ``models/static``; extra ``static``).
- ``tfidf+minilm``: word TF-IDF plus the full MiniLM transformer (torch; extra ``minilm``).

Embedding steps are imported only when a feature set asks for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .errors import ModelError

if TYPE_CHECKING:
    from sklearn.pipeline import FeatureUnion

__all__ = ["FEATURE_SETS", "make_features", "check_feature_set"]

FEATURE_SETS: tuple[str, ...] = ("tfidf", "tfidf+char", "tfidf+static", "tfidf+minilm")
WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (3, 5)


def check_feature_set(name: str) -> str:
    """Return ``name`` if it is a known feature set, else raise ``ModelError``."""
    if name not in FEATURE_SETS:
        raise ModelError(f"unknown feature set {name!r} (choose from {', '.join(FEATURE_SETS)})")
    return name


def make_features(name: str = "tfidf") -> FeatureUnion:
    """An unfitted scikit-learn ``FeatureUnion`` for the named feature set."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    check_feature_set(name)

    def tfidf(**options: object) -> TfidfVectorizer:
        return TfidfVectorizer(sublinear_tf=True, strip_accents="unicode", dtype=np.float32, **options)

    parts: list[tuple[str, object]] = [("word", tfidf(ngram_range=WORD_NGRAMS, min_df=1))]
    if name == "tfidf+char":
        parts.append(("char", tfidf(analyzer="char_wb", ngram_range=CHAR_NGRAMS, min_df=2)))
    if name == "tfidf+static":
        from .embed import StaticEmbedding

        parts.append(("static", StaticEmbedding()))
    elif name == "tfidf+minilm":
        from .embed import MiniLMEmbedding

        parts.append(("minilm", MiniLMEmbedding()))
    return FeatureUnion(parts)
