"""The tagger's estimator: shared TF-IDF features, a multi-label topic head and a stance head.

A standard scikit-learn estimator: ``fit(X, Y)`` with ``X`` a list of texts and ``Y`` an integer
matrix whose first columns are topic indicators and whose last column is the stance index;
``predict(X)`` returns the same layout and ``predict_proba(X)`` the pair (topic probabilities,
stance probabilities). So ``cross_validate``, ``GridSearchCV`` and ``clone`` work on it.

The stance head can see the topic head's probabilities (``stance_topics``): whether a sentence is
about the programme at all is what separates a neutral on-topic report from an unrelated line.
Those probabilities are taken out of fold during ``fit``, so the stance head learns how much to
trust them on text the topic head has not seen.

``export()`` turns the fitted model into plain arrays for the numpy engine (``nkclassify.engine``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone

from .analyzer import Analyzer
from .features import DEFAULT_FEATURES, FEATURE_SETS, VectorBlock, check_feature_set, make_features

__all__ = ["TopicStanceModel", "choose_threshold", "grouped_splits", "THRESHOLD_GRID"]

THRESHOLD_GRID = np.round(np.arange(0.10, 0.91, 0.025), 3)
_CONSTANT_LOGIT = 30.0  # a constant head's decision value: probability 1 - 9e-14 (or 9e-14)
_ABSENT = -1e9  # decision value of a stance class the training data lacked: probability 0


def choose_threshold(y_true: np.ndarray, proba: np.ndarray) -> float:
    """The threshold on the grid with the best F1; ties go to the one nearest 0.5."""
    from sklearn.metrics import f1_score

    y_true = np.asarray(y_true, dtype=bool)
    if not y_true.any():
        return 0.5
    scores = [
        (round(f1_score(y_true, proba >= t, zero_division=0), 9), -abs(t - 0.5), t) for t in THRESHOLD_GRID
    ]
    return float(max(scores)[2])


def grouped_splits(groups, n_splits: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train/test index pairs with no group on both sides (leave-one-group-out when groups are few)."""
    from sklearn.model_selection import GroupKFold, LeaveOneGroupOut

    groups = np.asarray(groups)
    placeholder = np.zeros(len(groups))
    if len(np.unique(groups)) <= n_splits:
        return list(LeaveOneGroupOut().split(placeholder, groups=groups))
    return list(
        GroupKFold(n_splits=n_splits, shuffle=True, random_state=seed).split(placeholder, groups=groups)
    )


