"""The scikit-learn step of a ``VectorBlock``: texts -> unit-length static sentence vectors.

Training side only (imports scikit-learn); the engine calls ``vectors.PieceVectors`` directly on
the table stored in the model file. Nothing is learned: the piece vectors are fixed, read from
``models/static`` once per process, cut to the block's ``dims`` and kept out of pickles.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from .analyzer import parts
from .errors import ModelError
from .vectors import PieceVectors, load_source

__all__ = ["StaticVectors", "source_table"]

_TABLES: dict[int, PieceVectors] = {}


def source_table(dims: int) -> PieceVectors:
    """The source table cut to its first ``dims`` dimensions (PCA order: the most varied first)."""
    if dims not in _TABLES:
        source = load_source()
        if not 0 < dims <= source.dim:
            raise ModelError(f"the static vectors have {source.dim} dimensions; a block asked for {dims}")
        _TABLES[dims] = PieceVectors(source.pieces, np.ascontiguousarray(source.vectors[:, :dims]))
    return _TABLES[dims]


class StaticVectors(TransformerMixin, BaseEstimator):
    """No-op ``fit``; ``transform`` gives (n, dims) float64 rows of unit length (zero when no word has a vector)."""

    def __init__(self, dims: int = 256) -> None:
        self.dims = dims

    def fit(self, X, y=None) -> StaticVectors:
        source_table(self.dims)  # fail at fit, not at the first transform, if the table is missing
        return self

    @property
    def table(self) -> PieceVectors:
        """What the model file stores: the pieces and their vectors."""
        return source_table(self.dims)

    def transform(self, X) -> np.ndarray:
        return self.table.sentence_vectors([parts(text)[1] for text in X])
