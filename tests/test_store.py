import json
import shutil
from pathlib import Path

import pytest

from nkclassify.dataset import load_corpus
from nkclassify.errors import ModelError
from nkclassify.fileio import sha256_file
from nkclassify.store import DEFAULT_MODEL_PATH, StaleModelError, card_path, load_model, read_card

REPO = Path(__file__).resolve().parent.parent


def copy_model(src: Path, dst_dir: Path) -> Path:
    for suffix in (".joblib", ".json", ".md"):
        shutil.copy(src.with_suffix(suffix), dst_dir / f"m{suffix}")
    return dst_dir / "m.joblib"


def test_round_trip_and_card(seed_model):
    stored = load_model(seed_model)
    card = stored.card
    assert card["model_sha256"] == sha256_file(seed_model)
    assert set(card["versions"]) >= {"scikit-learn", "python", "nkclassify"}
    assert list(card["thresholds"]) == stored.schema.topic_names
    assert stored.model.predict(["Workers were sent home."]).topic_proba.shape == (1, 5)
    assert "Load only model files you trust" in seed_model.with_suffix(".md").read_text()


def test_tampered_model_is_refused_before_unpickling(seed_model, tmp_path):
    model = copy_model(seed_model, tmp_path)
    with open(model, "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ModelError, match="SHA-256 does not match"):
        load_model(model)


def test_missing_or_broken_card(seed_model, tmp_path):
    model = copy_model(seed_model, tmp_path)
    card_path(model).write_text("{not json")
    with pytest.raises(ModelError, match="unreadable model card"):
        load_model(model)
    card_path(model).unlink()
    with pytest.raises(ModelError, match="model card not found"):
        load_model(model)
    with pytest.raises(ModelError, match="model file not found"):
        load_model(tmp_path / "absent.joblib")


def test_other_scikit_learn_version_is_never_used_silently(seed_model, tmp_path):
    model = copy_model(seed_model, tmp_path)
    card = read_card(model)
    card["versions"]["scikit-learn"] = "0.0.1"
    card_path(model).write_text(json.dumps(card))
    with pytest.raises(StaleModelError, match="built with scikit-learn 0.0.1.*nkclassify train"):
        load_model(model)


def test_shipped_model_matches_shipped_data():
    """Fails when labels/ or seeds/ change without retraining the committed model."""
    card = read_card(DEFAULT_MODEL_PATH)
    assert card["data_hash"] == load_corpus(REPO / "labels").data_hash, "retrain: nkclassify train"
    assert card["model_sha256"] == sha256_file(DEFAULT_MODEL_PATH)
    assert "cv" in card and card["n_units"] == len(load_corpus(REPO / "labels").units)


def test_training_is_reproducible(seed_labels, tmp_path):
    from nkclassify.train import train

    corpus = load_corpus(seed_labels)
    first = train(corpus, tmp_path / "a.joblib", cv_folds=0)
    second = train(corpus, tmp_path / "b.joblib", cv_folds=0)
    assert first["thresholds"] == second["thresholds"]
    a, b = load_model(tmp_path / "a.joblib").model, load_model(tmp_path / "b.joblib").model
    texts = [u.text for u in corpus.units]
    assert (a.predict(texts).topic_proba == b.predict(texts).topic_proba).all()
