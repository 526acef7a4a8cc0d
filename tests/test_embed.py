"""The embedding feature steps: contract, pickling and failure messages.

The static tests need model2vec (the ``static`` extra) and the model shipped in models/static;
nothing here needs torch, and the MiniLM test fakes its absence so it runs the same either way.
"""

from __future__ import annotations

import pickle
import sys

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from nkclassify.embed import DEFAULT_STATIC_PATH, MiniLMEmbedding, StaticEmbedding
from nkclassify.errors import InputError, ModelError

SENTENCES = [
    "North Korean workers were sent to logging camps in the Russian Far East.",
    "Pyongyang dispatched thousands of labourers to construction sites in Vladivostok.",
    "The workers hand most of their wages to the state as loyalty payments.",
    "Defectors describe long shifts and passports confiscated by minders.",
    "The football club signed a new striker before the transfer window closed.",
    "Heavy rain is expected across the south coast over the weekend.",
    "The central bank left interest rates unchanged on Thursday.",
    "A new museum of modern art opened downtown with a sculpture exhibition.",
]
LABELS = [1, 1, 1, 1, 0, 0, 0, 0]


@pytest.fixture(scope="module")
def static() -> StaticEmbedding:
    pytest.importorskip("model2vec")
    if not (DEFAULT_STATIC_PATH / "model.safetensors").is_file():
        pytest.skip("models/static not built (scripts/distill.py)")
    embedder = StaticEmbedding()
    embedder.transform(SENTENCES[:1])  # load once for the module
    return embedder


def test_static_shape_and_dtype(static: StaticEmbedding) -> None:
    X = static.fit(SENTENCES).transform(SENTENCES)
    assert X.shape == (len(SENTENCES), 256)
    assert X.dtype == np.float32
    assert np.all(np.isfinite(X))
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-3)  # the model normalises
    assert static.transform([]).shape == (0, 256)
    assert static.get_feature_names_out()[0] == "dim0"


def test_static_is_deterministic(static: StaticEmbedding) -> None:
    first = static.transform(SENTENCES)
    again = static.transform(list(reversed(SENTENCES)))[::-1]
    fresh = StaticEmbedding().transform(SENTENCES)
    assert np.array_equal(first, again)
    assert np.array_equal(first, fresh)


def test_static_pickle_leaves_the_model_out(static: StaticEmbedding) -> None:
    expected = static.transform(SENTENCES)
    blob = pickle.dumps(static)
    assert len(blob) < 2_000  # the 15 MB embedding table is not inside
    assert "_loaded" in static.__dict__  # pickling did not unload the live object
    restored = pickle.loads(blob)
    assert "_loaded" not in restored.__dict__
    assert restored.get_params() == {"model_path": None}
    assert np.array_equal(restored.transform(SENTENCES), expected)


def test_static_params_follow_sklearn(tmp_path) -> None:
    step = StaticEmbedding(model_path=str(tmp_path))
    assert step.get_params() == {"model_path": str(tmp_path)}
    assert clone(step).model_path == str(tmp_path)
    assert step.fit(SENTENCES) is step  # nothing learnt, nothing loaded
    assert "_loaded" not in step.__dict__


def test_static_missing_model_is_a_model_error(tmp_path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelError, match="not found") as info:
        StaticEmbedding(model_path=str(missing)).transform(SENTENCES[:1])
    assert str(missing) in str(info.value)
    assert "\n" not in str(info.value)


def test_static_without_model2vec_names_the_extra(monkeypatch) -> None:
    if not (DEFAULT_STATIC_PATH / "model.safetensors").is_file():
        pytest.skip("models/static not built (scripts/distill.py)")
    monkeypatch.setitem(sys.modules, "model2vec", None)  # makes `import model2vec` fail
    with pytest.raises(ModelError) as info:
        StaticEmbedding().transform(SENTENCES[:1])
    message = str(info.value)
    assert 'pip install -e ".[static]"' in message
    assert "\n" not in message


def test_a_bare_string_is_refused() -> None:
    with pytest.raises(InputError):
        StaticEmbedding().transform("one sentence, not a list")


def test_minilm_without_torch_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    step = MiniLMEmbedding(batch_size=8)
    assert step.get_params() == {"batch_size": 8}
    with pytest.raises(ModelError) as info:
        step.transform(SENTENCES[:1])
    message = str(info.value)
    assert "torch" in message
    assert 'pip install -e ".[minilm]"' in message
    assert "\n" not in message
    assert len(pickle.dumps(step)) < 2_000


def test_static_in_a_pipeline(static: StaticEmbedding, tmp_path) -> None:
    pipe = Pipeline([("embed", StaticEmbedding()), ("clf", LogisticRegression(C=10.0))])
    pipe.fit(SENTENCES, LABELS)
    assert list(pipe.predict(SENTENCES)) == LABELS
    path = tmp_path / "pipe.joblib"
    joblib.dump(pipe, path)
    assert path.stat().st_size < 20_000
    reloaded = joblib.load(path)
    np.testing.assert_array_equal(reloaded.predict_proba(SENTENCES), pipe.predict_proba(SENTENCES))


def test_static_beside_tfidf(static: StaticEmbedding) -> None:
    union = FeatureUnion([("word", TfidfVectorizer()), ("static", StaticEmbedding())])
    X = union.fit_transform(SENTENCES)
    names = union.get_feature_names_out()
    assert X.shape == (len(SENTENCES), len(names))
    assert sum(name.startswith("static__dim") for name in names) == 256