class TopicStanceModel(BaseEstimator):
    """Topics (one logistic regression per topic) and stance (multinomial) over one feature union.

    Parameters
    ----------
    features:
        Feature set name, see ``nkclassify.features.FEATURE_SETS``.
    topic_c, stance_c:
        Inverse regularisation strength of the two heads.
    stance_topics:
        Give the stance head the topic head's (out-of-fold) probabilities as extra features.
    thresholds:
        ``"fixed"`` (0.5 for every topic) or ``"tuned"`` (per topic, best F1 on out-of-fold
        probabilities of the training data).
    inner_folds:
        Folds for the out-of-fold probabilities (grouped by ``groups`` when ``fit`` gets them).
    seed:
        Seed for every random choice (fold assignment, solvers).
    rare_stance_tilt:
        The stance head's class weights are "balanced", and the least frequent stance in the
        training data (``favor`` in ours) gets this much more on top: its recall matters to the
        people reading (chosen on event-grouped CV, see the README's selection table).
    """

    def __init__(
        self,
        features: str = DEFAULT_FEATURES,
        topic_c: float = 8.0,
        stance_c: float = 4.0,
        stance_topics: bool = False,
        thresholds: str = "fixed",
        inner_folds: int = 5,
        seed: int = 0,
        rare_stance_tilt: float = 1.5,
    ) -> None:
        self.features = features
        self.topic_c = topic_c
        self.stance_c = stance_c
        self.stance_topics = stance_topics
        self.thresholds = thresholds
        self.inner_folds = inner_folds
        self.seed = seed
        self.rare_stance_tilt = rare_stance_tilt

    # -- fitting -----------------------------------------------------------------------------------

    def _topic_head(self):
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(
            C=self.topic_c, class_weight="balanced", solver="liblinear", max_iter=2000, random_state=self.seed
        )

    def _stance_head(self, y: np.ndarray):
        from sklearn.linear_model import LogisticRegression
        from sklearn.utils.class_weight import compute_class_weight

        classes, counts = np.unique(y, return_counts=True)
        weights = compute_class_weight("balanced", classes=classes, y=y)
        weights[np.argmin(counts)] *= self.rare_stance_tilt
        return LogisticRegression(
            C=self.stance_c,
            class_weight={int(c): float(w) for c, w in zip(classes, weights)},
            solver="lbfgs",
            max_iter=3000,
            random_state=self.seed,
        )

    @staticmethod
    def _fit_binary(proto, x, column: np.ndarray):
        from sklearn.dummy import DummyClassifier

        if column.min() == column.max():  # never (or always) seen: a constant answer
            return DummyClassifier(strategy="prior").fit(x, column)
        return clone(proto).fit(x, column)

    def _fit_topics(self, x, y_topics: np.ndarray) -> list:
        proto = self._topic_head()
        return [self._fit_binary(proto, x, y_topics[:, k]) for k in range(y_topics.shape[1])]

    @staticmethod
    def _proba_of(heads: list, x) -> np.ndarray:
        columns = []
        for head in heads:
            proba = head.predict_proba(x)
            columns.append(
                proba[:, 1] if proba.shape[1] == 2 else np.full(x.shape[0], float(head.classes_[0]))
            )
        return np.column_stack(columns)

    def _inner_splits(self, n: int, groups) -> list[tuple[np.ndarray, np.ndarray]]:
        if groups is not None and len(np.unique(groups)) >= 2:
            return grouped_splits(groups, self.inner_folds, self.seed)
        from sklearn.model_selection import KFold

        return list(KFold(min(self.inner_folds, n), shuffle=True, random_state=self.seed).split(np.zeros(n)))

    def _stance_input(self, x, topic_proba: np.ndarray):
        if not self.stance_topics:
            return x
        from scipy.sparse import csr_matrix, hstack

        return hstack([x, csr_matrix(topic_proba)], format="csr")

    def fit(self, X, Y, groups=None) -> TopicStanceModel:
        """Learn the features and both heads from texts ``X`` and label matrix ``Y``."""
        check_feature_set(self.features)
        if self.thresholds not in ("fixed", "tuned"):
            raise ValueError(f"thresholds must be 'fixed' or 'tuned', got {self.thresholds!r}")
        texts = _texts(X)
        Y = np.asarray(Y)
        if Y.ndim != 2 or Y.shape[0] != len(texts) or Y.shape[1] < 2:
            raise ValueError(
                f"Y must have shape (n_texts, n_topics + 1) = ({len(texts)}, k + 1); got {Y.shape}"
            )
        if not np.issubdtype(Y.dtype, np.integer):
            raise ValueError(f"Y must hold integers (topic indicators and a stance index), got {Y.dtype}")
        y_topics, y_stance = Y[:, :-1].astype(int), Y[:, -1].astype(int)
        if not set(np.unique(y_topics)) <= {0, 1}:
            raise ValueError("topic columns of Y must be 0 or 1")
        self.n_topics_ = y_topics.shape[1]
        self.n_stances_ = int(y_stance.max()) + 1
        need_oof = self.stance_topics or self.thresholds == "tuned"
        oof = np.zeros(y_topics.shape, dtype=float)
        if need_oof and len(texts) >= 2:
            for train, test in self._inner_splits(len(texts), groups):
                features = make_features(self.features)
                xt = features.fit_transform([texts[i] for i in train])
                heads = self._fit_topics(xt, y_topics[train])
                oof[test] = self._proba_of(heads, features.transform([texts[i] for i in test]))
        self.thresholds_ = np.full(self.n_topics_, 0.5)
        if self.thresholds == "tuned":
            self.thresholds_ = np.array(
                [choose_threshold(y_topics[:, k], oof[:, k]) for k in range(self.n_topics_)]
            )
        self.features_ = make_features(self.features)
        x = self.features_.fit_transform(texts)
        self.topic_heads_ = self._fit_topics(x, y_topics)
        self.stance_head_ = self._fit_binary_or_multi(self._stance_input(x, oof), y_stance)
        return self

    def _fit_binary_or_multi(self, x, y: np.ndarray):
        from sklearn.dummy import DummyClassifier

        if len(np.unique(y)) < 2:
            return DummyClassifier(strategy="prior").fit(x, y)
        return self._stance_head(y).fit(x, y)

    # -- prediction --------------------------------------------------------------------------------

    def transform(self, X):
        """The TF-IDF matrix the heads see (without the stacked topic probabilities)."""
        return self.features_.transform(_texts(X))

    def predict_proba(self, X) -> tuple[np.ndarray, np.ndarray]:
        """(topic probabilities (n, n_topics), stance probabilities (n, n_stances))."""
        x = self.transform(X)
        topic_proba = self._proba_of(self.topic_heads_, x)
        stance_x = self._stance_input(x, topic_proba)
        stance_proba = np.zeros((x.shape[0], self.n_stances_))
        stance_proba[:, self.stance_head_.classes_] = self.stance_head_.predict_proba(stance_x)
        return topic_proba, stance_proba

    def predict(self, X) -> np.ndarray:
        """Labels in ``Y``'s layout: topic indicators (probability >= threshold), then the stance."""
        topic_proba, stance_proba = self.predict_proba(X)
        topics = (topic_proba >= self.thresholds_).astype(int)
        return np.column_stack([topics, stance_proba.argmax(axis=1)])

    def score(self, X, Y) -> float:
        """Mean of topic micro-F1 and stance macro-F1 (what model selection maximises by default)."""
        from sklearn.metrics import f1_score

        Y, P = np.asarray(Y), self.predict(X)
        topics = f1_score(Y[:, :-1], P[:, :-1], average="micro", zero_division=0)
        stance = f1_score(Y[:, -1], P[:, -1], average="macro", zero_division=0)
        return float((topics + stance) / 2)

    # -- export ------------------------------------------------------------------------------------

    def export(self) -> dict[str, Any]:
        """The fitted model as plain arrays and JSON-ready values (what the engine runs on)."""
        blocks, widths = [], []
        for (name, vectorizer), spec in zip(self.features_.transformer_list, FEATURE_SETS[self.features]):
            if isinstance(spec, VectorBlock):  # dense: the piece vocabulary and its vectors
                table = vectorizer.table
                blocks.append(
                    {
                        "name": name,
                        "kind": "vectors",
                        "weight": float(spec.weight),
                        "vocabulary": list(table.pieces),
                        "vectors": table.vectors,
                    }
                )
                widths.append(table.dim)
                continue
            vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
            blocks.append(
                {
                    "name": name,
                    "analyzer": vectorizer.analyzer.to_dict(),
                    "weight": float(spec.weight),
                    "vocabulary": vocabulary,
                    "idf": np.asarray(vectorizer.idf_, dtype=np.float64),
                }
            )
            widths.append(len(vocabulary))
        n_features = sum(widths)  # columns: a TF-IDF block's vocabulary, a vector block's dimensions
        topic_coef = np.zeros((n_features, self.n_topics_))
        topic_intercept = np.zeros(self.n_topics_)
        for k, head in enumerate(self.topic_heads_):
            if hasattr(head, "coef_"):
                topic_coef[:, k] = head.coef_[0]
                topic_intercept[k] = head.intercept_[0]
            else:
                topic_intercept[k] = _CONSTANT_LOGIT if head.classes_[0] == 1 else -_CONSTANT_LOGIT
        stance_coef = np.zeros((n_features, self.n_stances_))
        stance_topic_coef = np.zeros((self.n_topics_, self.n_stances_))
        stance_intercept = np.full(self.n_stances_, _ABSENT)
        head = self.stance_head_
        classes = list(head.classes_)
        if not hasattr(head, "coef_"):
            stance_intercept[classes[0]] = 0.0
        else:
            coef, intercept = head.coef_, head.intercept_
            if coef.shape[0] == 1:  # binary: softmax over (0, z) equals the logistic of z
                coef = np.vstack([np.zeros_like(coef[0]), coef[0]])
                intercept = np.array([0.0, intercept[0]])
            for row, cls in enumerate(classes):
                stance_coef[:, cls] = coef[row, :n_features]
                if self.stance_topics:
                    stance_topic_coef[:, cls] = coef[row, n_features:]
                stance_intercept[cls] = intercept[row]
        from .words import WordTable

        fast = {
            b["name"]: (Analyzer.from_dict(b["analyzer"]), list(b["vocabulary"]))
            for b in blocks
            if "analyzer" in b and WordTable.handles(Analyzer.from_dict(b["analyzer"]))
        }
        return {
            "features": self.features,
            "params": self.get_params(),
            "blocks": blocks,
            "word_table": WordTable(fast).export() if fast else None,
            "topic_coef": topic_coef,
            "topic_intercept": topic_intercept,
            "thresholds": np.asarray(self.thresholds_, dtype=np.float64),
            "stance_coef": stance_coef,
            "stance_topic_coef": stance_topic_coef,
            "stance_intercept": stance_intercept,
        }


def _texts(X) -> list[str]:
    if isinstance(X, str):
        raise ValueError("X must be a sequence of texts, not one string")
    texts = list(X)
    if not all(isinstance(t, str) for t in texts):
        raise ValueError("X must hold strings")
    return texts
