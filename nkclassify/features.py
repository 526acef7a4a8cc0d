"""Feature sets by name: the registry training, evaluation and the engine share.

A feature set is a list of blocks; each block is an ``Analyzer`` (what tokens to cut), a minimum
document frequency and a weight. Every block becomes a TF-IDF matrix (sublinear tf, idf,
L2-normalised rows), scaled by its weight; the blocks sit side by side. The engine rebuilds the
same arithmetic from the stored vocabulary and idf with numpy alone.

Add a feature set: one entry in ``FEATURE_SETS``. Add a token kind: a field on ``Analyzer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .analyzer import Analyzer
from .errors import ModelError
from .lexicon import CUES

if TYPE_CHECKING:
    from sklearn.pipeline import FeatureUnion

__all__ = ["Block", "FEATURE_SETS", "DEFAULT_FEATURES", "check_feature_set", "make_features"]


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


_WORDS = Block("word", Analyzer(word_ngrams=2))
_WORDS_CLEAN = Block("word", Analyzer(word_ngrams=2, prefix=5), drop_stop_words=True)
_CUES = Block("cues", Analyzer(word_ngrams=0, cues=True), weight=0.7)
_CHARS = Block("char", Analyzer(word_ngrams=0, char_ngrams=(3, 5)), weight=0.7, min_df=2)
_STANCE_LISTS = ("against", "favor")
_TOPIC_LISTS = tuple(name for name in CUES if name not in _STANCE_LISTS)
# the cue lists in two blocks: a topic cue no longer dilutes a stance cue in one L2-normalised row
_TOPIC_CUES = Block("cues", Analyzer(word_ngrams=0, cues=True, cue_lists=_TOPIC_LISTS), weight=0.7)
_STANCE_CUES = Block("stance_cues", Analyzer(word_ngrams=0, cues=True, cue_lists=_STANCE_LISTS), weight=0.7)


def _cues(weight: float) -> Block:
    return Block("cues", _CUES.analyzer, weight=weight)


FEATURE_SETS: dict[str, tuple[Block, ...]] = {
    # word uni- and bigrams: the fastest; the model of the first release
    "tfidf": (_WORDS,),
    # words without stop-word unigrams, plus 5-letter prefixes and the hand-written cue lists
    "lex": (_WORDS_CLEAN, _CUES),
    # the above plus character 3-5-grams (names, inflections); several times slower
    "lex+char": (_WORDS_CLEAN, _CUES, _CHARS),
    # candidates of scripts/select_model.py (issue 10): the cue block weighted more
    "lex-cues1.0": (_WORDS_CLEAN, _cues(1.0)),
    "lex-cues1.5": (_WORDS_CLEAN, _cues(1.5)),
    # topic cue lists and stance cue lists as two blocks
    "lex-splitcues": (_WORDS_CLEAN, _TOPIC_CUES, _STANCE_CUES),
    # word tokens seen in one sentence only left out (names, one-off phrasings of one article)
    "lex-mindf2": (Block("word", _WORDS_CLEAN.analyzer, min_df=2, drop_stop_words=True), _CUES),
}
DEFAULT_FEATURES = "lex"


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
    parts = [
        (
            b.name,
            TfidfVectorizer(
                analyzer=b.build_analyzer(), sublinear_tf=True, min_df=b.min_df, dtype=np.float64
            ),
        )
        for b in blocks
    ]
    return FeatureUnion(parts, transformer_weights={b.name: b.weight for b in blocks})
