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
from dataclasses import dataclass
from typing import Any

import numpy as np

from .dataset import Corpus
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
    "transfer",
    "evaluate",
    "SUMMARY_KEYS",
]

SUMMARY_KEYS = ("topics_micro_f1", "topics_macro_f1", "stance_macro_f1", "stance_f_avg")
Progress = Callable[[str], None]


class EvaluationError(NKError):
    """The data cannot support the evaluation asked for (too few articles, a missing source)."""


@dataclass(frozen=True)
class LabelMatrix:
    """The corpus as arrays: texts, a topic indicator matrix, stance indices, article groups."""

    texts: list[str]
    topics: np.ndarray  # (n, n_topics) int
    stance: np.ndarray  # (n,) int
    groups: np.ndarray  # (n,) article name
    sources: np.ndarray  # (n,) source name
    topic_names: list[str]
    stance_names: list[str]

    def subset(self, index: np.ndarray) -> LabelMatrix:
        return LabelMatrix(
            [self.texts[i] for i in index],
            self.topics[index],
            self.stance[index],
            self.groups[index],
            self.sources[index],
            self.topic_names,
            self.stance_names,
        )


def label_matrix(corpus: Corpus) -> LabelMatrix:
    topic_names = corpus.schema.topic_names
    stance_names = corpus.schema.stance_names
    topics = np.array([[int(t in u.topics) for t in topic_names] for u in corpus.units], dtype=int)
    topics = topics.reshape(len(corpus.units), len(topic_names))
    return LabelMatrix(
        texts=[u.text for u in corpus.units],
        topics=topics,
        stance=np.array([stance_names.index(u.stance) for u in corpus.units], dtype=int),
        groups=np.array([u.doc for u in corpus.units]),
        sources=np.array([u.source for u in corpus.units]),
        topic_names=topic_names,
        stance_names=stance_names,
    )


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def topic_metrics(y_true: np.ndarray, y_pred: np.ndarray, names: Sequence[str]) -> dict[str, Any]:
    """Per-topic precision/recall/F1/support and confusion counts; micro and macro F1."""
    y_true = np.asarray(y_true, dtype=bool)
    y_pred = np.asarray(y_pred, dtype=bool)
    per_topic: dict[str, dict[str, float]] = {}
    totals = np.zeros(3, dtype=int)
    for k, name in enumerate(names):
        t, p = y_true[:, k], y_pred[:, k]
        tp, fp, fn = int(np.sum(t & p)), int(np.sum(~t & p)), int(np.sum(t & ~p))
        tn = int(np.sum(~t & ~p))
        precision, recall, f1 = _prf(tp, fp, fn)
        per_topic[name] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": int(t.sum()),
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "tn": tn,
        }
        totals += (tp, fp, fn)
    micro = _prf(*totals)[2]
    macro = float(np.mean([m["f1"] for m in per_topic.values()])) if per_topic else 0.0
    return {"per_topic": per_topic, "micro_f1": micro, "macro_f1": macro}


