import io

from nkclassify import Tagger
from nkclassify.inputs import Document, Problem, iter_line_chunks


def test_tag_returns_labels_and_rounded_scores(seed_model):
    tagger = Tagger.load(seed_model)
    [record] = tagger.tag("The workers were sent home after their contracts ended.")
    assert set(record) == {"text", "topics", "stance", "scores"}
    assert set(record["scores"]["topics"]) == set(tagger.topic_names)
    assert abs(sum(record["scores"]["stance"].values()) - 1) < 1e-3
    assert all(round(v, 4) == v for v in record["scores"]["topics"].values())
    thresholds = dict(zip(tagger.topic_names, tagger.model.thresholds_))
    assert record["topics"] == [t for t, p in record["scores"]["topics"].items() if p >= thresholds[t] - 1e-4]


def test_tag_article_splits_and_batches_across_documents(seed_model):
    tagger = Tagger.load(seed_model)
    docs = [
        Document("a", "Headline\n\nOne sentence. Another."),
        Problem("bad", "empty"),
        Document("b", "Solo line"),
    ]
    results = list(tagger.tag_documents(docs, batch_units=2))
    assert [getattr(r, "source", None) for r in results] == ["a", "bad", "b"]
    assert [u["text"] for u in results[0].units] == ["Headline", "One sentence.", "Another."]
    assert [u["index"] for u in results[0].units] == [0, 1, 2]
    assert results[2].units[0]["source"] == "b"
    assert tagger.tag_article("One. Two.", lines=True)[0]["text"] == "One. Two."


def test_stdin_chunks_keep_counting(seed_model):
    tagger = Tagger.load(seed_model)
    stream = io.BytesIO(b"".join(f"Line {i}.\n".encode() for i in range(5)))
    results = list(tagger.tag_documents(iter_line_chunks(stream, 2), lines=True, continue_index=True))
    assert [u["index"] for r in results for u in r.units] == [0, 1, 2, 3, 4]


def test_explain_names_ngrams_behind_each_decision(seed_model):
    tagger = Tagger.load(seed_model)
    explanation = tagger.explain("Two soldiers fled their base and were imprisoned for attempted defection.")
    assert "defection" in explanation.topics
    evidence = [e["feature"] for e in explanation.topics["defection"]["evidence"]]
    assert evidence and all(e["weight"] > 0 for e in explanation.topics["defection"]["evidence"])
    assert any("defection" in f or "fled" in f for f in evidence)
    assert explanation.stance["label"] in tagger.stance_names and explanation.stance["evidence"]
