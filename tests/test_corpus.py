"""The shipped corpus: written articles carry facts, never sentences, and meet the round-2 targets."""

import json
from pathlib import Path

import pytest

from nkclassify.dataset import label_counts, load_corpus
from nkclassify.quality import copied_runs, near_copies, runs, texture

REPO = Path(__file__).resolve().parent.parent
ROUND_2 = 201  # written articles from w201 on are the second-generation corpus


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
    seeds = [p.read_text(encoding="utf-8") for p in sorted((REPO / "seeds").glob("*.txt"))]
    written = [u for u in corpus.units if u.source == "written"]
    copied = [f"{written[i].doc}:{written[i].index}" for i in copied_runs([u.text for u in written], seeds)]
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
    shares = texture([u.text for u in corpus.units if round_2(u.doc)])
    assert shares["quotes"] >= 0.10 and shares["over_35_words"] >= 0.08


def test_near_copies_are_found_across_articles_only():
    docs = ["a", "a", "b", "c"]
    texts = [
        "Nine workers fled the building site near Vladivostok last week and asked for asylum.",
        "Nine workers fled the building site near Vladivostok last week and asked for asylum.",
        "Last week nine workers fled a building site near Vladivostok and asked for asylum there.",
        "The Bank of Russia raised its key interest rate to thirteen percent on Friday morning.",
    ]
    counted, found = near_copies(docs, texts, [0, 3])
    assert counted == 2 and [(p.unit, p.nearest) for p in found] == [(0, 2)]  # not its own article's twin


def test_round_2_near_copy_share(corpus):
    """Units of 8+ words whose nearest unit in another article is a near-copy: at most 25%."""
    docs = [u.doc for u in corpus.units]
    texts = [u.text for u in corpus.units]
    counted, found = near_copies(docs, texts, [i for i, d in enumerate(docs) if round_2(d)])
    assert len(found) / counted <= 0.25
