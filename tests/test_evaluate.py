from dataclasses import replace

import numpy as np
import pytest
from sklearn.metrics import f1_score

from nkclassify.dataset import load_corpus
from nkclassify.errors import NKError
from nkclassify.evaluate import (
    EvaluationError,
    KeywordRules,
    cross_validate,
    evaluate,
    event_groups,
    keyword_predictions,
    label_matrix,
    stance_metrics,
    topic_metrics,
)
from nkclassify.model import TopicStanceModel, grouped_splits


def test_topic_metrics_match_sklearn():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 2, (50, 3)), rng.integers(0, 2, (50, 3))
    metrics = topic_metrics(y_true, y_pred, ["a", "b", "c"])
    assert metrics["micro_f1"] == pytest.approx(f1_score(y_true, y_pred, average="micro"))
    assert metrics["macro_f1"] == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    assert metrics["per_topic"]["b"]["support"] == int(y_true[:, 1].sum())


def test_f_avg_averages_the_polar_stances_the_schema_names():
    names = ["con", "pro", "neutral"]
    y_true = np.array([0, 0, 1, 1, 2, 2, 2])
    y_pred = np.array([0, 2, 1, 0, 2, 2, 1])
    metrics = stance_metrics(y_true, y_pred, names, polar=("pro", "con"))
    per_class = f1_score(y_true, y_pred, average=None)
    assert metrics["macro_f1"] == pytest.approx(per_class.mean())
    assert metrics["f_avg"] == pytest.approx((per_class[0] + per_class[1]) / 2)
    assert metrics["confusion"][0] == [1, 0, 1]
    with pytest.raises(EvaluationError, match="polar"):
        stance_metrics(y_true, y_pred, names, polar=("favor", "against"))


def test_events_shared_by_articles_join_one_group(seed_corpus):
    docs = seed_corpus.docs
    articles = {d: {"events": ["e1"]} for d in docs[:2]}
    articles[docs[2]] = {"events": ["e2", "e3"]}
    articles[docs[3]] = {"events": ["e3"]}
    articles[docs[4]] = {"events": ["e4"]}
    groups = event_groups(replace(seed_corpus, articles=articles))
    assert groups[docs[0]] == groups[docs[1]] and groups[docs[2]] == groups[docs[3]]
    assert len({groups[d] for d in docs}) == 3
    assert event_groups(seed_corpus) is None  # no events recorded: no event grouping


def test_event_grouped_cv_never_splits_an_event(seed_corpus):
    docs = seed_corpus.docs
    articles = {d: {"events": ["same" if i < 2 else f"e{i}"]} for i, d in enumerate(docs)}
    data = label_matrix(replace(seed_corpus, articles=articles))
    run = cross_validate(data, "tfidf", folds=5, seed=0, group_by="event")
    assert run["scheme"] == "leave-one-event-out" and run["folds"] == 4
    assert any(set(docs[:2]) <= set(fold) for fold in run["test_articles_per_fold"])
    with pytest.raises(NKError, match="no events"):
        cross_validate(label_matrix(seed_corpus), "tfidf", group_by="event")


def test_keyword_baseline_is_the_cue_lists():
    topics, stance = keyword_predictions(
        ["Nine workers fled and sought asylum.", "The weather was fine."], ["defection", "finances"], 2
    )
    assert topics.tolist() == [[1, 0], [0, 0]] and stance.tolist() == [2, 2]


def test_model_scores_are_those_of_sklearn_cross_val_predict(seed_corpus, seed_report):
    from sklearn.model_selection import cross_val_predict

    data = label_matrix(seed_corpus)
    splits = grouped_splits(data.groups, 5, 0)
    model = TopicStanceModel(features="tfidf", seed=0)
    predicted = cross_val_predict(model, data.texts, data.Y, cv=splits, params={"groups": data.groups})
    run = seed_report["main"]
    assert run["pooled"]["topics"] == topic_metrics(data.topics, predicted[:, :-1], data.topic_names)
    assert run["pooled"]["stance"] == stance_metrics(data.stance, predicted[:, -1], data.stance_names)
    for fold, (_, test) in zip(run["fold_scores"], splits):
        micro = f1_score(data.topics[test], predicted[test, :-1], average="micro", zero_division=0)
        assert fold["topics_micro_f1"] == pytest.approx(micro)
    assert run["model_bytes"] > 0 and run["predict_sentences_per_s"] > 0


