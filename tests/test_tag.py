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


def test_stale_shipped_model_is_rebuilt_into_the_cache(seed_model, seed_labels, tmp_path, monkeypatch):
    import json
    import shutil

    import nkclassify.dataset as dataset
    import nkclassify.tag as tag
    from nkclassify.store import card_path

    shipped = tmp_path / "shipped" / "nkclassify.joblib"
    shipped.parent.mkdir()
    for suffix in (".joblib", ".json", ".md"):
        shutil.copy(seed_model.with_suffix(suffix), shipped.with_suffix(suffix))
    card = json.loads(card_path(shipped).read_text())
    card["versions"]["scikit-learn"] = "0.0.1"
    card_path(shipped).write_text(json.dumps(card))
    monkeypatch.setattr(tag, "DEFAULT_MODEL_PATH", shipped)
    monkeypatch.setattr(tag, "CACHE_DIR", tmp_path / "cache")
    real_load = dataset.load_corpus
    monkeypatch.setattr(dataset, "load_corpus", lambda labels_dir=None: real_load(seed_labels))

    tagger = Tagger.load()
    assert "rebuilt it from the shipped labels" in tagger.notes[0]
    assert list((tmp_path / "cache").glob("*.joblib"))
    assert tagger.tag("Workers fled.")[0]["stance"] in tagger.stance_names
    assert "using rebuilt model" in Tagger.load().notes[0]  # second time: the cached rebuild
