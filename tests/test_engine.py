"""The array engine against the scikit-learn model it was exported from: same numbers, every feature set."""

import io

import numpy as np
import pytest

from nkclassify.dataset import load_corpus
from nkclassify.engine import Engine
from nkclassify.evaluate import label_matrix
from nkclassify.features import FEATURE_SETS
from nkclassify.model import TopicStanceModel
from nkclassify.modelfile import read_model_file, write_model_file

FUZZ = [
    "",
    "   ",
    "zzqx unknownword qqqqq",
    "Défectors fled — “camp” in Tumen, Hwang Jŏng-il said.",
    "탈북자 노동자 러시아",
    "control\x00chars\x07and\x1bescape",
    "CRLF line\r\nnext",
    "\ufeffBOM at the start",
    "a",
    "$3,000 levy, €5 and ₩10,000 — loyalty funds!!!",
    "ALL CAPS WORKERS FLED THE SITE AND SOUGHT ASYLUM",
    "x" * 5000,
]


def _engine(model, schema) -> Engine:
    buffer = io.BytesIO()
    write_model_file(buffer, model.export(), schema, {})
    buffer.seek(0)
    path_free = read_model_file_from_bytes(buffer.getvalue())
    return Engine(path_free["meta"], path_free["vocabulary"], path_free["arrays"])


def read_model_file_from_bytes(data: bytes, tmp=None):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.nkmodel"
        path.write_bytes(data)
        return read_model_file(path)


@pytest.fixture(scope="module")
def corpus(seed_labels):
    return load_corpus(seed_labels)


@pytest.mark.parametrize("features", list(FEATURE_SETS))
@pytest.mark.parametrize("stance_topics", [False, True])
def test_engine_equals_the_pipeline(corpus, features, stance_topics):
    data = label_matrix(corpus)
    model = TopicStanceModel(
        features=features, stance_topics=stance_topics, thresholds="tuned", inner_folds=3
    )
    model.fit(data.texts, data.Y, groups=data.groups)
    engine = _engine(model, corpus.schema.to_dict())
    texts = data.texts + FUZZ
    topic_proba, stance_proba = model.predict_proba(texts)
    e_topic, e_topics, e_stance, e_choice = engine.predict(texts)
    assert np.abs(topic_proba - e_topic).max() < 1e-9
    assert np.abs(stance_proba - e_stance).max() < 1e-9
    predicted = model.predict(texts)
    assert np.array_equal(predicted[:, :-1].astype(bool), e_topics)
    assert np.array_equal(predicted[:, -1], e_choice)


def test_explanations_show_words_cues_and_stacked_topics(corpus):
    data = label_matrix(corpus)
    model = TopicStanceModel(features="lex").fit(data.texts, data.Y, groups=data.groups)
    engine = _engine(model, corpus.schema.to_dict())
    explanation = engine.explain("Nine workers fled their site and asked for asylum in Seoul.", top=30)
    features = [e["feature"] for entry in explanation.topics.values() for e in entry["evidence"]]
    features += [e["feature"] for e in explanation.stance["evidence"]]
    assert any(f.startswith("[defection terms: fled, asylum") for f in features), features
    stop = {"'their'", "'to'", "'has'", "'and'", "'in'", "'for'"}
    assert not stop & set(features)  # function words are not in the vocabulary


@pytest.mark.parametrize(
    "params",
    [
        {"calibrate": True},
        {"topic_class_weight": None, "stance_tilt": {1: 2.0}},
        {
            "features": "lex-splitcues",
            "stance_blocks": ("word", "stance_cues"),
            "topic_blocks": ("word", "cues"),
        },
        {"stance_blocks": ("cues",), "stance_topics": True},
        {"topic_hidden_tokens": ("@against", "@favor"), "stance_tilt": {1: 1.5}},
    ],
)
def test_engine_equals_the_pipeline_for_linear_options(corpus, params):
    """Calibration, class weights and per-head blocks stay a linear model the engine runs as it is."""
    data = label_matrix(corpus)
    model = TopicStanceModel(inner_folds=3, **params).fit(data.texts, data.Y, groups=data.groups)
    engine = _engine(model, corpus.schema.to_dict())
    texts = data.texts + FUZZ
    topic_proba, stance_proba = model.predict_proba(texts)
    e_topic, _, e_stance, _ = engine.predict(texts)
    assert np.abs(topic_proba - e_topic).max() < 1e-9
    assert np.abs(stance_proba - e_stance).max() < 1e-9
