"""Tag with arrays: the fitted model's arithmetic in numpy alone (no scikit-learn, no scipy).

Training fits with scikit-learn and exports vocabulary, idf and coefficients; this module redoes
the same sums: tokens (the shared ``Analyzer``) -> counts -> sublinear tf x idf -> L2 per block x
block weight, and for a vector block the unit sentence vector (``vectors.PieceVectors``, the same
code training ran) x block weight -> linear scores -> logistic (topics) and softmax (stance). A
test holds it to the scikit-learn pipeline within 1e-9 for every feature set. It also explains a
decision term by term (a vector block word by word).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np

from .analyzer import PREFIX_MARK, Analyzer, parts
from .errors import ModelError
from .lexicon import CUE_PREFIX, cue_matches
from .modelfile import read_model_file
from .vectors import PieceVectors
from .words import WordTable

__all__ = ["Engine", "Explanation"]


@dataclass
class _Block:
    name: str
    analyzer: Analyzer
    weight: float
    idf: np.ndarray
    offset: int  # first column of this block in the stacked matrix
    tokens: list[str]

    @cached_property
    def vocabulary(self) -> dict[str, int]:
        """Token -> column; built on first use (the word road rarely needs it, start-up never)."""
        return {t: i for i, t in enumerate(self.tokens)}


@dataclass
class _Dense:
    """A vector block: its piece table, weight and first column; ``head`` is the (dim, heads)
    weights of its columns times the block weight, set once the weights are stacked."""

    name: str
    table: PieceVectors
    weight: float
    offset: int
    head: np.ndarray | None = None


@dataclass
class Explanation:
    """Why the model tagged a sentence as it did: the features that pushed each decision most."""

    text: str
    topics: dict[str, dict[str, Any]] = field(default_factory=dict)  # predicted topics only
    stance: dict[str, Any] = field(default_factory=dict)
    best_rejected_topic: dict[str, Any] | None = None


class Engine:
    """A loaded model file: label names, card, and predictions from plain arrays."""

    def __init__(
        self, meta: dict, vocabulary: dict, arrays: dict, where: str = "model", word_table: dict | None = None
    ) -> None:
        try:
            schema = meta["schema"]
            self.topic_names: list[str] = list(schema["topics"])
            self.stance_names: list[str] = list(schema["stance"]["labels"])
            self.polar: list[str] = list(schema.get("polar", [s for s in self.stance_names if s != "none"]))
            self.schema = schema
            self.card: dict[str, Any] = meta.get("card", {})
            self.features: str = meta["features"]
            self.blocks: list[_Block] = []
            self.dense: list[_Dense] = []
            offset = 0
            for spec in meta["blocks"]:
                if spec.get("kind") == "vectors":
                    table = PieceVectors(vocabulary[spec["name"]], arrays[f"{spec['name']}.vectors"])
                    self.dense.append(_Dense(spec["name"], table, float(spec["weight"]), offset))
                    offset += table.dim
                    continue
                tokens = list(vocabulary[spec["name"]])
                idf = np.asarray(arrays[f"{spec['name']}.idf"], dtype=np.float64)
                if idf.shape != (len(tokens),):
                    raise ValueError(f"block {spec['name']}: idf and vocabulary sizes differ")
                self.blocks.append(
                    _Block(
                        spec["name"],
                        Analyzer.from_dict(spec["analyzer"]),
                        float(spec["weight"]),
                        idf,
                        offset,
                        tokens,
                    )
                )
                offset += len(tokens)
            k, s = len(self.topic_names), len(self.stance_names)
            self.topic_coef = _shaped(arrays, "topic_coef", (offset, k))
            self.topic_intercept = _shaped(arrays, "topic_intercept", (k,))
            self.thresholds = _shaped(arrays, "thresholds", (k,))
            self.stance_coef = _shaped(arrays, "stance_coef", (offset, s))
            self.stance_topic_coef = _shaped(arrays, "stance_topic_coef", (k, s))
            self.stance_intercept = _shaped(arrays, "stance_intercept", (s,))
            fast = {b.name: (b.analyzer, b.tokens) for b in self.blocks if WordTable.handles(b.analyzer)}
            if word_table is not None and set(word_table) != {"words", *fast}:
                raise ValueError("the word tables do not match the feature blocks")
            self._words = WordTable(fast, word_table) if fast else None
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{where}: model file is inconsistent ({type(exc).__name__}: {exc})") from None
        # one matrix for both heads: a single gather per feature value
        self._weights = np.hstack([self.topic_coef, self.stance_coef])
        for block in self.dense:
            block.head = self._weights[block.offset : block.offset + block.table.dim] * block.weight
        self.n_features = offset

    @classmethod
    def load(cls, path: Path | str) -> Engine:
        path = Path(path)
        content = read_model_file(path)
        return cls(
            content["meta"], content["vocabulary"], content["arrays"], str(path), content["word_table"]
        )

    # -- arithmetic --------------------------------------------------------------------------------

    def vectorize(self, texts: Sequence[str], words=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sparse rows as flat arrays (row, column, value), sorted by row then column.

        ``words`` is the word table's batch of ``texts`` when the caller has cut it already.
        """
        n = len(texts)
        all_rows, all_cols, all_vals = [], [], []
        if words is None and self._words is not None:
            words = self._words.batch(texts)
        prepared = None
        for block in self.blocks:
            if words is not None and block.name in self._words.blocks:
                row, col = self._words.cells(block.name, words)
            else:
                if prepared is None:
                    prepared = [parts(text) for text in texts]
                row, col = self._cut(block, prepared)
            if not len(row):
                continue
            width = len(block.tokens)
            keys, counts = np.unique(row * width + col, return_counts=True)
            row, col = np.divmod(keys, width)
            value = (1.0 + np.log(counts)) * block.idf[col]
            norms = np.sqrt(np.bincount(row, weights=value * value, minlength=n))
            value = value / norms[row] * block.weight
            all_rows.append(row)
            all_cols.append(col + block.offset)
            all_vals.append(value)
        if not all_rows:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0)
        if len(all_rows) == 1:  # one block's cells come sorted by row, then column
            return all_rows[0], all_cols[0], all_vals[0]
        row = np.concatenate(all_rows)
        col = np.concatenate(all_cols)
        val = np.concatenate(all_vals)
        order = np.argsort(row, kind="stable")
        return row[order], col[order], val[order]

    @staticmethod
    def _cut(block: _Block, prepared: list[tuple[str, list[str]]]) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every known token, the analyzer run text by text (character n-grams)."""
        analyze = block.analyzer.tokens
        tokens: list[str] = []
        lengths = []
        for text, words in prepared:
            cut = analyze(text, words)
            tokens += cut
            lengths.append(len(cut))
        # one lookup pass for the whole batch; unknown tokens are -1 and dropped in numpy
        ids = np.fromiter(map(block.vocabulary.get, tokens, repeat(-1)), dtype=np.int64, count=len(tokens))
        rows = np.repeat(np.arange(len(prepared), dtype=np.int64), lengths)
        known = ids >= 0
        return rows[known], ids[known]

    def predict_proba(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(topic probabilities (n, k), stance probabilities (n, s)) for each text."""
        n, k = len(texts), len(self.topic_names)
        scores = np.zeros((n, self._weights.shape[1]))
        batch = self._words.batch(texts) if self._words is not None else None
        row, col, val = self.vectorize(texts, batch)
        if len(row):
            contributions = self._weights.take(col, axis=0)  # take: several times faster than [col] on rows
            contributions *= val[:, None]
            first = np.empty(len(row), dtype=bool)  # where each row's run starts (rows come sorted)
            first[0] = True
            np.not_equal(row[1:], row[:-1], out=first[1:])
            starts = np.flatnonzero(first)
            scores[row[starts]] = np.add.reduceat(contributions, starts, axis=0)
        if self.dense:  # each text's words, in order: from the word road's ids when there is one
            if batch is not None:
                counts = np.bincount(batch.word_rows, minlength=n)
            else:
                per_text = [parts(text)[1] for text in texts]
                words = [w for text in per_text for w in text]
                counts = np.array([len(text) for text in per_text], dtype=np.int64)
            for block in self.dense:
                if batch is not None:
                    slots = block.table.slots_of_ids(
                        batch.word_ids, self._words.words, self._words.generation
                    )
                else:
                    slots = block.table.slots_of(words)
                scores += block.table.scores_of(slots, counts, block.head)
        topic_proba = 1.0 / (1.0 + np.exp(-(scores[:, :k] + self.topic_intercept)))
        stance = scores[:, k:] + topic_proba @ self.stance_topic_coef + self.stance_intercept
        stance -= stance.max(axis=1, keepdims=True)
        np.exp(stance, out=stance)
        stance /= stance.sum(axis=1, keepdims=True)
        return topic_proba, stance

    def predict(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(topic probabilities, topic decisions, stance probabilities, stance indices)."""
        topic_proba, stance_proba = self.predict_proba(texts)
        return topic_proba, topic_proba >= self.thresholds, stance_proba, stance_proba.argmax(axis=1)

    # -- explanations ------------------------------------------------------------------------------

    def _word_evidence(self, text: str) -> list[tuple[str, np.ndarray]]:
        """Per word of ``text``, its share of each head's score through the vector blocks.

        The sentence vector is the unit-length sum of word vectors, so a word's share is its
        vector over the sum's length, times the block weight, times the head's weights.
        """
        words = parts(text)[1]
        shares: dict[str, np.ndarray] = {}
        for block in self.dense:
            vectors = block.table.word_vectors(words).astype(np.float64)
            total = np.linalg.norm(vectors.sum(axis=0)) or 1.0
            for word, share in zip(words, vectors @ block.head / total):
                shares[word] = shares.get(word, 0.0) + share
        return [(f"'{word}' (meaning)", share) for word, share in shares.items()]

    def _describe(self, column: int, text: str) -> str:
        for block in reversed(self.blocks):
            if column >= block.offset:
                token = block.tokens[column - block.offset]
                break
        if token.startswith(CUE_PREFIX):
            name = token[len(CUE_PREFIX) :]
            words = cue_matches(text).get(name, [])
            return f"[{name} terms: {', '.join(dict.fromkeys(words))}]"
        if token.startswith(PREFIX_MARK):
            return f"'{token[len(PREFIX_MARK) :]}-' (word start)"
        if block.name == "char":
            return f"'{token}' (characters)"
        return f"'{token}'"

    def explain(self, text: str, top: int = 8) -> Explanation:
        """For each predicted topic and the stance: the features whose value x weight pushed most."""
        row, col, val = self.vectorize([text])
        topic_proba, topics, stance_proba, stance = self.predict([text])
        explanation = Explanation(text)

        meaning = self._word_evidence(text) if self.dense else []

        def evidence(
            weights: np.ndarray, extra: list[tuple[str, float]] = (), head: int | None = None
        ) -> list[dict[str, Any]]:
            items = [(self._describe(int(c), text), float(v * w)) for c, v, w in zip(col, val, weights[col])]
            items += list(extra)
            if head is not None:
                items += [(name, float(share[head])) for name, share in meaning]
            items = sorted((i for i in items if i[1] > 0), key=lambda i: -i[1])[:top]
            return [{"feature": name, "weight": round(weight, 4)} for name, weight in items]

        best_rejected = None
        for j, name in enumerate(self.topic_names):
            entry = {
                "probability": round(float(topic_proba[0, j]), 4),
                "threshold": float(self.thresholds[j]),
                "evidence": evidence(self.topic_coef[:, j], head=j),
            }
            if topics[0, j]:
                explanation.topics[name] = entry
            elif best_rejected is None or entry["probability"] > best_rejected["probability"]:
                best_rejected = {"topic": name, **entry}
        explanation.best_rejected_topic = best_rejected
        chosen = int(stance[0])
        stacked = [
            (
                f"[topic {t} p={topic_proba[0, j]:.2f}]",
                float(topic_proba[0, j] * self.stance_topic_coef[j, chosen]),
            )
            for j, t in enumerate(self.topic_names)
        ]
        explanation.stance = {
            "label": self.stance_names[chosen],
            "probability": round(float(stance_proba[0, chosen]), 4),
            "evidence": evidence(self.stance_coef[:, chosen], stacked, head=len(self.topic_names) + chosen),
        }
        return explanation


def _shaped(arrays: dict, name: str, shape: tuple[int, ...]) -> np.ndarray:
    array = np.asarray(arrays[name], dtype=np.float64)
    if array.shape != shape:
        raise ValueError(f"{name} has shape {array.shape}, expected {shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds a NaN or infinity")
    return array
