"""Static word-piece vectors: the splitting, the sentence vectors and their promise of exact repeats."""

import json

import numpy as np
import pytest

import nkclassify.vectors as vectors
from nkclassify.analyzer import parts
from nkclassify.errors import ModelError
from nkclassify.vectors import PieceVectors, load_source

PIECES = ["fl", "fled", "##ed", "de", "##fect", "##or", "##s", "camp", "x"]


def tiny() -> PieceVectors:
    rng = np.random.default_rng(0)
    return PieceVectors(PIECES, rng.normal(size=(len(PIECES), 6)).astype(np.float16))


def test_words_are_cut_by_greedy_longest_match():
    table = tiny()
    index = {p: i for i, p in enumerate(PIECES)}
    assert table.split("fled") == [index["fled"]]  # the whole word before "fl" + "##ed"
    assert table.split("defectors") == [index["de"], index["##fect"], index["##or"], index["##s"]]
    assert table.split("defectq") == []  # a part with no piece: no vector at all (BERT's [UNK])
    assert table.split("x" * 101) == [] and table.split("") == []


def test_sentence_vectors_are_unit_length_means_of_words_or_zero():
    table = tiny()
    got = table.sentence_vectors([["fled", "camp"], ["qqq"], [], ["defectors"]])
    assert np.allclose(np.linalg.norm(got[[0, 3]], axis=1), 1.0)
    assert not got[1].any() and not got[2].any()
    v = table.vectors.astype(np.float64)
    expected = v[PIECES.index("fled")] + v[PIECES.index("camp")]
    assert np.allclose(got[0], expected / np.linalg.norm(expected), atol=1e-6)
    word = v[[PIECES.index(p) for p in ("de", "##fect", "##or", "##s")]].mean(axis=0)
    assert np.allclose(got[3], word / np.linalg.norm(word), atol=1e-6)


def test_word_vectors_are_the_float32_mean_of_their_pieces_to_the_bit():
    """New words' vectors are worked out together; each must be exactly what ``mean`` gives alone."""
    source = load_source()
    table = PieceVectors(source.pieces, source.vectors)
    words = [
        "fled",
        "defectors",
        "remittances",
        "absconded",
        "vladivostok",
        "x" * 101,
        "노동자",
        "qxqzjv",
        "a",
    ]
    slots = table.slots_of(words)
    for word, slot in zip(words, slots):
        ids = table.split(word)
        if ids:
            alone = table.vectors[ids].astype(np.float32).mean(axis=0, dtype=np.float32)
            assert np.array_equal(table._cache[slot], alone), word
        else:
            assert slot == -1, word


def test_a_text_gets_the_same_bits_in_any_batch_and_after_the_cache_starts_again(monkeypatch):
    source = load_source()
    texts = [
        "Nine workers fled their site and asked for asylum in Seoul.",
        "",
        "탈북자 노동자",
        "Défectors remitted wages — x" * 3,
        "The ban required all member states to send workers home.",
    ]
    words = [parts(t)[1] for t in texts * 40]
    whole = PieceVectors(source.pieces, source.vectors).sentence_vectors(words)
    monkeypatch.setattr(vectors, "_CACHE_BYTES", 0)  # the cache starts again at every new batch
    table = PieceVectors(source.pieces, source.vectors)
    pieces = [table.sentence_vectors(words[i : i + 7]) for i in range(0, len(words), 7)]
    assert np.array_equal(whole, np.vstack(pieces))
    assert np.array_equal(whole[::-1], table.sentence_vectors(words[::-1]))


def test_rows_by_word_id_follow_both_memories_starting_again(monkeypatch):
    """The engine's road: word ids into a word list that starts again (a new generation), into a
    cache of word vectors that may start again between batches (explain uses it too)."""
    source = load_source()
    monkeypatch.setattr(vectors, "_CACHE_BYTES", 0)
    monkeypatch.setattr(vectors, "_CACHE_WORDS", 5)
    table = PieceVectors(source.pieces, source.vectors)

    def rows(ids, words, generation):
        slots = table.slots_of_ids(np.array(ids), words, generation)
        return np.where(slots[:, None] >= 0, table._cache[slots], 0)

    first = ["\n", "workers", "fled", "seoul"]
    assert np.array_equal(rows([1, 2, 3, 1], first, 0), table.word_vectors(first[1:] + first[1:2]))
    table.slots_of(["asylum", "wages", "ban", "embassy", "logging", "camps"])  # the cache starts again
    assert np.array_equal(rows([3, 2], first, 0), table.word_vectors(["seoul", "fled"]))
    second = [
        "\n",
        "remittances",
        "xqzzzzzzz" * 20,
        "fled",
    ]  # the word list started again: ids mean other words
    assert np.array_equal(rows([1, 2, 3], second, 1), table.word_vectors(second[1:]))


def test_the_shipped_source_table_loads_without_safetensors_or_tokenizers():
    table = load_source()
    assert table.vectors.shape == (29525, 256) and table.vectors.dtype == np.float16
    assert table.split("repatriation") and table.split("defectors")


def test_a_damaged_source_or_table_is_refused(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    (tmp_path / "tokenizer.json").write_text(json.dumps({"model": {"vocab": {"a": 0}}}))
    with pytest.raises(ModelError, match="static piece vectors unreadable"):
        load_source(tmp_path)
    with pytest.raises(ValueError, match="float16"):
        PieceVectors(["a"], np.zeros((1, 4)))
    # rows are checked when a word first needs them (loading maps the table without reading it)
    table = PieceVectors(["a", "b"], np.array([[1, 0, 0, 0], [np.inf, 0, 0, 0]], dtype=np.float16))
    assert table.sentence_vectors([["a"]])[0, 0] == 1.0
    with pytest.raises(ModelError, match="NaN or infinity"):
        table.sentence_vectors([["a", "b"]])