def stance_metrics(y_true: np.ndarray, y_pred: np.ndarray, names: Sequence[str]) -> dict[str, Any]:
    """Per-class P/R/F1, macro F1, SemEval-2016 F_avg (mean F1 of favor and against), confusion."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    per_class: dict[str, dict[str, float]] = {}
    for k, name in enumerate(names):
        tp = int(np.sum((y_true == k) & (y_pred == k)))
        fp = int(np.sum((y_true != k) & (y_pred == k)))
        fn = int(np.sum((y_true == k) & (y_pred != k)))
        precision, recall, f1 = _prf(tp, fp, fn)
        per_class[name] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": int(np.sum(y_true == k)),
        }
    confusion = [
        [int(np.sum((y_true == i) & (y_pred == j))) for j in range(len(names))] for i in range(len(names))
    ]
    polar = [per_class[n]["f1"] for n in ("favor", "against") if n in per_class]
    return {
        "per_class": per_class,
        "macro_f1": float(np.mean([m["f1"] for m in per_class.values()])),
        "f_avg": float(np.mean(polar)) if polar else 0.0,
        "confusion": confusion,
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


def _baseline_predictions(
    strategy: str, train: LabelMatrix, n_test: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.dummy import DummyClassifier

    placeholder_train, placeholder_test = np.zeros((len(train.texts), 1)), np.zeros((n_test, 1))
    topics = np.column_stack(
        [
            DummyClassifier(strategy=strategy, random_state=seed + k)
            .fit(placeholder_train, train.topics[:, k])
            .predict(placeholder_test)
            for k in range(train.topics.shape[1])
        ]
    )
    stance = DummyClassifier(strategy=strategy, random_state=seed).fit(placeholder_train, train.stance)
    return topics.reshape(n_test, -1), stance.predict(placeholder_test)


def _score(data: LabelMatrix, topics: np.ndarray, stance: np.ndarray) -> tuple[dict, dict, dict[str, float]]:
    t = topic_metrics(data.topics, topics, data.topic_names)
    s = stance_metrics(data.stance, stance, data.stance_names)
    return t, s, _summary(t, s)


def _fit(train: LabelMatrix, features: str, seed: int, threshold_folds: int = 5) -> TopicStanceModel:
    model = TopicStanceModel(
        n_topics=len(train.topic_names),
        n_stances=len(train.stance_names),
        features=features,
        threshold_folds=threshold_folds,
        seed=seed,
    )
    return model.fit(train.texts, train.topics, train.stance, groups=list(train.groups))


def _fit_and_predict(train: LabelMatrix, test: LabelMatrix, features: str, seed: int):
    """Fit on ``train`` and predict ``test``: the model, its prediction and the predict seconds."""
    model = _fit(train, features, seed)
    started = time.perf_counter()
    prediction = model.predict(test.texts)
    return model, prediction, time.perf_counter() - started


def _check_folds(data: LabelMatrix, folds: int) -> None:
    n_docs = len(np.unique(data.groups))
    if folds < 2:
        raise EvaluationError(f"--folds must be at least 2 (got {folds})")
    if n_docs < 2:
        raise EvaluationError(f"grouped cross-validation needs at least 2 articles; the data has {n_docs}")


def cross_validate(
    data: LabelMatrix,
    features: str = "tfidf",
    folds: int = 5,
    repeats: int = 1,
    seed: int = 0,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Grouped K-fold (leave-one-article-out when articles <= K), repeated with new fold seeds.

    Returns per-fold summaries for the model and both baselines, their mean and spread, pooled
    out-of-fold metrics of the first repeat (every unit predicted exactly once), and the
    prediction speed and size of the fold models.
    """
    check_feature_set(features)
    _check_folds(data, folds)
    n_docs = len(np.unique(data.groups))
    scheme = "leave-one-article-out" if n_docs <= folds else f"grouped {folds}-fold"
    fold_rows: dict[str, list[dict[str, float]]] = {"model": [], "majority": [], "stratified": []}
    pooled_topics = np.zeros_like(data.topics, dtype=bool)
    pooled_stance = np.zeros_like(data.stance)
    predict_seconds, predicted, model_bytes = 0.0, 0, 0
    fold_docs: list[list[str]] = []
    for repeat in range(repeats):
        splits = grouped_splits(data.groups, folds, seed + repeat)
        for number, (train_idx, test_idx) in enumerate(splits, start=1):
            if progress:
                progress(f"{features}: repeat {repeat + 1}/{repeats}, fold {number}/{len(splits)}")
            train, test = data.subset(train_idx), data.subset(test_idx)
            model, prediction, seconds = _fit_and_predict(train, test, features, seed)
            predict_seconds += seconds
            predicted += len(test.texts)
            fold_rows["model"].append(_score(test, prediction.topics, prediction.stance)[2])
            for strategy, key in (("most_frequent", "majority"), ("stratified", "stratified")):
                topics, stance = _baseline_predictions(strategy, train, len(test_idx), seed + repeat)
                fold_rows[key].append(_score(test, topics, stance)[2])
            if repeat == 0:
                pooled_topics[test_idx] = prediction.topics
                pooled_stance[test_idx] = prediction.stance
                fold_docs.append(sorted(set(test.groups)))
                model_bytes = max(model_bytes, _pickled_size(model))
    topics, stance, summary = _score(data, pooled_topics, pooled_stance)
    return {
        "features": features,
        "scheme": scheme,
        "folds": len(fold_docs),
        "repeats": repeats,
        "n_units": len(data.texts),
        "n_articles": n_docs,
        "test_articles_per_fold": fold_docs,
        "summary": _mean_std(fold_rows["model"]),
        "baselines": {name: _mean_std(rows) for name, rows in fold_rows.items() if name != "model"},
        "fold_scores": fold_rows["model"],
        "pooled": {"topics": topics, "stance": stance, "summary": summary},
        "predict_sentences_per_s": predicted / predict_seconds if predict_seconds else 0.0,
        "model_bytes": model_bytes,
    }


