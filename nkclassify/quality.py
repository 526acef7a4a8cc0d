"""Corpus quality measures: copied runs, near-copies across articles, the texture of real pages.

Shared by the corpus tests (which hold the shipped corpus to its targets) and
``scripts/corpus_stats.py`` (which writers run on a batch before it is labelled in full), so the
two always measure the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["RUN", "NEAR", "runs", "copied_runs", "NearCopy", "near_copies", "texture"]

RUN = 8  # words in a row that a written unit may not share with a real seed article
NEAR = 0.35  # TF-IDF cosine (English stop words removed) from which a unit is a near-copy
_MIN_WORDS = 8  # shorter units are too thin to call copies
_QUOTE = re.compile(r"[\"“”]")


def runs(text: str, length: int = RUN) -> set[tuple[str, ...]]:
    """Every run of ``length`` words (lowercased) in ``text``."""
    tokens = re.findall(r"\w+", text.lower())
    return {tuple(tokens[i : i + length]) for i in range(len(tokens) - length + 1)}


def copied_runs(texts: Iterable[str], sources: Iterable[str]) -> list[int]:
    """Positions of the texts that share a run of ``RUN`` words with any of ``sources``."""
    seen: set[tuple[str, ...]] = set()
    for source in sources:
        seen |= runs(source)
    return [i for i, text in enumerate(texts) if runs(text) & seen]


@dataclass(frozen=True)
class NearCopy:
    """A unit, its nearest unit in another article, and their cosine."""

    unit: int
    nearest: int
    cosine: float


def near_copies(
    docs: Sequence[str], texts: Sequence[str], candidates: Sequence[int]
) -> tuple[int, list[NearCopy]]:
    """Among ``candidates`` (positions) of 8+ words, those whose nearest unit in another article is a near-copy.

    Returns how many candidates were long enough to count, and the near-copies found.
    """
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    matrix = TfidfVectorizer(stop_words="english").fit_transform(texts)
    doc_array = np.asarray(docs)
    long = [i for i in candidates if len(texts[i].split()) >= _MIN_WORDS]
    found: list[NearCopy] = []
    for start in range(0, len(long), 500):  # blocks keep the dense similarity rows small
        rows = long[start : start + 500]
        sims = (matrix[rows] @ matrix.T).toarray()
        sims[doc_array[rows][:, None] == doc_array[None, :]] = 0.0
        best = sims.argmax(axis=1)
        for k, i in enumerate(rows):
            if sims[k, best[k]] >= NEAR:
                found.append(NearCopy(i, int(best[k]), float(sims[k, best[k]])))
    return len(long), found


def texture(texts: Sequence[str]) -> dict[str, float]:
    """Shares of units with a direct quote, over 35 words, and with any non-ASCII character."""
    n = len(texts) or 1
    return {
        "quotes": sum(bool(_QUOTE.search(t)) for t in texts) / n,
        "over_35_words": sum(len(t.split()) > 35 for t in texts) / n,
        "non_ascii": sum(not t.isascii() for t in texts) / n,
    }
