"""Feature sets by name: the registry training, evaluation and the engine share.

A feature set is a list of blocks. A ``Block`` is an ``Analyzer`` (what tokens to cut), a minimum
document frequency and a weight, and becomes a TF-IDF matrix (sublinear tf, idf, L2-normalised
rows) scaled by its weight. A ``VectorBlock`` is the static word-piece vectors
(``nkclassify.vectors``): a dense unit-length sentence vector, scaled by its weight. The blocks
sit side by side. The engine rebuilds the same arithmetic from the stored vocabulary, idf and
piece vectors with numpy alone.

Add a feature set: one entry in ``FEATURE_SETS``. Add a token kind: a field on ``Analyzer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .analyzer import Analyzer
from .errors import ModelError

if TYPE_CHECKING:
    from sklearn.pipeline import FeatureUnion

__all__ = [
    "Block",
    "VectorBlock",
    "FEATURE_SETS",
    "DEFAULT_FEATURES",
    "check_feature_set",
    "make_features",
]


def _english_stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


@dataclass(frozen=True)
class Block:
    """One TF-IDF block of a feature set."""

    name: str
    analyzer: Analyzer
    weight: float = 1.0
    min_df: int = 1
    drop_stop_words: bool = False  # unigram stop words out of the vocabulary (bigrams keep them)

    def build_analyzer(self) -> Analyzer:
        if not self.drop_stop_words:
            return self.analyzer
        return Analyzer(**{**self.analyzer.__dict__, "stop_words": _english_stop_words()})


@dataclass(frozen=True)
class VectorBlock:
    """The static word-piece vectors as one dense block (the first ``dims`` dimensions of the table)."""

    name: str
    dims: int
    weight: float = 1.0


_WORDS = Block("word", Analyzer(word_ngrams=2))
_WORDS_CLEAN = Block("word", Analyzer(word_ngrams=2, prefix=5), drop_stop_words=True)
_CUES = Block("cues", Analyzer(word_ngrams=0, cues=True), weight=0.7)
_CHARS = Block("char", Analyzer(word_ngrams=0, char_ngrams=(3, 5)), weight=0.7, min_df=2)
_STATIC = VectorBlock("static", dims=256, weight=0.5)

FEATURE_SETS: dict[str, tuple[Block | VectorBlock, ...]] = {
    # word uni- and bigrams: the fastest; the model of the first release
    "tfidf": (_WORDS,),
    # words without stop-word unigrams, plus 5-letter prefixes and the hand-written cue lists
    "lex": (_WORDS_CLEAN, _CUES),
    # the above plus character 3-5-grams (names, inflections); several times slower
    "lex+char": (_WORDS_CLEAN, _CUES, _CHARS),
    # the above without characters, plus static word-piece vectors (meaning beyond the seen words)
    "lex+static": (_WORDS_CLEAN, _CUES, _STATIC),
}
DEFAULT_FEATURES = "lex+static"


def check_feature_set(name: str) -> str:
    """Return ``name`` if it is a known feature set, else raise ``ModelError``."""
    if name not in FEATURE_SETS:
        raise ModelError(f"unknown feature set {name!r} (choose from {', '.join(FEATURE_SETS)})")
    return name


def make_features(name: str = DEFAULT_FEATURES) -> FeatureUnion:
    """An unfitted scikit-learn ``FeatureUnion`` of one ``TfidfVectorizer`` per block."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    blocks = FEATURE_SETS[check_feature_set(name)]
    if any(isinstance(b, VectorBlock) for b in blocks):
        from .static import StaticVectors
    parts = [
        (
            b.name,
            StaticVectors(b.dims)
            if isinstance(b, VectorBlock)
            else TfidfVectorizer(
                analyzer=b.build_analyzer(), sublinear_tf=True, min_df=b.min_df, dtype=np.float64
            ),
        )
        for b in blocks
    ]
    return FeatureUnion(parts, transformer_weights={b.name: b.weight for b in blocks})
