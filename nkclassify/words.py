"""Word tokens of a whole batch at once: the engine's fast road for word, prefix and cue blocks.

Cutting tokens text by text (strings for every bigram and prefix, a dictionary lookup for each)
was most of the time of tagging. Here a batch of texts is lowercased and split into words in one
regular-expression pass, each word becomes an integer by one dictionary lookup, and the rest is
numpy: unigram and prefix columns by gathering, bigrams as integer pairs found by binary search,
single-word cue hits by gathering. Only cue phrases and currency symbols are looked at text by
text, and only in the texts that can hold them. The tokens counted are exactly those of
``Analyzer.tokens`` (a test holds the engine to the scikit-learn pipeline), so the fast road
changes speed, never results.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat

import numpy as np

from .analyzer import _ACCENTS, PREFIX_MARK, Analyzer, preprocess
from .lexicon import _INDEX, CUE_PREFIX

__all__ = ["WordTable"]

_WORD = re.compile(r"(?u)\b\w\w+\b")  # the analyzer's word pattern
_WORD_OR_BREAK = re.compile(r"(?u)\b\w\w+\b|\n")  # the same words, and the breaks between texts
_BREAK = 0  # the id of the break between two texts
_PAIR = np.int64(1 << 31)  # bigram key: left id x _PAIR + right id
_MAX_WORDS = 300_000  # words remembered beyond the vocabulary's before starting afresh


class _BlockTable:
    """One block's columns by word id (-1: no token), grown as new words are seen."""

    def __init__(self, analyzer: Analyzer, vocabulary: dict[str, int]) -> None:
        self.analyzer, self.vocabulary = analyzer, vocabulary
        self.words = analyzer.word_ngrams >= 1
        self.prefix = analyzer.prefix if self.words else 0
        self.stop = analyzer.stop_words
        self.cue_names = sorted(t for t in vocabulary if t.startswith(CUE_PREFIX)) if analyzer.cues else []
        self.cues = bool(analyzer.cues)
        self.uni = np.full(1, -1, dtype=np.int64)
        self.pre = np.full(1, -1, dtype=np.int64)
        self.cue = np.full((1, max(len(self.cue_names), 1)), -1, dtype=np.int64)
        self.bigram_keys = np.zeros(0, dtype=np.int64)
        self.bigram_cols = np.zeros(0, dtype=np.int64)

    def base_words(self) -> set[str]:
        words: set[str] = set()
        if self.words:
            for token in self.vocabulary:
                if not token.startswith((PREFIX_MARK, CUE_PREFIX)):
                    words.update(token.split(" "))
        return words

    def index_bigrams(self, memo: dict[str, int]) -> None:
        if self.analyzer.word_ngrams < 2:
            return
        pairs = [
            (memo[a] * int(_PAIR) + memo[b], col)
            for token, col in self.vocabulary.items()
            if token.count(" ") == 1 and not token.startswith((PREFIX_MARK, CUE_PREFIX))
            for a, b in [token.split(" ")]
        ]
        if pairs:
            keys, cols = zip(*sorted(pairs))
            self.bigram_keys = np.array(keys, dtype=np.int64)
            self.bigram_cols = np.array(cols, dtype=np.int64)

    def grow(self, capacity: int) -> None:
        for name in ("uni", "pre", "cue"):
            old = getattr(self, name)
            new = np.full((capacity, *old.shape[1:]), -1, dtype=np.int64)
            new[: len(old)] = old
            setattr(self, name, new)

    def set(self, i: int, word: str) -> None:
        """Fill slot ``i`` for ``word`` (slots are reused after a fresh start, so every field is set)."""
        get = self.vocabulary.get
        self.uni[i] = self.pre[i] = -1
        self.cue[i] = -1
        if self.words:
            self.uni[i] = -1 if word in self.stop else get(word, -1)
            k = self.prefix
            if k and len(word) > k and word.isalpha():
                self.pre[i] = get(PREFIX_MARK + word[:k], -1)
        if self.cues:
            cols = [c for c in (get(t, -1) for t in _INDEX._tokens[word]) if c >= 0]
            self.cue[i, : len(cols)] = cols


@dataclass
class _Batch:
    """Words of a batch of texts: their ids, the row of each, and what phrases and symbols need."""

    n: int
    tokens: list[str]  # words and breaks, in order
    ids: np.ndarray  # id of each token (breaks are 0)
    word_rows: np.ndarray  # row of each word (breaks left out)
    word_ids: np.ndarray
    pair_rows: np.ndarray  # row, left id and right id of each pair of neighbouring words in a text
    pair_left: np.ndarray
    pair_right: np.ndarray
    breaks: np.ndarray  # token positions of the breaks
    lowered: str | list[str]  # the preprocessed texts, joined by breaks or one by one

    def words_of(self, row: int) -> list[str]:
        start = int(self.breaks[row - 1]) + 1 if row else 0
        end = int(self.breaks[row]) if row < len(self.breaks) else len(self.tokens)
        return self.tokens[start:end]

    def lines(self) -> list[str]:
        return self.lowered.split("\n") if isinstance(self.lowered, str) else self.lowered


