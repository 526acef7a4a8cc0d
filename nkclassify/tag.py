"""Tag text with a trained model: the Python API behind ``nkclassify tag`` and ``explain``.

from nkclassify import Tagger
tagger = Tagger.load()
for record in tagger.tag(["Nine workers defected to South Korea."]):
    print(record["topics"], record["stance"], record["scores"])
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .errors import ModelError
from .inputs import Document, Problem, iter_documents, iter_line_chunks
from .segment import split_lines, split_sentences
from .store import DEFAULT_MODEL_PATH, StaleModelError, StoredModel, load_model

__all__ = ["Tagger", "TaggedDocument", "Explanation", "summarise", "CACHE_DIR"]

CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "nkclassify"


@dataclass
class TaggedDocument:
    """Every unit of one input, tagged; ``note`` carries a warning about how it was read."""

    source: str
    units: list[dict[str, Any]]
    note: str | None = None


@dataclass
class Explanation:
    """Why the model tagged a sentence as it did: the n-grams that pushed each decision most."""

    text: str
    topics: dict[str, dict[str, Any]] = field(default_factory=dict)  # predicted topics only
    stance: dict[str, Any] = field(default_factory=dict)
    best_rejected_topic: dict[str, Any] | None = None


class Tagger:
    """A loaded model plus the label names it predicts."""

    def __init__(self, stored: StoredModel, notes: Sequence[str] = ()) -> None:
        self.stored = stored
        self.model = stored.model
        self.topic_names = stored.schema.topic_names
        self.stance_names = stored.schema.stance_names
        self.notes = list(notes)

    @classmethod
    def load(cls, path: Path | str | None = None) -> Tagger:
        """Load a model (default: the shipped one), verifying its hash and versions.

        The shipped model is rebuilt from the shipped labels into the user cache when the installed
        scikit-learn differs from the one that pickled it (a few seconds); a model given by path is
        never rebuilt silently.
        """
        if path is not None:
            return cls(load_model(Path(path)))
        try:
            return cls(load_model(DEFAULT_MODEL_PATH))
        except StaleModelError as stale:
            return cls._rebuilt_default(str(stale))

    @classmethod
    def _rebuilt_default(cls, reason: str) -> Tagger:
        from .dataset import load_corpus
        from .store import read_card
        from .train import train

        card = read_card(DEFAULT_MODEL_PATH)
        corpus = load_corpus()
        cached = CACHE_DIR / f"{corpus.data_hash[:16]}-{card.get('features', 'tfidf')}.joblib"
        try:
            return cls(load_model(cached), [f"using rebuilt model {cached}"])
        except ModelError:
            pass
        train(corpus, cached, features=card.get("features", "tfidf"), seed=card.get("seed", 0), cv_folds=0)
        return cls(
            load_model(cached), [f"{reason.split(';')[0]}; rebuilt it from the shipped labels at {cached}"]
        )

    def predict_records(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        """Topics, stance and rounded probabilities for each text (no source or index)."""
        if not texts:
            return []
        prediction = self.model.predict(list(texts))
        # Rounded and converted in bulk: per-value Python calls would cost more than the model.
        topic_proba = np.round(prediction.topic_proba, 4).tolist()
        stance_proba = np.round(prediction.stance_proba, 4).tolist()
        chosen = prediction.topics.tolist()
        stance = prediction.stance.tolist()
        topic_names, stance_names = self.topic_names, self.stance_names
        records = []
        for i, text in enumerate(texts):
            records.append(
                {
                    "text": text,
                    "topics": [n for n, on in zip(topic_names, chosen[i]) if on],
                    "stance": stance_names[stance[i]],
                    "scores": {
                        "topics": dict(zip(topic_names, topic_proba[i])),
                        "stance": dict(zip(stance_names, stance_proba[i])),
                    },
                }
            )
        return records

    def tag(self, texts: Iterable[str] | str) -> list[dict[str, Any]]:
        """Tag each text as one unit (a string is one unit)."""
        return self.predict_records([texts] if isinstance(texts, str) else list(texts))

    def tag_article(self, text: str, lines: bool = False) -> list[dict[str, Any]]:
        """Split an article into sentences (or lines) and tag each, with offsets."""
        return next(self.tag_documents([Document("-", text)], lines=lines)).units

    def tag_inputs(
        self, paths: Sequence[str], stdin: BinaryIO | None, lines: bool = False
    ) -> Iterator[TaggedDocument | Problem]:
        """Tag what a user named: files, folders, or ``-``/nothing for standard input.

        Standard input alone in ``lines`` mode is read in chunks, so output streams as input
        arrives and the unit index runs on across chunks.
        """
        sources = list(paths) or ["-"]
        streaming = lines and sources == ["-"]
        documents = iter_line_chunks(stdin) if streaming and stdin else iter_documents(sources, stdin)
        return self.tag_documents(documents, lines=lines, continue_index=streaming)

    def tag_documents(
        self,
        documents: Iterable[Document | Problem],
        lines: bool = False,
        batch_units: int = 4096,
        continue_index: bool = False,
    ) -> Iterator[TaggedDocument | Problem]:
        """Tag documents in order, predicting in batches across documents for speed.

        Problems pass straight through, in place, so the caller can report them. With
        ``continue_index`` the unit index runs on across documents of the same source
        (standard input read in chunks).
        """
        split = split_lines if lines else split_sentences
        pending: list[tuple[Document | Problem, list]] = []
        count = 0
        offsets: dict[str, int] = {}

        def flush() -> Iterator[TaggedDocument | Problem]:
            texts = [u.text for item, units in pending for u in units]
            records = iter(self.predict_records(texts))
            for item, units in pending:
                if isinstance(item, Problem):
                    yield item
                    continue
                base = offsets.get(item.source, 0) if continue_index else 0
                tagged = []
                for unit in units:
                    record = next(records)
                    tagged.append({"source": item.source, "index": base + unit.index, **record})
                offsets[item.source] = base + len(units)
                yield TaggedDocument(item.source, tagged, item.note)

        for item in documents:
            units = [] if isinstance(item, Problem) else split(item.text)
            pending.append((item, units))
            count += len(units)
            if count >= batch_units:
                yield from flush()
                pending, count = [], 0
        yield from flush()

    def explain(self, text: str, top: int = 8) -> Explanation:
        """The n-grams whose weight x value pushed each predicted label most (linear models only)."""
        x = self.model.transform([text])
        prediction = self.model.predict_from_features(x)
        names = self.model.features_.get_feature_names_out()
        row = x.tocsr() if hasattr(x, "tocsr") else None
        explanation = Explanation(text)

        def contributions(coef: np.ndarray) -> list[dict[str, Any]]:
            if row is None:
                return []
            idx, values = row.indices, row.data
            scores = values * coef[idx]
            ngram = np.array(
                [str(names[i]).split("__")[0] not in ("static", "minilm") for i in idx], dtype=bool
            )
            order = np.argsort(-scores)
            out = [
                {"feature": _pretty(names[idx[i]]), "weight": round(float(scores[i]), 4)}
                for i in order
                if ngram[i] and scores[i] > 0
            ][:top]
            embedded = float(scores[~ngram].sum()) if (~ngram).any() else None
            if embedded is not None:
                out.append({"feature": "[sentence embedding, all dimensions]", "weight": round(embedded, 4)})
            return out

        best_rejected = None
        for k, name in enumerate(self.topic_names):
            head = self.model.topic_heads_[k]
            if isinstance(head, float):
                continue
            entry = {
                "probability": round(float(prediction.topic_proba[0, k]), 4),
                "threshold": float(self.model.thresholds_[k]),
                "evidence": contributions(head.coef_[0]),
            }
            if prediction.topics[0, k]:
                explanation.topics[name] = entry
            elif best_rejected is None or entry["probability"] > best_rejected["probability"]:
                best_rejected = {"topic": name, **entry}
        explanation.best_rejected_topic = best_rejected
        stance_index = int(prediction.stance[0])
        head = self.model.stance_head_
        if isinstance(head, int):  # trained on one stance only: nothing weighed the decision
            coef = np.zeros(x.shape[1])
        else:
            class_row = list(head.classes_).index(stance_index)
            coef = (
                head.coef_[class_row] if head.coef_.shape[0] > 1 else head.coef_[0] * (1 if class_row else -1)
            )
        explanation.stance = {
            "label": self.stance_names[stance_index],
            "probability": round(float(prediction.stance_proba[0, stance_index]), 4),
            "evidence": contributions(coef),
        }
        return explanation


def _pretty(feature: str) -> str:
    kind, _, value = str(feature).partition("__")
    return f"'{value}'" if kind == "word" else f"'{value}' ({kind})"


def summarise(
    units: Sequence[dict[str, Any]], topic_names: Sequence[str], stance_names: Sequence[str]
) -> dict:
    """Share of units per topic and stance counts for one article."""
    n = len(units)
    return {
        "units": n,
        "topics": {
            t: {"count": c, "share": c / n if n else 0.0}
            for t in topic_names
            for c in [sum(t in u["topics"] for u in units)]
        },
        "stance": {s: sum(u["stance"] == s for u in units) for s in stance_names},
    }
