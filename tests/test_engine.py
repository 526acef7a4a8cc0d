"""The array engine against the scikit-learn model it was exported from: same numbers, every feature set."""

import io

import numpy as np
import pytest

from nkclassify.analyzer import parts
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
    "ΟΔΟΣ ΣΟΦΟΣ Σ ΑΣ: final sigma lowercases by context",
    "İstanbul ǅemal STRASSE straße ﬁnance ½",
    "line\nbreak inside and a $ sign, $$",
    "sent back home; forcibly returned; went back",
]


def _engine(model, schema) -> Engine:
    buffer = io.BytesIO()
    write_model_file(buffer, model.export(), schema, {})
    buffer.seek(0)
    path_free = read_model_file_from_bytes(buffer.getvalue())
    return Engine(
        path_free["meta"], path_free["vocabulary"], path_free["arrays"], "m", path_free["word_table"]
    )


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


@pytest.fixture(scope="module")
def fitted(corpus):
    """``fitted(features)``: a model of default settings fitted on the corpus, once per feature set
    for the whole module (the tests build engines from it and never change it)."""
    data = label_matrix(corpus)
    models: dict[str, TopicStanceModel] = {}

    def fit(features: str) -> TopicStanceModel:
        if features not in models:
            models[features] = TopicStanceModel(features=features).fit(data.texts, data.Y, groups=data.groups)
        return models[features]

    return fit


@pytest.mark.parametrize(
    ("features", "stance_topics"),
    # every feature set; the stacked stance head once (its arithmetic does not depend on the blocks)
    [(name, False) for name in FEATURE_SETS] + [("lex+static", True)],
)
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


def _explained(corpus, fitted, features: str, text: str, top: int):
    """An engine of ``features`` fitted on ``corpus``, its explanation of ``text``, and every
    feature named in that explanation's evidence."""
    engine = _engine(fitted(features), corpus.schema.to_dict())
    explanation = engine.explain(text, top=top)
    named = [e["feature"] for entry in explanation.topics.values() for e in entry["evidence"]]
    return engine, explanation, named + [e["feature"] for e in explanation.stance["evidence"]]


def test_explanations_show_words_cues_and_stacked_topics(corpus, fitted):
    text = "Nine workers fled their site and asked for asylum in Seoul."
    _, _, features = _explained(corpus, fitted, "lex", text, 30)
    assert any(f.startswith("[defection terms: fled, asylum") for f in features), features
    stop = {"'their'", "'to'", "'has'", "'and'", "'in'", "'for'"}
    assert not stop & set(features)  # function words are not in the vocabulary


@pytest.mark.parametrize(
    "features, restarts", [("lex", "words"), ("lex+static", "words"), ("lex+static", "vectors")]
)
def test_the_word_road_counts_what_the_analyzer_cuts(corpus, fitted, monkeypatch, features, restarts):
    """The batch road (one pass, word ids, integer bigrams) against cutting text by text, also after
    its memory of new words starts afresh mid-stream and when a text holds a line break; a vector
    block takes its words from the same road (by word id), also after the word memory or (alone) its
    own cache of word vectors starts again."""
    import nkclassify.vectors as vectors
    import nkclassify.words as words

    data = label_matrix(corpus)
    engine = _engine(fitted(features), corpus.schema.to_dict())
    if restarts == "words":
        monkeypatch.setattr(words, "_MAX_WORDS", 10)
    else:  # at most 300 word vectors kept; explain, between batches, restarts the cache too
        monkeypatch.setattr(vectors, "_CACHE_BYTES", 0)
        monkeypatch.setattr(vectors, "_CACHE_WORDS", 300)
    # a made-up word in every text (letters only, so it has word pieces): the memories fill up
    novel = [
        "qx" + str(i).translate(str.maketrans("0123456789", "abcdefghij")) for i in range(len(data.texts))
    ]
    texts = FUZZ + [f"{text} {word}" for text, word in zip(data.texts, novel)]
    fast = []
    for i in range(0, len(texts), 97):
        fast.append(engine.predict_proba(texts[i : i + 97]))
        engine.explain(texts[i])
    table, engine._words = engine._words, None
    slow = [engine.predict_proba(texts[i : i + 97]) for i in range(0, len(texts), 97)]
    if restarts == "words":
        assert table.generation >= 2  # it did start afresh
    else:
        assert table.generation == 0 and all(d.table._generation >= 2 for d in engine.dense)
    for (a, b), (c, d) in zip(fast, slow):
        assert np.array_equal(a, c) and np.array_equal(b, d)


def test_stored_word_tables_equal_the_ones_worked_out_and_are_checked(corpus, fitted):
    from nkclassify.errors import ModelError

    data = label_matrix(corpus)
    model = fitted("lex")
    buffer = io.BytesIO()
    write_model_file(buffer, model.export(), corpus.schema.to_dict(), {})
    content = read_model_file_from_bytes(buffer.getvalue())
    table = content["word_table"]
    assert table is not None and len(table["words"]) > 100
    assert table["cues"]["cue"].shape[0] == len(table["words"]) + 1  # cue hits stored, not matched at start
    stored = Engine(content["meta"], content["vocabulary"], content["arrays"], "m", table)
    worked_out = Engine(content["meta"], content["vocabulary"], content["arrays"], "m")
    texts = data.texts + FUZZ
    assert stored._words.blocks["cues"].cue_done[: stored._words.base].all()
    for a, b in zip(stored.predict_proba(texts), worked_out.predict_proba(texts)):
        assert np.array_equal(a, b)
    table["word"]["uni"] = table["word"]["uni"].copy()
    table["word"]["uni"][5] = 10**9  # a column past the vocabulary
    with pytest.raises(ModelError, match="inconsistent"):
        Engine(content["meta"], content["vocabulary"], content["arrays"], "m", table)


def test_explanations_of_a_vector_block_name_the_words_that_carried_it(corpus, fitted):
    text = "Nine workers absconded and sought asylum in Seoul."
    engine, explanation, features = _explained(corpus, fitted, "lex+static", text, 40)
    assert any(f.endswith("(meaning)") for f in features), features
    # the words' shares add up to the block's part of the score
    block = engine.dense[0]
    shares = sum(share for _, share in engine._word_evidence(explanation.text))
    vector = block.table.sentence_vectors([parts(explanation.text)[1]]) * block.weight
    whole = vector @ engine._weights[block.offset : block.offset + block.table.dim]
    assert np.allclose(shares, whole[0], atol=1e-5)