class WordTable:
    """Word ids shared by the blocks it serves; each block gathers its own columns from them."""

    @staticmethod
    def handles(analyzer: Analyzer) -> bool:
        """Blocks of word uni/bigrams, prefixes and cue lists (not character n-grams)."""
        return analyzer.char_ngrams is None and analyzer.word_ngrams <= 2

    def __init__(self, blocks: dict[str, tuple[Analyzer, dict[str, int]]]) -> None:
        self.blocks = {name: _BlockTable(a, v) for name, (a, v) in blocks.items()}
        self.cues = any(t.cues for t in self.blocks.values())
        self.memo: dict[str, int] = {"\n": _BREAK}
        self.phrase_first = np.zeros(1, dtype=bool)
        self.capacity = 1
        for word in sorted(set().union(*(t.base_words() for t in self.blocks.values()))):
            self._add(word)
        for table in self.blocks.values():
            table.index_bigrams(self.memo)
        self.base = dict(self.memo)

    def _add(self, word: str) -> int:
        i = len(self.memo)
        if i >= self.capacity:
            self.capacity = max(2 * self.capacity, 1024)
            for table in self.blocks.values():
                table.grow(self.capacity)
            grown = np.zeros(self.capacity, dtype=bool)
            grown[: len(self.phrase_first)] = self.phrase_first
            self.phrase_first = grown
        self.memo[word] = i
        for table in self.blocks.values():
            table.set(i, word)
        self.phrase_first[i] = self.cues and word in _INDEX.phrase_first
        return i

    def batch(self, texts: Sequence[str]) -> _Batch:
        """Preprocess and split a batch of texts into word ids (one regular-expression pass)."""
        n = len(texts)
        if len(self.memo) > len(self.base) + _MAX_WORDS:  # bounded memory on endless novel words
            self.memo = dict(self.base)
        joined = "\n".join(texts)
        if joined.count("\n") == n - 1:  # no text holds a line break: split them all at once
            lowered: str | list[str] = joined.lower()  # lowercasing is per character, breaks included
            if not lowered.isascii():
                lowered = "\n".join(
                    [t if t.isascii() else t.translate(_ACCENTS) for t in lowered.split("\n")]
                )
            tokens = _WORD_OR_BREAK.findall(lowered)
        else:
            lowered = [preprocess(t) for t in texts]
            tokens = []
            for text in lowered:
                tokens += _WORD.findall(text)
                tokens.append("\n")
            tokens.pop()
        memo = self.memo
        ids = np.fromiter(map(memo.get, tokens, repeat(-1)), dtype=np.int64, count=len(tokens))
        for i in np.flatnonzero(ids < 0).tolist():
            word = tokens[i]
            found = memo.get(word)
            ids[i] = found if found is not None else self._add(word)
        is_break = ids == _BREAK
        rows = np.cumsum(is_break)
        words = ~is_break
        pairs = words[:-1] & words[1:]
        return _Batch(
            n,
            tokens,
            ids,
            rows[words],
            ids[words],
            rows[:-1][pairs],
            ids[:-1][pairs],
            ids[1:][pairs],
            np.flatnonzero(is_break),
            lowered,
        )

    def cells(self, name: str, batch: _Batch) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every token the block's analyzer would cut from the batch (repeats kept)."""
        table = self.blocks[name]
        rows, cols = [], []
        if table.words:
            for column in (table.uni, table.pre) if table.prefix else (table.uni,):
                c = column[batch.word_ids]
                keep = c >= 0
                rows.append(batch.word_rows[keep])
                cols.append(c[keep])
            if len(table.bigram_keys) and len(batch.pair_left):
                keys = batch.pair_left * _PAIR + batch.pair_right
                at = np.searchsorted(table.bigram_keys, keys).clip(max=len(table.bigram_keys) - 1)
                keep = table.bigram_keys[at] == keys
                rows.append(batch.pair_rows[keep])
                cols.append(table.bigram_cols[at[keep]])
        if table.cues:
            c = table.cue[batch.word_ids]
            keep = c >= 0
            rows.append(np.broadcast_to(batch.word_rows[:, None], c.shape)[keep])
            cols.append(c[keep])
            rows_, cols_ = self._phrases_and_symbols(table, batch)
            rows.append(rows_)
            cols.append(cols_)
        if not rows:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        return np.concatenate(rows), np.concatenate(cols)

    def _phrases_and_symbols(self, table: _BlockTable, batch: _Batch) -> tuple[np.ndarray, np.ndarray]:
        """Cue phrases (only in rows with a phrase's first word) and symbols ($, €...), text by text."""
        get = table.vocabulary.get
        rows: list[int] = []
        cols: list[int] = []
        for row in np.unique(batch.word_rows[self.phrase_first[batch.word_ids]]).tolist():
            for name, _, _ in _INDEX._phrase_hits(batch.words_of(row)):
                col = get(CUE_PREFIX + name, -1)
                if col >= 0:
                    rows.append(row)
                    cols.append(col)
        whole = batch.lowered if isinstance(batch.lowered, str) else "\n".join(batch.lowered)
        present = [(term, get(token, -1)) for term, token in _INDEX.symbol_tokens if term in whole]
        if present:
            for row, text in enumerate(batch.lines()):
                for term, col in present:
                    if col >= 0 and term in text:
                        count = text.count(term)
                        rows += [row] * count
                        cols += [col] * count
        return np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)
