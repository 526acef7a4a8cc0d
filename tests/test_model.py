import numpy as np
import pytest

from nkclassify.dataset import load_corpus
from nkclassify.evaluate import label_matrix
from nkclassify.model import TopicStanceModel, choose_threshold, grouped_splits


@pytest.fixture(scope="module")
def data(seed_labels):
    return label_matrix(load_corpus(seed_labels))


def test_threshold_maximises_f1():
    y = np.array([1, 1, 0, 0, 0, 0])
    proba = np.array([0.35, 0.30, 0.2, 0.1, 0.05, 0.25])
    threshold = choose_threshold(y, proba)
    assert 0.25 < threshold <= 0.30  # the only cut that keeps both positives and drops 0.25
    assert np.array_equal(proba >= threshold, y.astype(bool))


def test_threshold_defaults_to_half_without_positives_and_ties_prefer_half():
    assert choose_threshold(np.zeros(4), np.array([0.9, 0.8, 0.1, 0.2])) == 0.5
    assert choose_threshold(np.array([1, 0]), np.array([0.95, 0.05])) == 0.5


@pytest.mark.parametrize("n_splits", [3, 5, 10])
def test_grouped_splits_never_share_a_group(n_splits):
    groups = np.repeat([f"doc{i}" for i in range(7)], 4)
    splits = grouped_splits(groups, n_splits, seed=1)
    tested = []
    for train, test in splits:
        assert not set(groups[train]) & set(groups[test])
        tested += list(test)
    assert sorted(tested) == list(range(len(groups)))  # each unit tested exactly once
    if n_splits >= 7:
        assert len(splits) == 7  # leave-one-group-out when groups are few


def test_fit_predict_layout_and_determinism(data):
    model = TopicStanceModel(features="tfidf", seed=1).fit(data.texts, data.Y, groups=data.groups)
    again = TopicStanceModel(features="tfidf", seed=1).fit(data.texts, data.Y, groups=data.groups)
    predicted = model.predict(data.texts[:10])
    assert predicted.shape == (10, data.Y.shape[1])
    assert set(np.unique(predicted[:, :-1])) <= {0, 1} and predicted[:, -1].max() < len(data.stance_names)
    topic_proba, stance_proba = model.predict_proba(data.texts)
    assert np.allclose(stance_proba.sum(axis=1), 1)
    assert np.array_equal(topic_proba, again.predict_proba(data.texts)[0])


def test_tuned_thresholds_are_per_topic_and_fixed_are_half(data):
    tuned = TopicStanceModel(features="tfidf", thresholds="tuned", stance_topics=False)
    tuned.fit(data.texts, data.Y, groups=data.groups)
    assert tuned.thresholds_.shape == (len(data.topic_names),)
    fixed = TopicStanceModel(features="tfidf", stance_topics=False).fit(data.texts, data.Y)
    assert (fixed.thresholds_ == 0.5).all()


def test_constant_columns_get_real_dummy_classifiers(data):
    from sklearn.dummy import DummyClassifier

    Y = data.Y.copy()
    Y[:, 1] = 0  # a topic never seen
    Y[:, -1] = 2  # one stance only
    model = TopicStanceModel(features="tfidf").fit(data.texts, Y)
    assert isinstance(model.topic_heads_[1], DummyClassifier)
    assert isinstance(model.stance_head_, DummyClassifier)
    topic_proba, stance_proba = model.predict_proba(["Workers fled."])
    assert topic_proba[0, 1] == 0.0 and stance_proba[0].tolist() == [0.0, 0.0, 1.0]


def test_bad_shapes_and_values_are_refused(data):
    model = TopicStanceModel(features="tfidf")
    with pytest.raises(ValueError, match="shape"):
        model.fit(data.texts, data.Y.T)
    with pytest.raises(ValueError, match="integers"):
        model.fit(data.texts, data.Y.astype(float))
    with pytest.raises(ValueError, match="one string"):
        model.fit("a text", data.Y[:1])
    from nkclassify.errors import ModelError

    with pytest.raises(ModelError, match="unknown feature set"):
        TopicStanceModel(features="bert").fit(data.texts, data.Y)


def test_runs_inside_scikit_learn_model_selection(data):
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate

    model = TopicStanceModel(features="tfidf", stance_topics=False, inner_folds=2)
    scores = cross_validate(model, data.texts, data.Y, groups=data.groups, cv=GroupKFold(n_splits=3))
    assert len(scores["test_score"]) == 3 and all(0 <= s <= 1 for s in scores["test_score"])
    search = GridSearchCV(model, {"topic_c": [1.0, 4.0]}, cv=GroupKFold(n_splits=2))
    search.fit(data.texts, data.Y, groups=data.groups)
    assert search.best_params_["topic_c"] in (1.0, 4.0)
    assert clone(model).get_params() == model.get_params()


@pytest.mark.parametrize(
    "check",
    [
        "check_no_attributes_set_in_init",
        "check_parameters_default_constructible",
        "check_get_params_invariance",
        "check_set_params",
    ],
)
def test_passes_the_scikit_learn_estimator_checks_that_apply_to_text_input(check):
    """The other checks feed numeric arrays, which a text model refuses by design."""
    from sklearn.utils import estimator_checks

    getattr(estimator_checks, check)("TopicStanceModel", TopicStanceModel())


def test_two_step_stance_multiplies_polar_and_direction(data):
    model = TopicStanceModel(stance_design="two_step", neutral_stance=data.neutral, inner_folds=2)
    model.fit(data.texts, data.Y, groups=data.groups)
    _, stance = model.predict_proba(data.texts)
    assert np.allclose(stance.sum(axis=1), 1.0)
    exported = model.export()
    z = model.transform(data.texts) @ exported["stance_polar_coef"] + exported["stance_polar_intercept"][0]
    assert np.allclose(1.0 - stance[:, data.neutral], 1.0 / (1.0 + np.exp(-z)))