def _pickled_size(model: TopicStanceModel) -> int:
    import joblib

    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    return buffer.tell()


def learning_curve(
    data: LabelMatrix,
    features: str = "tfidf",
    folds: int = 5,
    seed: int = 0,
    points: int = 5,
    progress: Progress | None = None,
) -> list[dict[str, float]]:
    """Scores on the same grouped test folds as the training articles grow (random subsets)."""
    _check_folds(data, folds)
    rng = np.random.default_rng(seed)
    splits = grouped_splits(data.groups, folds, seed)
    smallest_train = min(len(np.unique(data.groups[train])) for train, _ in splits)
    sizes = sorted({int(round(x)) for x in np.geomspace(min(2, smallest_train), smallest_train, points)})
    curve = []
    for size in sizes:
        if progress:
            progress(f"learning curve: {size} training articles")
        rows = []
        for train_idx, test_idx in splits:
            docs = np.unique(data.groups[train_idx])
            chosen = set(rng.choice(docs, size=size, replace=False))
            keep = train_idx[np.isin(data.groups[train_idx], list(chosen))]
            test = data.subset(test_idx)
            _, prediction, _ = _fit_and_predict(data.subset(keep), test, features, seed)
            rows.append(_score(test, prediction.topics, prediction.stance)[2])
        stats = _mean_std(rows)
        curve.append(
            {
                "train_articles": size,
                **{k: v["mean"] for k, v in stats.items()},
                **{f"{k}_std": v["std"] for k, v in stats.items()},
            }
        )
    return curve


def transfer(
    data: LabelMatrix, train_source: str, test_source: str, features: str, seed: int
) -> dict[str, Any]:
    """Train on every article of one source, score on every article of another."""
    train_idx = np.flatnonzero(data.sources == train_source)
    test_idx = np.flatnonzero(data.sources == test_source)
    if not len(train_idx) or not len(test_idx):
        raise EvaluationError(f"transfer {train_source} -> {test_source}: a source has no units")
    test = data.subset(test_idx)
    _, prediction, _ = _fit_and_predict(data.subset(train_idx), test, features, seed)
    topics, stance, summary = _score(test, prediction.topics, prediction.stance)
    return {
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
) -> dict[str, Any]:
    """The full report: main CV (first feature set), feature comparison, curve, sources, transfer."""
    if not features:
        raise EvaluationError("no feature set given")
    for name in features:
        check_feature_set(name)
    if repeats < 1:
        raise EvaluationError(f"--repeats must be at least 1 (got {repeats})")
    data = label_matrix(corpus)
    main = features[0]
    runs = [cross_validate(data, name, folds, repeats, seed, progress) for name in features]
    report: dict[str, Any] = {
        "data_hash": corpus.data_hash,
        "seed": seed,
        "topic_names": data.topic_names,
        "stance_names": data.stance_names,
        "main": runs[0],
        "comparison": [
            {
                "features": r["features"],
                **{k: v["mean"] for k, v in r["summary"].items()},
                "predict_sentences_per_s": r["predict_sentences_per_s"],
                "model_bytes": r["model_bytes"],
            }
            for r in runs
        ],
    }
    if with_learning_curve:
        report["learning_curve"] = learning_curve(data, main, folds, seed, progress=progress)
    sources = sorted(set(data.sources))
    if by_source and len(sources) > 1:
        within = {}
        for source in sources:
            part = data.subset(np.flatnonzero(data.sources == source))
            if len(np.unique(part.groups)) >= 2:
                within[source] = cross_validate(part, main, folds, 1, seed, progress)
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
