import numpy as np
import pytest

from nkclassify.dataset import load_corpus
from nkclassify.evaluate import label_matrix
from nkclassify.model import TopicStanceModel, choose_threshold, grouped_splits


def test_threshold_maximises_f1():
    y = np.array([1, 1, 0, 0, 0, 0])
    proba = np.array([0.35, 0.30, 0.2, 0.1, 0.05, 0.25])
    threshold = choose_threshold(y, proba)
    assert 0.25 < threshold <= 0.30  # the only cut that keeps both positives and drops 0.25
    assert np.array_equal(proba >= threshold, y.astype(bool))


def test_threshold_defaults_to_half_without_positives():
    assert choose_threshold(np.zeros(4), np.array([0.9, 0.8, 0.1, 0.2])) == 0.5


def test_threshold_ties_prefer_half():
    y = np.array([1, 0])
    proba = np.array([0.95, 0.05])
    assert choose_threshold(y, proba) == 0.5


@pytest.mark.parametrize("n_splits", [3, 5, 10])
def test_grouped_splits_never_share_an_article(n_splits):
    groups = np.repeat([f"doc{i}" for i in range(7)], 4)
    splits = grouped_splits(groups, n_splits, seed=1)
    tested = []
    for train, test in splits:
        assert not set(groups[train]) & set(groups[test])
        tested += list(test)
    assert sorted(tested) == list(range(len(groups)))  # each unit tested exactly once
    if n_splits >= 7:
        assert len(splits) == 7  # leave-one-article-out when articles are few


def test_fit_is_deterministic_and_thresholds_are_per_topic(seed_labels):
    data = label_matrix(load_corpus(seed_labels))

    def fitted(seed):
        return TopicStanceModel(seed=seed).fit(data.texts, data.topics, data.stance, groups=list(data.groups))

    first, second = fitted(0), fitted(0)
    a, b = first.predict(data.texts), second.predict(data.texts)
    assert np.array_equal(a.topic_proba, b.topic_proba) and np.array_equal(a.stance, b.stance)
    assert np.array_equal(first.thresholds_, second.thresholds_)
    assert len(set(first.thresholds_)) > 1  # tuned per topic, not one global cut
    assert np.all(a.topics == (a.topic_proba >= first.thresholds_))


def test_a_topic_never_seen_gets_a_constant_answer(seed_labels):
    data = label_matrix(load_corpus(seed_labels))
    topics = data.topics.copy()
    topics[:, 4] = 0
    model = TopicStanceModel(threshold_folds=0).fit(data.texts, topics, data.stance)
    prediction = model.predict(["Workers paid party funds."])
    assert prediction.topic_proba[0, 4] == 0.0 and not prediction.topics[0, 4]


def test_unknown_feature_set_is_refused(seed_labels):
    from nkclassify.errors import ModelError

    data = label_matrix(load_corpus(seed_labels))
    with pytest.raises(ModelError, match="unknown feature set 'bert'"):
        TopicStanceModel(features="bert").fit(data.texts, data.topics, data.stance)


def test_one_stance_only_gives_a_constant_stance(seed_labels):
    data = label_matrix(load_corpus(seed_labels))
    model = TopicStanceModel(threshold_folds=0).fit(data.texts, data.topics, np.full(len(data.texts), 2))
    prediction = model.predict(["Workers fled.", "A storm hit Busan."])
    assert prediction.stance.tolist() == [2, 2] and prediction.stance_proba[:, 2].tolist() == [1.0, 1.0]
