"""The batch word road cuts the very words the analyzer cuts, whatever the characters."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

from nkclassify.analyzer import Analyzer, parts
from nkclassify.words import WordTable

FUZZ = [
    "",
    "   ",
    "a",
    "a b c d",
    "Défectors fled — “camp” in Tumen, Hwang Jŏng-il said.",
    "탈북자 노동자 러시아 and 北朝鮮 workers",
    "control\x00chars\x07and\x1bescape\x01and\x1cfile\x1fseps",
    "CRLF line\r\nnext\rold mac",
    "\ufeffBOM at the start",
    "$3,000 levy, €5 and ₩10,000 — loyalty funds!!! 50%",
    "ΟΔΟΣ ΣΟΦΟΣ Σ ΑΣ: final sigma lowercases by context",
    "İstanbul ǅemal STRASSE straße ﬁnance ½ ㎒ ＦＵＬＬ width Ⅻ ²³",
    "snake_case __dunder__ x_y _ __ 3d 42 4.2",
    "no\u00a0break\u2003em\u2028line\u2029para\x85next\u200bzero\u200dwidth",
    "lone \ud800 surrogate\udfff here",
    "emoji 🙂 and astral 𝔘𝔫𝔦 letters",
    "x" * 5000,
    " ".join(["word"] * 3000),
    "ends with a one-letter word a",
    "ЖУК жук Жук ÉCOLE École",
    "dash—joined—words, ab½cd, “quoted” «guillemets» déjà-vu’s x—y",
]

POOL = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
    " \t\r\x0b\x0c\x00\x01\x07\x1c\x1f\x7f.,;:!?'\"-()[]{}$€₩%&*/\\|<>@#^~`"
    "éèêëÉàâäÄçÇñÑöÖüÜßŒœÆæøØåÅıİǅǆĲﬁﬂ½²µΣσςΑΩ한국어北朝鮮—–“”‘’…·•\u00a0\u2003\u2028\u200b\u0301\u0308"
    "\ud800🙂𝔘"
)


def _table() -> WordTable:
    # a vocabulary may hold what the analyzer never cuts (one letter, a composed syllable): never counted
    vocabulary = [
        "fled",
        "camp",
        "fled camp",
        "workers",
        "and",
        "word word",
        "탈북자",
        "final sigma",
        "a",
        "x",
        "ЖУК",
    ]
    return WordTable({"word": (Analyzer(word_ngrams=2), vocabulary)})


def _words_by_row(table: WordTable, texts: list[str]) -> list[list[str]]:
    batch = table.batch(texts)
    rows: list[list[str]] = [[] for _ in texts]
    for row, i in zip(batch.word_rows.tolist(), batch.word_ids.tolist()):
        rows[row].append(table.words[i])
    pairs: list[list[tuple[str, str]]] = [[] for _ in texts]
    for row, a, b in zip(batch.pair_rows.tolist(), batch.pair_left.tolist(), batch.pair_right.tolist()):
        pairs[row].append((table.words[a], table.words[b]))
    for row, words in enumerate(rows):
        assert pairs[row] == list(zip(words, words[1:]))
    return rows


def _check(texts: list[str]) -> None:
    table = _table()
    assert _words_by_row(table, texts) == [parts(t)[1] for t in texts]
    assert _words_by_row(table, texts) == [parts(t)[1] for t in texts]  # again, every word known now


def test_fuzz_texts_as_one_batch_and_one_by_one():
    _check(FUZZ)
    for text in FUZZ:
        _check([text])


def test_a_line_break_inside_a_text_is_a_space():
    _check(FUZZ + ["line\nbreak inside", "\n", "two\n\nbreaks\nx"])


def test_random_text_from_awkward_characters():
    rng = random.Random(7)
    for pool in (POOL, POOL.replace("Σ", "")):  # a capital sigma lowers by context: the whole batch first
        texts = ["".join(rng.choices(pool, k=rng.randint(0, 80))) for _ in range(3000)]
        _check(texts)
        _check(texts[:50] + ["with a\nbreak"])


@pytest.mark.parametrize("plane", [0, 1])
def test_every_character_as_a_word_and_between_words(plane):
    """Each code point alone, doubled and between two letters: is it a word character, a space,
    or something accents become (the characters of a plane in one batch)?"""
    codes = [c for c in range(plane << 16, (plane + 1) << 16) if c not in (10, 0x3A3)]  # sigma: FUZZ
    if plane == 1:
        codes = codes[::7]
    texts = [f"a{chr(c)}b {chr(c)}{chr(c)} {chr(c)}" for c in codes]
    table = _table()
    got = _words_by_row(table, texts)
    for text, words in zip(texts, got):
        assert words == parts(text)[1], repr(text)


def test_one_letter_words_are_no_words_and_breaks_are_rows():
    table = _table()
    batch = table.batch(["a fled b camp c", "", "x"])
    assert [table.words[i] for i in batch.word_ids.tolist()] == ["fled", "camp"]
    assert batch.pair_rows.tolist() == [0]
    assert np.array_equal(batch.word_rows, [0, 0])


@pytest.mark.parametrize("size", [0, 1, 7, 5000])
def test_the_pair_index_finds_what_a_binary_search_finds(size):
    from nkclassify.words import _PAIR, _PairIndex

    rng = np.random.default_rng(size)
    left, right = rng.integers(0, 300, (2, 3 * size + 1))
    keys = np.unique(left * _PAIR + right)[:size]
    cols = rng.permutation(len(keys)).astype(np.int64)
    index = _PairIndex(keys, cols)
    queries = np.concatenate(
        [keys, rng.integers(0, 300, (20000, 2)) @ np.array([_PAIR, 1]), [0, 299 * _PAIR + 299]]
    )
    at = np.searchsorted(keys, queries).clip(max=max(len(keys) - 1, 0))
    expected = np.where(keys[at] == queries, cols[at], -1) if len(keys) else np.full(len(queries), -1)
    assert np.array_equal(index.find(queries), expected)
    assert np.array_equal(index.find(keys), cols)
    clustered = np.arange(size, dtype=np.int64)  # neighbouring keys: long runs of probing
    assert np.array_equal(_PairIndex(clustered, clustered).find(clustered), clustered)


def test_the_spaces_past_ascii_are_those_str_split_splits_at():
    from nkclassify.words import _NON_ASCII_SPACES

    assert set(_NON_ASCII_SPACES) == {c for c in range(128, 0x110000) if chr(c).isspace()}


def test_chunks_cut_from_bytes_are_those_str_split_gives():
    """Every chunk, where it starts, and a key per distinct chunk of up to 16 bytes (8, 9, 16 and
    17 bytes are the edges), from text of awkward characters and every space past ASCII."""
    from nkclassify.words import _ASCII_WORDS, _NON_ASCII_SPACES, _Cut

    rng = random.Random(3)
    pool = POOL + "".join(map(chr, _NON_ASCII_SPACES))
    texts = ["".join(rng.choices(pool, k=rng.randint(0, 60))) for _ in range(2000)]
    texts += ["a" * n for n in (1, 7, 8, 9, 15, 16, 17, 40)] + ["é" * n for n in (4, 5, 8, 9)]
    raw = "\n".join(texts).encode("utf-8", "surrogatepass").translate(_ASCII_WORDS)
    cut = _Cut.of(raw)
    expected = raw.decode("utf-8", "surrogatepass").replace("\x01", " \x01 ").split()
    assert [cut.text(i) for i in range(len(cut))] == expected
    keys: dict[tuple[int, int], str] = {}
    for chunk, low, high in zip(expected, cut.low.tolist(), cut.high.tolist()):
        if len(chunk.encode("utf-8", "surrogatepass")) > 16:
            assert low == high == 0
        else:
            assert low and keys.setdefault((low, high), chunk) == chunk  # one chunk per key
    assert len(set(keys.values())) == len(keys)


@pytest.mark.parametrize("size", [0, 1, 60, 5000])
def test_the_chunk_index_finds_what_a_dictionary_finds(size, monkeypatch):
    from nkclassify.words import _ChunkIndex

    rng = np.random.default_rng(size)
    keys = {(int(a), int(b)): i for i, (a, b) in enumerate(rng.integers(1, 1 << 62, (size, 2)))}
    low, high = (np.array([k[j] for k in keys], dtype=np.uint64) for j in (0, 1))
    index = _ChunkIndex(low, high, np.arange(size, dtype=np.int64))
    more = rng.integers(1, 1 << 62, (300, 2)).astype(np.uint64)
    queries = np.concatenate([np.stack([low, high], axis=1).reshape(-1, 2), more])
    expected = [keys.get((a, b), -1) for a, b in queries.tolist()]
    assert index.find(queries[:, 0], queries[:, 1]).tolist() == expected
    for step in (1, 10, 100):  # one by one in place, a few, and many (built afresh)
        new = rng.integers(1, 1 << 62, (step, 2)).astype(np.uint64)
        codes = np.arange(len(keys), len(keys) + step, dtype=np.int64)
        index = index.add(new[:, 0], new[:, 1], codes)
        keys.update(zip(map(tuple, new.tolist()), codes.tolist()))
        everything = np.array(list(keys), dtype=np.uint64).reshape(-1, 2)
        assert index.find(everything[:, 0], everything[:, 1]).tolist() == list(keys.values())
    # every key at one home near the end (tables have at least 1,088 slots): the run of 64 new keys
    # reaches the last slot, and the index is built afresh, larger
    monkeypatch.setattr(_ChunkIndex, "_home", lambda self, low, high: np.full(len(low), 1080))
    keys = np.arange(1, 67, dtype=np.uint64)
    crowded = _ChunkIndex(keys[:2], keys[:2], np.arange(2))
    grown = crowded.add(keys[2:], keys[2:], np.arange(2, 66))
    assert grown is not crowded and len(grown.low) > len(crowded.low)
    queries = np.arange(1, 68, dtype=np.uint64)
    assert grown.find(queries, queries).tolist() == [*range(66), -1]


@pytest.mark.parametrize(
    "tokens",
    [
        ["@cue", "a", "b c", "~ab", "~cd", "~zz"],  # sorted, as fitted vocabularies come
        ["~ab", "a", "@cue", "~cd", "b c", "~zz"],  # not sorted: found by a pass instead
        ["~q", "a", "b", "~ab", "~cd"],  # not sorted, though the bisected run looks right
        ["a", "x\n~zz", "y", "~ab", "~cd"],  # sorted, but a token holds a break and a mark: the pass
        ["a", "b"],
        [],
    ],
)
def test_marked_tokens_are_every_prefix_and_cue_token(tokens):
    from nkclassify.analyzer import PREFIX_MARK
    from nkclassify.lexicon import CUE_PREFIX
    from nkclassify.words import _BlockTable

    table = _BlockTable(Analyzer(word_ngrams=1, prefix=2, cues=True), tokens)
    expected = {t: i for i, t in enumerate(tokens) if t.startswith((PREFIX_MARK, CUE_PREFIX))}
    assert table.marked == expected


def _cells_by_row(table: WordTable, name: str, texts: list[str]) -> list[Counter]:
    rows, cols = table.cells(name, table.batch(texts))
    found = [Counter() for _ in texts]
    for row, col in zip(rows.tolist(), cols.tolist()):
        found[row][col] += 1
    return found


@pytest.mark.parametrize("by_chunk", [True, False])
def test_cue_words_phrases_and_symbols_as_the_analyzer_cuts_them(by_chunk, monkeypatch):
    """Phrases (also across one-letter words, at a text's end, cut by a break) and symbols (several
    in a text, at its edges, full-width forms that accents turn into symbols), found in chunks or,
    as for a symbol of several characters, in the preprocessed text."""
    import nkclassify.words as words
    from nkclassify.lexicon import CUE_PREFIX, CUES

    monkeypatch.setattr(words, "_SYMBOLS_BY_CHUNK", by_chunk)

    analyzer = Analyzer(word_ngrams=2, prefix=5, cues=True, stop_words=frozenset({"the", "to"}))
    vocabulary = [CUE_PREFIX + name for name in CUES] + ["sent back", "~defec", "fled", "went"]
    columns = {t: i for i, t in enumerate(vocabulary)}
    table = WordTable({"lex": (analyzer, vocabulary)})
    rng = random.Random(3)
    pieces = [
        "sent",
        "back",
        "home",
        "went",
        "missing",
        "a",
        "x",
        "forced",
        "return",
        "returned",
        "the",
        "sent back home",
        "$",
        "€5",
        "＄",
        "﹩",
        "$$",
        "£",
        "ran",
        "away",
        "to",
        "south",
        "korea",
        "reached",
        "defectors",
        "fled",
        ",",
        "—",
        "left",
        "country",
        "leave",
        "hand",
        "handed",
    ]
    texts = FUZZ + [
        "sent a back home",
        "they went missing",
        "went",
        "missing",
        "sent\nback",
        "$5 and $6, $",
        "$",
        "forcibly x returned to the north",
        "reached south korea",
        "they ran away",
    ]
    texts += [" ".join(rng.choices(pieces, k=rng.randint(0, 12))) for _ in range(2000)]
    expected = [Counter(columns[t] for t in analyzer(text) if t in columns) for text in texts]
    assert _cells_by_row(table, "lex", texts) == expected
    assert _cells_by_row(table, "lex", texts[:40]) == expected[:40]
    assert _cells_by_row(table, "lex", [t for t in texts if "\n" not in t]) == [
        e for t, e in zip(texts, expected) if "\n" not in t
    ]


def test_memory_of_new_words_and_chunks_starts_afresh(monkeypatch):
    """Chunks of text cleaned into words are remembered with the new words, and forgotten with them."""
    import nkclassify.words as words

    monkeypatch.setattr(words, "_MAX_WORDS", 40)
    table = _table()
    rng = random.Random(11)
    for _ in range(30):
        texts = ["".join(rng.choices(POOL, k=rng.randint(0, 60))) for _ in range(20)] + FUZZ[4:6]
        assert _words_by_row(table, texts) == [parts(t)[1] for t in texts]
        assert len(table.words) + len(table.chunks) <= table.base + 80 + 2 * 20 * 60
    assert table.several  # chunks of several words were met


def test_phrases_and_symbols_after_the_memory_starts_afresh(monkeypatch):
    """New words' ids are given out again after a fresh start: nothing remembered about the old
    ones (chunks, pairs that can start a phrase, chunks holding symbols) may carry over."""
    import nkclassify.words as words
    from nkclassify.lexicon import CUE_PREFIX, CUES

    monkeypatch.setattr(words, "_MAX_WORDS", 3)
    analyzer = Analyzer(word_ngrams=0, cues=True)
    vocabulary = [CUE_PREFIX + name for name in CUES]
    columns = {t: i for i, t in enumerate(vocabulary)}
    table = WordTable({"cues": (analyzer, vocabulary)})
    rng = random.Random(5)
    pieces = ["sent", "back", "home", "went", "missing", "ran", "away", "left", "the", "country", "€", "＄"]
    pieces += ["zz", "yy", "xx", "ww", "vv", "uu", "éé", "àà", "ôô", "zz—yy", "sent—back", "€—"]
    for _ in range(300):
        texts = [" ".join(rng.choices(pieces, k=rng.randint(1, 6))) for _ in range(3)]
        expected = [Counter(columns[t] for t in analyzer(text) if t in columns) for text in texts]
        assert _cells_by_row(table, "cues", texts) == expected
