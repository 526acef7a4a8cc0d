"""Shared fixtures: a tiny valid corpus to break in each validation test, and a small model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    """A copy of tests/fixtures/tiny (two articles, labelled) that a test may change; returns labels/."""
    root = tmp_path / "tiny"
    shutil.copytree(FIXTURES / "tiny", root)
    return root / "labels"


@pytest.fixture(scope="session")
def seed_labels(tmp_path_factory) -> Path:
    """The five real seed articles and their hand labels alone (fast to train on)."""
    root = tmp_path_factory.mktemp("seedonly")
    (root / "labels").mkdir()
    shutil.copy(REPO / "labels" / "schema.json", root / "labels" / "schema.json")
    shutil.copytree(REPO / "labels" / "seed", root / "labels" / "seed")
    (root / "seeds").mkdir()
    for article in (REPO / "seeds").glob("*.txt"):
        shutil.copy(article, root / "seeds" / article.name)
    schema = json.loads((root / "labels" / "schema.json").read_text())
    schema["sources"] = {"seed": "seeds"}
    (root / "labels" / "schema.json").write_text(json.dumps(schema))
    return root / "labels"


@pytest.fixture(scope="session")
def seed_model(seed_labels: Path, tmp_path_factory) -> Path:
    """A model trained on the seed articles only, written with its cards."""
    from nkclassify.dataset import load_corpus
    from nkclassify.train import train

    out = tmp_path_factory.mktemp("model") / "seed.nkmodel"
    train(load_corpus(seed_labels), out)
    return out


@pytest.fixture(scope="session")
def seed_corpus(seed_labels: Path):
    from nkclassify.dataset import load_corpus

    return load_corpus(seed_labels)


@pytest.fixture(scope="session")
def seed_report(seed_corpus):
    """One full evaluation of the seed articles, computed once for every test that reads a report."""
    from nkclassify.evaluate import evaluate

    return evaluate(seed_corpus, features=("tfidf",), folds=5, seed=0)
