"""The shipped corpus: written articles carry facts, never sentences, and meet the coverage targets."""

import re
from pathlib import Path

import pytest

from nkclassify.dataset import label_counts, load_corpus

REPO = Path(__file__).resolve().parent.parent
RUN = 8  # words in a row that may not be shared with a seed article


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def runs(text: str) -> set[tuple[str, ...]]:
    tokens = words(text)
    return {tuple(tokens[i : i + RUN]) for i in range(len(tokens) - RUN + 1)}


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(REPO / "labels")


def test_runs_detects_a_copied_phrase():
    seed = "the soldiers are currently imprisoned for attempted defection in a camp"
    assert runs(
        "Reports say the soldiers are currently imprisoned for attempted defection in a camp."
    ) & runs(seed)
    assert not runs("Both soldiers now sit in prison, accused of trying to defect.") & runs(seed)


def test_written_units_share_no_run_of_eight_words_with_a_seed(corpus):
    seed_runs: set[tuple[str, ...]] = set()
    for article in sorted((REPO / "seeds").glob("*.txt")):
        seed_runs |= runs(article.read_text(encoding="utf-8"))
    copied = [
        f"{u.doc}:{u.index}: {u.text}"
        for u in corpus.units
        if u.source == "written" and runs(u.text) & seed_runs
    ]
    assert copied == []


def test_written_articles_are_kept_apart_and_recorded_as_written(corpus):
    written = {u.doc for u in corpus.units if u.source == "written"}
    assert written == {p.stem for p in (REPO / "seeds" / "written").glob("*.txt")}
    assert {u.doc for u in corpus.units if u.source == "seed"} == {
        p.stem for p in (REPO / "seeds").glob("*.txt")
    }


def test_coverage_targets(corpus):
    counts = label_counts(corpus)
    written_units = [u for u in corpus.units if u.source == "written"]
    assert len(written_units) >= 1500
    assert len({u.doc for u in written_units}) >= 120
    for topic, n in counts["topics"].items():
        assert n >= 250, topic
    assert counts["stance"]["favor"] >= 150
    assert counts["stance"]["against"] >= 400
