"""The shipped corpus: written articles carry facts, never sentences, and meet the round-2 targets."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from nkclassify.dataset import label_counts, load_corpus

REPO = Path(__file__).resolve().parent.parent
RUN = 8  # words in a row that may not be shared with a seed article
ROUND_2 = 201  # written articles from w201 on are the second-generation corpus


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def runs(text: str) -> set[tuple[str, ...]]:
    tokens = words(text)
    return {tuple(tokens[i : i + RUN]) for i in range(len(tokens) - RUN + 1)}


def round_2(doc: str) -> bool:
    return doc.startswith("w") and int(doc[1:4]) >= ROUND_2


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
    assert counts["articles"]["units"] >= 6000
    for topic, n in counts["topics"].items():
        assert n >= 700, topic
    assert counts["stance"]["against"] >= 1200 and counts["stance"]["favor"] >= 500
    assert 0.25 <= counts["no topic"]["(none)"] / counts["articles"]["units"] <= 0.40


def test_round_2_tells_new_events_at_most_three_times_and_composites_are_marked(corpus):
    events = {
        e["id"]: e for e in map(json.loads, (REPO / "labels" / "events.jsonl").read_text().splitlines())
    }
    new = {doc: meta for doc, meta in corpus.articles.items() if round_2(doc)}
    on_new_events = [
        d for d, m in new.items() if not any(events[e]["told_before_round_2"] for e in m["events"])
    ]
    assert len(on_new_events) >= 150
    told = {}
    for meta in corpus.articles.values():
        for event in meta["events"]:
            told[event] = told.get(event, 0) + 1
    assert all(
        told[e] <= 3 for m in new.values() for e in m["events"] if not events[e]["told_before_round_2"]
    )
    composites = [d for d, m in new.items() if m["composite"]]
    assert 0 < len(composites) <= len(new) / 3
    assert all(all(e.startswith("comp-") for e in new[d]["events"]) for d in composites)


def test_round_2_reads_like_real_pages(corpus):
    units = [u for u in corpus.units if round_2(u.doc)]
    texts = [u.text for u in units]
    assert np.mean([bool(re.search(r"[\"“”]", t)) for t in texts]) >= 0.10
    assert np.mean([len(t.split()) > 35 for t in texts]) >= 0.08


def test_round_2_near_copy_share(corpus):
    """Units of 8+ words whose nearest unit in another article is a near-copy: at most 25%."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [u.text for u in corpus.units]
    docs = np.array([u.doc for u in corpus.units])
    matrix = TfidfVectorizer(stop_words="english").fit_transform(texts)
    mine = [i for i, u in enumerate(corpus.units) if round_2(u.doc) and len(u.text.split()) >= 8]
    near = 0
    for start in range(0, len(mine), 500):
        rows = mine[start : start + 500]
        sims = (matrix[rows] @ matrix.T).toarray()
        sims[docs[rows][:, None] == docs[None, :]] = 0.0
        near += int((sims.max(axis=1) >= 0.35).sum())
    assert near / len(mine) <= 0.25
