"""The tagger's estimator: shared text features, a multi-label topic head and a stance head.

It follows scikit-learn's conventions (``__init__`` stores parameters, ``fit`` learns attributes
ending in ``_`` and returns ``self``, no I/O), so it pickles, clones and cross-validates like any
estimator. Each topic gets its own decision threshold, chosen on out-of-fold probabilities of the
training data only (grouped by article), because a fixed 0.5 suits neither rare nor common topics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, clone

from .features import check_feature_set, make_features

__all__ = ["TopicStanceModel", "Prediction", "choose_threshold", "grouped_splits"]

THRESHOLD_GRID = np.round(np.arange(0.10, 0.91, 0.025), 3)


@dataclass(frozen=True)
class Prediction:
    """Probabilities and decisions for a batch of texts."""

    topic_proba: np.ndarray  # (n, n_topics)
    topics: np.ndarray  # (n, n_topics) bool, probability >= that topic's threshold
    stance_proba: np.ndarray  # (n, n_stances)
    stance: np.ndarray  # (n,) index into the stance names


def choose_threshold(y_true: np.ndarray, proba: np.ndarray) -> float:
    """The threshold on the grid with the best F1; ties go to the one nearest 0.5.

    With no positive example there is nothing to tune on, so 0.5 stays.
    """
    y_true = np.asarray(y_true, dtype=bool)
    if not y_true.any():
        return 0.5
    best, best_key = 0.5, (-1.0, 0.0)
    for threshold in THRESHOLD_GRID:
        predicted = proba >= threshold
        tp = np.sum(predicted & y_true)
        denominator = predicted.sum() + y_true.sum()
        f1 = 2 * tp / denominator if denominator else 0.0
        key = (round(float(f1), 9), -abs(threshold - 0.5))
        if key > best_key:
            best, best_key = float(threshold), key
    return best


def grouped_splits(groups: Sequence[str], n_splits: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train/test index pairs with no group on both sides (leave-one-group-out when groups are few)."""
    from sklearn.model_selection import GroupKFold, LeaveOneGroupOut

    groups = np.asarray(groups)
    n_groups = len(np.unique(groups))
    placeholder = np.zeros(len(groups))
    if n_groups <= n_splits:
        return list(LeaveOneGroupOut().split(placeholder, groups=groups))
    splitter = GroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(splitter.split(placeholder, groups=groups))


class TopicStanceModel(BaseEstimator):
    """Topics (one-vs-rest logistic regression) and stance (multinomial) over one feature union.

    Parameters
    ----------
    n_topics, n_stances:
        Sizes of the label sets (names live in the schema, beside the model).
    features:
        Feature set name, see ``nkclassify.features.FEATURE_SETS``.
    topic_c, stance_c:
        Inverse regularisation strength of the two heads.
    threshold_folds:
        Grouped folds used inside ``fit`` to get out-of-fold probabilities for the thresholds;
        0 keeps every threshold at 0.5.
    seed:
        Seed for every random choice (fold assignment, solvers).
    """

    def __init__(
        self,
        n_topics: int = 5,
        n_stances: int = 3,
        features: str = "tfidf",
        topic_c: float = 4.0,
        stance_c: float = 4.0,
        threshold_folds: int = 5,
        seed: int = 0,
    ) -> None:
        self.n_topics = n_topics
        self.n_stances = n_stances
        self.features = features
        self.topic_c = topic_c
        self.stance_c = stance_c
        self.threshold_folds = threshold_folds
        self.seed = seed

    def _heads(self):
        from sklearn.linear_model import LogisticRegression

        topic = LogisticRegression(
            C=self.topic_c, class_weight="balanced", solver="liblinear", max_iter=2000, random_state=self.seed
        )
        stance = LogisticRegression(
            C=self.stance_c, class_weight="balanced", solver="lbfgs", max_iter=3000, random_state=self.seed
        )
        return topic, stance

    def _fit_core(self, texts: Sequence[str], y_topics: np.ndarray, y_stance: np.ndarray):
        features = make_features(check_feature_set(self.features))
        x = features.fit_transform(list(texts))
        topic_proto, stance_proto = self._heads()
        topic_heads = []
        for k in range(self.n_topics):
            column = y_topics[:, k]
            if column.min() == column.max():  # a topic never (or always) seen: constant answer
                topic_heads.append(float(column[0]) if len(column) else 0.0)
            else:
                topic_heads.append(clone(topic_proto).fit(x, column))
        if len(np.unique(y_stance)) < 2:  # one stance only (a tiny training set): constant answer
            stance_head = int(y_stance[0])
        else:
            stance_head = clone(stance_proto).fit(x, y_stance)
        return features, topic_heads, stance_head

    @staticmethod
    def _topic_proba(heads: list, x) -> np.ndarray:
        columns = []
        for head in heads:
            if isinstance(head, float):
                columns.append(np.full(x.shape[0], head))
            else:
                columns.append(head.predict_proba(x)[:, 1])
        return np.column_stack(columns)

    def _stance_proba(self, head, x) -> np.ndarray:
        proba = np.zeros((x.shape[0], self.n_stances))
        if isinstance(head, int):
            proba[:, head] = 1.0
        else:
            proba[:, head.classes_] = head.predict_proba(x)
        return proba

    def fit(
        self,
        texts: Sequence[str],
        y_topics: np.ndarray,
        y_stance: np.ndarray,
        groups: Sequence[str] | None = None,
    ) -> TopicStanceModel:
        """Learn features and both heads; choose topic thresholds on grouped out-of-fold scores."""
        texts = list(texts)
        y_topics = np.asarray(y_topics, dtype=int).reshape(len(texts), self.n_topics)
        y_stance = np.asarray(y_stance, dtype=int)
        self.thresholds_ = np.full(self.n_topics, 0.5)
        if self.threshold_folds and groups is not None and len(set(groups)) >= 2:
            oof = np.zeros((len(texts), self.n_topics))
            for train, test in grouped_splits(groups, self.threshold_folds, self.seed):
                feats, heads, _ = self._fit_core([texts[i] for i in train], y_topics[train], y_stance[train])
                oof[test] = self._topic_proba(heads, feats.transform([texts[i] for i in test]))
            self.thresholds_ = np.array(
                [choose_threshold(y_topics[:, k], oof[:, k]) for k in range(self.n_topics)]
            )
        self.features_, self.topic_heads_, self.stance_head_ = self._fit_core(texts, y_topics, y_stance)
        return self

    def transform(self, texts: Sequence[str]):
        """The feature matrix for ``texts`` (what the heads see)."""
        return self.features_.transform(list(texts))

    def predict_from_features(self, x) -> Prediction:
        topic_proba = self._topic_proba(self.topic_heads_, x)
        stance_proba = self._stance_proba(self.stance_head_, x)
        return Prediction(
            topic_proba=topic_proba,
            topics=topic_proba >= self.thresholds_,
            stance_proba=stance_proba,
            stance=stance_proba.argmax(axis=1),
        )

    def predict(self, texts: Sequence[str]) -> Prediction:
        """Topic and stance probabilities and decisions for each text."""
        return self.predict_from_features(self.transform(texts))