def test_parallel_folds_give_the_same_scores(seed_corpus, seed_report):
    from joblib import parallel_config

    with parallel_config(backend="threading"):  # joblib's parallel path without starting processes
        run = cross_validate(label_matrix(seed_corpus), "tfidf", folds=5, seed=0, n_jobs=2)
    assert run["fold_scores"] == seed_report["main"]["fold_scores"]
    assert run["baselines"] == seed_report["main"]["baselines"]


def test_keyword_rules_run_as_an_estimator():
    from sklearn.model_selection import cross_val_predict

    texts = ["Nine workers fled and sought asylum.", "The weather was fine.", "They were sent home."]
    rules = KeywordRules(["defection", "repatriation"], neutral=2)
    predicted = cross_val_predict(rules, texts, np.zeros((3, 3), dtype=int), cv=3)
    assert predicted.tolist() == [[1, 0, 2], [0, 0, 2], [0, 1, 2]]


def test_cross_validation_is_grouped_and_reproducible(seed_corpus, seed_report):
    data = label_matrix(seed_corpus)
    first = seed_report["main"]
    assert first["scheme"] == "leave-one-article-out"
    folds = [set(docs) for docs in first["test_articles_per_fold"]]
    assert all(len(f) == 1 for f in folds) and set.union(*folds) == set(data.groups)
    second = cross_validate(data, "tfidf", folds=5, seed=0)
    assert first["summary"] == second["summary"] and first["fold_scores"] == second["fold_scores"]
    assert set(first["baselines"]) == {"majority", "stratified", "keywords"}
    assert first["baselines"]["majority"]["topics_micro_f1"]["mean"] == 0.0  # predicts "no topic" always


def test_errors_for_impossible_evaluations(seed_corpus, tiny_corpus):
    data = label_matrix(seed_corpus)
    with pytest.raises(EvaluationError, match="at least 2"):
        cross_validate(data, folds=1)
    one_article = data.subset(np.flatnonzero(data.groups == data.groups[0]))
    with pytest.raises(EvaluationError, match="at least 2 articles"):
        cross_validate(one_article, folds=5)
    with pytest.raises(EvaluationError, match="repeats"):
        evaluate(load_corpus(tiny_corpus), repeats=0)


def test_paired_bootstrap_measures_the_difference_on_the_same_draws():
    from nkclassify.evaluate import paired_bootstrap

    rng = np.random.default_rng(1)
    Y = np.column_stack([rng.integers(0, 2, (400, 3)), np.zeros(400, dtype=int)])
    better = Y.copy()
    better[:40, 0] = 1 - better[:40, 0]  # 40 topic cells wrong
    worse = Y.copy()
    worse[:120, 1] = 1 - worse[:120, 1]  # 120 wrong
    same = paired_bootstrap(Y, better, better, 3)
    assert same["diff"] == same["low"] == same["high"] == 0.0
    by_unit = paired_bootstrap(Y, better, worse, 3)
    assert 0 < by_unit["low"] < by_unit["diff"] < by_unit["high"] and by_unit["share_above_zero"] == 1.0
    assert by_unit["units"] == 400
    # whole groups move together: ten groups give a wider interval than 400 single units
    groups = np.repeat(np.arange(10), 40)
    by_group = paired_bootstrap(Y, better, worse, 3, groups)
    assert by_group["units"] == 10 and by_group["diff"] == by_unit["diff"]
    assert by_group["high"] - by_group["low"] > by_unit["high"] - by_unit["low"]
    flipped = paired_bootstrap(Y, worse, better, 3)
    assert np.isclose(flipped["diff"], -by_unit["diff"]) and flipped["share_above_zero"] == 0.0


def test_evaluations_report_the_margin_over_the_keyword_rules(seed_report):
    margin = seed_report["main"]["versus_keywords"]
    assert margin["low"] <= margin["diff"] <= margin["high"] and margin["by"] == seed_report["group_by"]
    assert 2 <= margin["units"] <= seed_report["main"]["n_articles"]
