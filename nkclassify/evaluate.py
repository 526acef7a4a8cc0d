"""Cross-validation grouped by article, with baselines, learning curve, per-source and transfer scores.

Sentences of one article are never on both sides of a split: articles repeat names, places and
phrasing, so a sentence-level split would reward memorising an article rather than generalising.
Topic thresholds are chosen inside each training fold (the model does it in ``fit``), never on the
fold it is scored on. The functions return plain dicts (JSON-ready); ``report`` renders them.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from .dataset import Corpus, LabelMatrix, event_groups, label_matrix
from .errors import NKError
from .features import check_feature_set
from .model import TopicStanceModel, grouped_splits

__all__ = [
    "LabelMatrix",
    "label_matrix",
    "topic_metrics",
    "stance_metrics",
    "cross_validate",
    "learning_curve",
    "card_scores",
    "event_groups",
    "KeywordRules",
    "keyword_predictions",
    "paired_bootstrap",
    "transfer",
    "evaluate",
    "SUMMARY_KEYS",
]

SUMMARY_KEYS = ("topics_micro_f1", "topics_macro_f1", "stance_macro_f1", "stance_f_avg")
Progress = Callable[[str], None]


class EvaluationError(NKError):
    """The data cannot support the evaluation asked for (too few articles, a missing source)."""


def _prf(precision, recall, f1, support, k: int) -> dict[str, float]:
    return {
        "precision": float(precision[k]),
        "recall": float(recall[k]),
        "f1": float(f1[k]),
        "support": int(support[k]),
    }


def topic_metrics(y_true: np.ndarray, y_pred: np.ndarray, names: Sequence[str]) -> dict[str, Any]:
    """Per-topic precision/recall/F1/support and confusion counts; micro and macro F1."""
    from sklearn.metrics import f1_score, multilabel_confusion_matrix, precision_recall_fscore_support

    y_true = np.asarray(y_true, dtype=int).reshape(len(y_true), len(names))
    y_pred = np.asarray(y_pred, dtype=int).reshape(len(y_pred), len(names))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, average=None, labels=range(len(names)), zero_division=0
    )
    confusion = multilabel_confusion_matrix(y_true, y_pred, labels=range(len(names)))
    per_topic = {
        name: {
            **_prf(precision, recall, f1, support, k),
            "tp": int(confusion[k, 1, 1]),
            "fp": int(confusion[k, 0, 1]),
            "fn": int(confusion[k, 1, 0]),
            "tn": int(confusion[k, 0, 0]),
        }
        for k, name in enumerate(names)
    }
    return {
        "per_topic": per_topic,
        "micro_f1": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
        "macro_f1": float(np.mean(f1)) if len(names) else 0.0,
    }


def stance_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, names: Sequence[str], polar: Sequence[str] = ("favor", "against")
) -> dict[str, Any]:
    """Per-class P/R/F1, macro F1, F_avg (mean F1 of the polar classes the schema names), confusion."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    labels = list(range(len(names)))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, average=None, labels=labels, zero_division=0
    )
    per_class = {name: _prf(precision, recall, f1, support, k) for k, name in enumerate(names)}
    missing = [p for p in polar if p not in per_class]
    if missing:
        raise EvaluationError(f"polar stance label(s) {', '.join(missing)} not in the schema's stances")
    return {
        "per_class": per_class,
        "macro_f1": float(np.mean(f1)),
        "f_avg": float(np.mean([per_class[p]["f1"] for p in polar])) if polar else 0.0,
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "labels": list(names),
    }


def _summary(topics: dict[str, Any], stance: dict[str, Any]) -> dict[str, float]:
    return {
        "topics_micro_f1": topics["micro_f1"],
        "topics_macro_f1": topics["macro_f1"],
        "stance_macro_f1": stance["macro_f1"],
        "stance_f_avg": stance["f_avg"],
    }


