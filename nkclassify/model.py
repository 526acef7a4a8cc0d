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

from .features import DEFAULT_FEATURES, FEATURE_SETS, check_feature_set, make_features

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
    topic_class_weight, stance_class_weight:
        ``class_weight`` of the topic heads and of the stance head(s) (``"balanced"`` or ``None``).
    stance_tilt:
        ``{stance index: factor}`` multiplying the stance class weights (``None``: no tilt).
    stance_design:
        ``"multinomial"`` (one softmax head) or ``"two_step"``: a binary head for polar vs the
        neutral stance (``neutral_stance``), then a head over the polar stances trained on polar
        units only; p(c) = p(polar) * p(c | polar), p(neutral) = 1 - p(polar).
    neutral_stance:
        Index of the neutral stance (used by ``"two_step"``; ``-1``: the last index).
    calibrate:
        Platt-scale each topic head on its out-of-fold decision values (grouped inner folds):
        ``p = sigmoid(a * z + b)``. ``a`` and ``b`` are folded into the head's coefficients and
        intercept, so the exported model is the same kind of linear model.
    topic_blocks, stance_blocks:
        Names of the feature blocks a head sees (``None``: all); the others get weight 0.
    topic_hidden_tokens:
        Vocabulary tokens the topic heads do not see (weight 0), e.g. the stance cue tokens
        ``("@against", "@favor")``: by the guide they say how the programme is shown, not what about.
    """

    def __init__(
        self,
        features: str = DEFAULT_FEATURES,
        topic_c: float = 4.0,
        stance_c: float = 4.0,
        stance_topics: bool = False,
        thresholds: str = "fixed",
        inner_folds: int = 5,
        seed: int = 0,
        topic_class_weight: str | None = "balanced",
        stance_class_weight: str | None = "balanced",
        stance_tilt: dict | None = None,
        stance_design: str = "multinomial",
        neutral_stance: int = -1,
        calibrate: bool = False,
        topic_blocks: tuple | None = None,
        stance_blocks: tuple | None = None,
        topic_hidden_tokens: tuple | None = None,
    ) -> None:
        self.features = features
        self.topic_c = topic_c
        self.stance_c = stance_c
        self.stance_topics = stance_topics
        self.thresholds = thresholds
        self.inner_folds = inner_folds
        self.seed = seed
        self.topic_class_weight = topic_class_weight
        self.stance_class_weight = stance_class_weight
        self.stance_tilt = stance_tilt
        self.stance_design = stance_design
        self.neutral_stance = neutral_stance
        self.calibrate = calibrate
        self.topic_blocks = topic_blocks
        self.stance_blocks = stance_blocks
        self.topic_hidden_tokens = topic_hidden_tokens

    # -- fitting -----------------------------------------------------------------------------------

    def _topic_head(self):
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(
            C=self.topic_c,
            class_weight=self.topic_class_weight,
            solver="liblinear",
            max_iter=2000,
            random_state=self.seed,
        )

    def _stance_head(self, y: np.ndarray | None = None):
        from sklearn.linear_model import LogisticRegression
        from sklearn.utils.class_weight import compute_class_weight

        weight = self.stance_class_weight
        if self.stance_tilt and y is not None:
            classes = np.unique(y)
            base = (
                compute_class_weight("balanced", classes=classes, y=y)
                if weight == "balanced"
                else np.ones(len(classes))
            )
            weight = {
                int(c): float(w) * float(self.stance_tilt.get(int(c), 1.0)) for c, w in zip(classes, base)
            }
        return LogisticRegression(
            C=self.stance_c, class_weight=weight, solver="lbfgs", max_iter=3000, random_state=self.seed
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
        if self.stance_design not in ("multinomial", "two_step"):
            raise ValueError(f"stance_design must be 'multinomial' or 'two_step', got {self.stance_design!r}")
        need_oof = self.stance_topics or self.thresholds == "tuned" or self.calibrate
        oof = np.zeros(y_topics.shape, dtype=float)
        oof_logit = np.zeros(y_topics.shape, dtype=float)
        if need_oof and len(texts) >= 2:
            for train, test in self._inner_splits(len(texts), groups):
                features = make_features(self.features)
                xt = features.fit_transform([texts[i] for i in train])
                cols = _block_columns(features, self.topic_blocks, self.topic_hidden_tokens)
                heads = self._fit_topics(_take(xt, cols), y_topics[train])
                xs = _take(features.transform([texts[i] for i in test]), cols)
                oof[test] = self._proba_of(heads, xs)
                oof_logit[test] = _logits_of(heads, xs)
        self.calibration_ = None
        if self.calibrate:
            self.calibration_ = np.array(
                [_platt(oof_logit[:, k], y_topics[:, k]) for k in range(self.n_topics_)]
            )
            oof = 1.0 / (1.0 + np.exp(-(self.calibration_[:, 0] * oof_logit + self.calibration_[:, 1])))
        self.thresholds_ = np.full(self.n_topics_, 0.5)
        if self.thresholds == "tuned":
            self.thresholds_ = np.array(
                [choose_threshold(y_topics[:, k], oof[:, k]) for k in range(self.n_topics_)]
            )
        self.features_ = make_features(self.features)
        x = self.features_.fit_transform(texts)
        self.topic_cols_ = _block_columns(self.features_, self.topic_blocks, self.topic_hidden_tokens)
        self.stance_cols_ = _block_columns(self.features_, self.stance_blocks)
        self.topic_heads_ = self._fit_topics(_take(x, self.topic_cols_), y_topics)
        if self.calibration_ is not None:
            for head, (a, b) in zip(self.topic_heads_, self.calibration_):
                if hasattr(head, "coef_"):  # sigmoid(a * z + b) is a logistic model with scaled weights
                    head.coef_ = head.coef_ * a
                    head.intercept_ = head.intercept_ * a + b
        stance_x = self._stance_input(_take(x, self.stance_cols_), oof)
        if self.stance_design == "two_step":
            self.stance_head_ = self._fit_two_step(stance_x, y_stance)
        else:
            self.stance_head_ = self._fit_binary_or_multi(stance_x, y_stance)
        return self

    def _neutral(self) -> int:
        return self.neutral_stance if self.neutral_stance >= 0 else self.n_stances_ - 1

    def _fit_two_step(self, x, y: np.ndarray) -> tuple:
        """(polar head on y != neutral, head over the polar stances fitted on polar units only)."""
        polar = (y != self._neutral()).astype(int)
        polar_head = self._fit_binary(self._topic_like_stance_head(), x, polar)
        rows = np.flatnonzero(polar)
        direction = self._fit_binary_or_multi(x[rows], y[rows]) if len(rows) else None
        return polar_head, direction

    def _topic_like_stance_head(self):
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(
            C=self.stance_c,
            class_weight=self.stance_class_weight,
            solver="lbfgs",
            max_iter=3000,
            random_state=self.seed,
        )

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
        topic_proba = self._proba_of(self.topic_heads_, _take(x, getattr(self, "topic_cols_", None)))
        stance_x = self._stance_input(_take(x, getattr(self, "stance_cols_", None)), topic_proba)
        stance_proba = np.zeros((x.shape[0], self.n_stances_))
        if self.stance_design == "two_step":
            polar_head, direction = self.stance_head_
            p_polar = self._proba_of([polar_head], stance_x)[:, 0]
            stance_proba[:, self._neutral()] = 1.0 - p_polar
            if direction is not None:
                stance_proba[:, direction.classes_] = p_polar[:, None] * direction.predict_proba(stance_x)
            return topic_proba, stance_proba
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
        blocks = []
        for (name, vectorizer), spec in zip(self.features_.transformer_list, FEATURE_SETS[self.features]):
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
        n_features = sum(len(b["vocabulary"]) for b in blocks)
        everything = np.arange(n_features)
        topic_cols = getattr(self, "topic_cols_", None)
        topic_cols = everything if topic_cols is None else topic_cols
        stance_cols = getattr(self, "stance_cols_", None)
        stance_cols = everything if stance_cols is None else stance_cols
        topic_coef = np.zeros((n_features, self.n_topics_))
        topic_intercept = np.zeros(self.n_topics_)
        for k, head in enumerate(self.topic_heads_):
            if hasattr(head, "coef_"):
                topic_coef[topic_cols, k] = head.coef_[0]
                topic_intercept[k] = head.intercept_[0]
            else:
                topic_intercept[k] = _CONSTANT_LOGIT if head.classes_[0] == 1 else -_CONSTANT_LOGIT
        extra: dict[str, Any] = {}
        if self.stance_design == "two_step":
            polar_head, direction = self.stance_head_
            head = direction
            polar_coef = np.zeros(n_features)
            polar_topic_coef = np.zeros(self.n_topics_)
            polar_intercept = 0.0
            if hasattr(polar_head, "coef_"):
                polar_coef[stance_cols] = polar_head.coef_[0, : len(stance_cols)]
                if self.stance_topics:
                    polar_topic_coef[:] = polar_head.coef_[0, len(stance_cols) :]
                polar_intercept = float(polar_head.intercept_[0])
            else:
                polar_intercept = _CONSTANT_LOGIT if polar_head.classes_[0] == 1 else -_CONSTANT_LOGIT
            extra = {
                "stance_design": "two_step",
                "stance_neutral": self._neutral(),
                "stance_polar_coef": polar_coef,
                "stance_polar_topic_coef": polar_topic_coef,
                "stance_polar_intercept": np.array([polar_intercept]),
            }
        else:
            head = self.stance_head_
        # the stance arrays: the softmax head, or (two_step) the head over the polar stances, whose
        # neutral column stays at _ABSENT
        stance_coef = np.zeros((n_features, self.n_stances_))
        stance_topic_coef = np.zeros((self.n_topics_, self.n_stances_))
        stance_intercept = np.full(self.n_stances_, _ABSENT)
        classes = list(head.classes_) if head is not None else []
        if head is None:
            pass
        elif not hasattr(head, "coef_"):
            stance_intercept[classes[0]] = 0.0
        else:
            coef, intercept = head.coef_, head.intercept_
            if coef.shape[0] == 1:  # binary: softmax over (0, z) equals the logistic of z
                coef = np.vstack([np.zeros_like(coef[0]), coef[0]])
                intercept = np.array([0.0, intercept[0]])
            width = len(stance_cols)
            for row, cls in enumerate(classes):
                stance_coef[stance_cols, cls] = coef[row, :width]
                if self.stance_topics:
                    stance_topic_coef[:, cls] = coef[row, width:]
                stance_intercept[cls] = intercept[row]
        return {
            "features": self.features,
            "params": self.get_params(),
            "blocks": blocks,
            "topic_coef": topic_coef,
            "topic_intercept": topic_intercept,
            "thresholds": np.asarray(self.thresholds_, dtype=np.float64),
            "stance_coef": stance_coef,
            "stance_topic_coef": stance_topic_coef,
            "stance_intercept": stance_intercept,
            **extra,
        }


def _block_columns(features, names, hidden=None) -> np.ndarray | None:
    """Column indices of the named blocks of a fitted ``FeatureUnion`` without the ``hidden`` tokens.

    ``None`` for both: every column (``None`` returned).
    """
    if names is None and not hidden:
        return None
    known = [name for name, _ in features.transformer_list]
    unknown = [n for n in names or () if n not in known]
    if unknown:
        raise ValueError(f"unknown feature block(s) {unknown} (the feature set has {known})")
    hidden = set(hidden or ())
    columns, offset = [], 0
    for name, vectorizer in features.transformer_list:
        width = len(vectorizer.vocabulary_)
        if names is None or name in names:
            keep = np.ones(width, dtype=bool)
            for token in hidden & vectorizer.vocabulary_.keys():
                keep[vectorizer.vocabulary_[token]] = False
            columns.append(offset + np.flatnonzero(keep))
        offset += width
    return np.concatenate(columns) if columns else np.zeros(0, dtype=int)


def _take(x, columns):
    return x if columns is None else x[:, columns]


def _logits_of(heads: list, x) -> np.ndarray:
    """Decision values of the topic heads (a constant head: +-_CONSTANT_LOGIT)."""
    columns = []
    for head in heads:
        if hasattr(head, "decision_function"):
            columns.append(head.decision_function(x))
        else:
            value = _CONSTANT_LOGIT if head.classes_[0] == 1 else -_CONSTANT_LOGIT
            columns.append(np.full(x.shape[0], value))
    return np.column_stack(columns)


def _platt(logit: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(a, b) of sigmoid(a * logit + b) fitted to ``y`` (Platt scaling); (1, 0) when y is constant."""
    from sklearn.linear_model import LogisticRegression

    if y.min() == y.max():
        return 1.0, 0.0
    fit = LogisticRegression(C=1e6, solver="lbfgs", max_iter=1000).fit(logit.reshape(-1, 1), y)
    return float(fit.coef_[0, 0]), float(fit.intercept_[0])


def _texts(X) -> list[str]:
    if isinstance(X, str):
        raise ValueError("X must be a sequence of texts, not one string")
    texts = list(X)
    if not all(isinstance(t, str) for t in texts):
        raise ValueError("X must hold strings")
    return texts