def _mean_std(rows: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    return {
        key: {"mean": float(np.mean([r[key] for r in rows])), "std": float(np.std([r[key] for r in rows]))}
        for key in SUMMARY_KEYS
    }


Names = tuple[list[str], list[str], tuple[str, ...]]  # topic names, stance names, polar stances


def _metrics(names: Names, Y: np.ndarray, predicted: np.ndarray) -> tuple[dict, dict, dict[str, float]]:
    """Metrics of predictions in ``Y``'s layout (topic columns, then the stance)."""
    t = topic_metrics(Y[:, :-1], predicted[:, :-1], names[0])
    s = stance_metrics(Y[:, -1], predicted[:, -1], names[1], names[2])
    return t, s, _summary(t, s)


def _names(data: LabelMatrix) -> Names:
    return data.topic_names, data.stance_names, data.polar


def _fold_summary(names: Names, estimator, X, Y) -> dict[str, float]:
    """A multi-metric scorer for ``cross_validate``: the four summary scores of one test fold."""
    return _metrics(names, Y, estimator.predict(X))[2]


class KeywordRules(BaseEstimator):
    """The grep baseline as an estimator, so it runs through the same ``cross_validate`` as the model."""

    def __init__(self, topic_names: Sequence[str] = (), neutral: int = 0) -> None:
        self.topic_names = topic_names
        self.neutral = neutral

    def fit(self, X, Y=None) -> KeywordRules:
        return self  # nothing to learn: the cue lists are hand-written

    def predict(self, X) -> np.ndarray:
        topics, stance = keyword_predictions(list(X), self.topic_names, self.neutral)
        return np.column_stack([topics, stance])


def keyword_predictions(texts: Sequence[str], topic_names: Sequence[str], neutral: int):
    """The grep baseline: a topic when any of its hand-written terms occurs; stance always the neutral one."""
    from .lexicon import cue_matches

    found = [cue_matches(t) for t in texts]
    topics = np.array([[int(name in f) for name in topic_names] for f in found], dtype=int)
    return topics.reshape(len(texts), len(topic_names)), np.full(len(texts), neutral)


def paired_bootstrap(
    Y: np.ndarray,
    A: np.ndarray,
    B: np.ndarray,
    n_topics: int,
    groups: np.ndarray | None = None,
    resamples: int = 2000,
    seed: int = 0,
) -> dict[str, float]:
    """Topic micro-F1 of predictions ``A`` minus ``B`` on the same units, with a 95% interval.

    The interval comes from resampling with replacement whole groups (events, say: units of one
    event rise and fall together) or, without ``groups``, single units; both systems are scored
    on the same draw, so what is measured is the difference, not two separate spreads. A margin
    "a user would notice" is one whose interval stays clear of zero.
    """
    units = np.arange(len(Y)) if groups is None else np.asarray(groups)
    _, inverse = np.unique(units, return_inverse=True)
    n_units = int(inverse.max()) + 1 if len(inverse) else 0
    truth = np.asarray(Y)[:, :n_topics].astype(bool)

    def counts(P: np.ndarray) -> np.ndarray:  # per group: true positives, false positives, misses
        p = np.asarray(P)[:, :n_topics].astype(bool)
        cells = ((truth & p).sum(1), (~truth & p).sum(1), (truth & ~p).sum(1))
        return np.stack([np.bincount(inverse, weights=c, minlength=n_units) for c in cells], axis=-1)

    def f1(c: np.ndarray) -> np.ndarray:
        return 2 * c[..., 0] / np.maximum(2 * c[..., 0] + c[..., 1] + c[..., 2], 1)

    a, b = counts(A), counts(B)
    draws = np.random.default_rng(seed).integers(0, n_units, size=(resamples, n_units))
    diffs = f1(a[draws].sum(axis=1)) - f1(b[draws].sum(axis=1))
    low, high = np.percentile(diffs, [2.5, 97.5])
    return {
        "diff": float(f1(a.sum(axis=0)) - f1(b.sum(axis=0))),
        "low": float(low),
        "high": float(high),
        "share_above_zero": float((diffs > 0).mean()),
        "resamples": resamples,
        "units": n_units,
    }


def _check_folds(data: LabelMatrix, folds: int) -> None:
    n_docs = len(np.unique(data.groups))
    if folds < 2:
        raise EvaluationError(f"the number of folds must be at least 2 (got {folds})")
    if n_docs < 2:
        raise EvaluationError(f"grouped cross-validation needs at least 2 articles; the data has {n_docs}")


def _model(features: str, seed: int, params: dict | None) -> TopicStanceModel:
    return TopicStanceModel(features=features, seed=seed, **(params or {}))


def _cross_validate(
    estimator, data: LabelMatrix, splits, n_jobs: int | None = None, keep: bool = False
) -> tuple[list[dict[str, float]], dict[str, Any]]:
    """scikit-learn's ``cross_validate`` over precomputed splits: per-fold summaries and its raw result.

    The model's inner folds (tuned thresholds, stacked topic probabilities) stay grouped by
    article: ``groups`` goes to ``fit`` sliced to the training fold.
    """
    from sklearn.model_selection import cross_validate as sk_cross_validate

    result = sk_cross_validate(
        estimator,
        data.texts,
        data.Y,
        cv=splits,
        scoring=partial(_fold_summary, _names(data)),
        params={"groups": data.groups} if isinstance(estimator, TopicStanceModel) else None,
        n_jobs=n_jobs,
        return_estimator=keep,
        error_score="raise",
    )
    rows = [{key: float(result[f"test_{key}"][i]) for key in SUMMARY_KEYS} for i in range(len(splits))]
    return rows, result


def cross_validate(
    data: LabelMatrix,
    features: str = "tfidf",
    folds: int = 5,
    repeats: int = 1,
    seed: int = 0,
    progress: Progress | None = None,
    group_by: str = "article",
    params: dict | None = None,
    n_jobs: int | None = None,
) -> dict[str, Any]:
    """Grouped K-fold (by article, or by event), repeated with new fold seeds.

    Returns per-fold summaries for the model and the baselines (majority, stratified, keyword
    rules), their mean and spread, pooled out-of-fold metrics of the first repeat (every unit
    predicted exactly once), and the prediction speed and size of the fold models. Every
    estimator runs through scikit-learn's ``cross_validate`` on the same splits (``n_jobs`` fits
    folds in parallel); what is ours is the grouping and the metrics summary.
    """
    from sklearn.dummy import DummyClassifier

    check_feature_set(features)
    _check_folds(data, folds)
    groups = data.group_of(group_by)
    n_docs = len(np.unique(data.groups))
    n_groups = len(np.unique(groups))
    scheme = f"leave-one-{group_by}-out" if n_groups <= folds else f"{folds}-fold grouped by {group_by}"
    fold_rows: dict[str, list[dict[str, float]]] = {
        "model": [],
        "majority": [],
        "stratified": [],
        "keywords": [],
    }
    pooled = np.zeros_like(data.Y)
    predict_seconds, model_bytes = 0.0, 0
    fold_docs: list[list[str]] = []
    for repeat in range(repeats):
        splits = grouped_splits(groups, folds, seed + repeat)
        if progress:
            progress(f"{features}: repeat {repeat + 1}/{repeats}, {len(splits)} folds")
        rows, result = _cross_validate(_model(features, seed, params), data, splits, n_jobs, keep=repeat == 0)
        fold_rows["model"] += rows
        baselines = {
            "majority": DummyClassifier(strategy="most_frequent"),
            # multi-output: every column drawn from its label frequencies in the training fold
            "stratified": DummyClassifier(strategy="stratified", random_state=seed + repeat),
            "keywords": KeywordRules(data.topic_names, data.neutral),
        }
        for name, baseline in baselines.items():
            fold_rows[name] += _cross_validate(baseline, data, splits, n_jobs)[0]
        if repeat == 0:  # the fold models again, for pooled predictions, their speed and size
            for model, (_, test_idx) in zip(result["estimator"], splits):
                started = time.perf_counter()
                pooled[test_idx] = model.predict([data.texts[i] for i in test_idx])
                predict_seconds += time.perf_counter() - started
                fold_docs.append(sorted(set(data.groups[test_idx])))
                model_bytes = max(model_bytes, _model_file_size(model))
    topics, stance, summary = _metrics(_names(data), data.Y, pooled)
    rules = KeywordRules(data.topic_names, data.neutral).predict(data.texts)
    versus = paired_bootstrap(data.Y, pooled, rules, len(data.topic_names), groups, seed=seed)
    return {
        "features": features,
        "scheme": scheme,
        "group_by": group_by,
        "n_groups": n_groups,
        "folds": len(fold_docs),
        "repeats": repeats,
        "n_units": len(data.texts),
        "n_articles": n_docs,
        "test_articles_per_fold": fold_docs,
        "summary": _mean_std(fold_rows["model"]),
        "baselines": {name: _mean_std(rows) for name, rows in fold_rows.items() if name != "model"},
        "fold_scores": fold_rows["model"],
        "pooled": {"topics": topics, "stance": stance, "summary": summary},
        "versus_keywords": {**versus, "by": group_by},
        "predict_sentences_per_s": len(data.texts) / predict_seconds if predict_seconds else 0.0,
        "model_bytes": model_bytes,
    }


def card_scores(
    corpus: Corpus, features: str, folds: int = 5, seed: int = 0, progress: Progress | None = None
) -> dict:
    """The cross-validation a model card carries: grouped by event (when recorded) and by article."""
    data = label_matrix(corpus)
    scores = {}
    for key, by in (("cv_events", "event"), ("cv", "article")):
        if by == "event" and data.events is None:
            continue
        run = cross_validate(data, features, folds, 1, seed, progress, group_by=by)
        scores[key] = {"scheme": run["scheme"], "folds": run["folds"], "summary": run["summary"]}
    return scores


def _model_file_size(model: TopicStanceModel) -> int:
    """Bytes of the model file this model would be written as."""
    from .modelfile import write_model_file

    buffer = io.BytesIO()
    write_model_file(buffer, model.export(), {}, {})
    return buffer.tell()


def learning_curve(
    data: LabelMatrix,
    features: str = "tfidf",
    folds: int = 5,
    seed: int = 0,
    points: int = 5,
    progress: Progress | None = None,
    n_jobs: int | None = None,
) -> list[dict[str, float]]:
    """Scores on the same grouped test folds as the training articles grow (random subsets).

    Not scikit-learn's ``learning_curve``: that one shrinks the training fold by units, which
    would cut articles in half; here whole articles are drawn.
    """
    _check_folds(data, folds)
    rng = np.random.default_rng(seed)
    splits = grouped_splits(data.events if data.events is not None else data.groups, folds, seed)
    smallest_train = min(len(np.unique(data.groups[train])) for train, _ in splits)
    sizes = sorted({int(round(x)) for x in np.geomspace(min(2, smallest_train), smallest_train, points)})
    curve = []
    for size in sizes:
        if progress:
            progress(f"learning curve: {size} training articles")
        shrunk = []
        for train_idx, test_idx in splits:
            docs = np.unique(data.groups[train_idx])
            chosen = set(rng.choice(docs, size=size, replace=False))
            shrunk.append((train_idx[np.isin(data.groups[train_idx], list(chosen))], test_idx))
        stats = _mean_std(_cross_validate(_model(features, seed, None), data, shrunk, n_jobs)[0])
        curve.append(
            {
                "train_articles": size,
                **{k: v["mean"] for k, v in stats.items()},
                **{f"{k}_std": v["std"] for k, v in stats.items()},
            }
        )
    return curve


def transfer(
    data: LabelMatrix,
    train_source: str,
    test_source: str,
    features: str,
    seed: int,
    params: dict | None = None,
) -> dict[str, Any]:
    """Train on every article of one source, score on every article of another (keyword rules beside)."""
    train_idx = np.flatnonzero(data.sources == train_source)
    test_idx = np.flatnonzero(data.sources == test_source)
    if not len(train_idx) or not len(test_idx):
        raise EvaluationError(f"transfer {train_source} -> {test_source}: a source has no units")
    train, test = data.subset(train_idx), data.subset(test_idx)
    model = _model(features, seed, params).fit(train.texts, train.Y, groups=train.groups)
    predicted = model.predict(test.texts)
    rules = KeywordRules(data.topic_names, data.neutral).predict(test.texts)
    topics, stance, summary = _metrics(_names(data), test.Y, predicted)
    keywords = _metrics(_names(data), test.Y, rules)
    versus = paired_bootstrap(test.Y, predicted, rules, len(data.topic_names), seed=seed)
    return {
        "keywords": keywords[2],
        "versus_keywords": {**versus, "by": "sentence"},
        "train": train_source,
        "test": test_source,
        "n_train": len(train_idx),
        "n_test": len(test_idx),
        "summary": summary,
        "topics": topics,
        "stance": stance,
    }


def evaluate(
    corpus: Corpus,
    features: Sequence[str] = ("tfidf",),
    folds: int = 5,
    repeats: int = 1,
    seed: int = 0,
    with_learning_curve: bool = True,
    by_source: bool = True,
    progress: Progress | None = None,
    n_jobs: int | None = None,
) -> dict[str, Any]:
    """The full report: main CV (first feature set), feature comparison, curve, sources, transfer."""
    if not features:
        raise EvaluationError("no feature set given")
    for name in features:
        check_feature_set(name)
    if repeats < 1:
        raise EvaluationError(f"repeats must be at least 1 (got {repeats})")
    data = label_matrix(corpus)
    main = features[0]
    group_by = "event" if data.events is not None else "article"
    sources = sorted(set(data.sources))
    runs = [
        cross_validate(data, name, folds, repeats, seed, progress, group_by=group_by, n_jobs=n_jobs)
        for name in features
    ]
    seed_transfer = "seed" in sources and "written" in sources
    report: dict[str, Any] = {
        "data_hash": corpus.data_hash,
        "seed": seed,
        "group_by": group_by,
        "topic_names": data.topic_names,
        "stance_names": data.stance_names,
        "polar": list(data.polar),
        "main": runs[0],
        "comparison": [
            {
                "features": r["features"],
                **{k: v["mean"] for k, v in r["summary"].items()},
                **(
                    {
                        f"seeds_{k}": v
                        for k, v in transfer(data, "written", "seed", r["features"], seed)["summary"].items()
                    }
                    if seed_transfer
                    else {}
                ),
                "predict_sentences_per_s": r["predict_sentences_per_s"],
                "model_bytes": r["model_bytes"],
            }
            for r in runs
        ],
    }
    if group_by == "event":
        report["article_cv"] = cross_validate(
            data, main, folds, repeats, seed, progress, group_by="article", n_jobs=n_jobs
        )
    if with_learning_curve:
        report["learning_curve"] = learning_curve(data, main, folds, seed, progress=progress, n_jobs=n_jobs)
    if by_source and len(sources) > 1:
        within = {}
        for source in sources:
            part = data.subset(np.flatnonzero(data.sources == source))
            if len(np.unique(part.groups)) >= 2:
                by = "event" if part.events is not None and source != "seed" else "article"
                within[source] = cross_validate(
                    part, main, folds, 1, seed, progress, group_by=by, n_jobs=n_jobs
                )
        report["by_source"] = {
            s: {
                "scheme": r["scheme"],
                "n_units": r["n_units"],
                "n_articles": r["n_articles"],
                "summary": r["summary"],
            }
            for s, r in within.items()
        }
        report["transfer"] = [transfer(data, a, b, main, seed) for a in sources for b in sources if a != b]
    return report
