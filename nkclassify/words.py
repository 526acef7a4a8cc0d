"""Word tokens of a whole batch at once: the engine's fast road for word, prefix and cue blocks.

Cutting tokens text by text (strings for every bigram and prefix, a dictionary lookup for each)
was most of the time of tagging. Here a batch of texts becomes one byte string by a whole-batch
translation (no regular expression); numpy cuts it into chunks and reads each chunk's bytes as a
key, which an open-addressing index of the chunks seen before turns into an integer, so no str
is made per chunk (a chunk seen for the first time, or over 16 bytes, goes by the memo; one that
needs cleaning, for accents, capitals or quotes, is cleaned once and remembered), and the rest is
numpy: unigram and prefix columns by gathering, bigrams as integer pairs found in a
hash table, single-word cue hits by gathering. Cue phrases are checked in Python only where a pair
of words can start one, and currency symbols are counted where they occur. The tokens counted are
exactly those of ``Analyzer.tokens`` (tests hold the engine to the scikit-learn pipeline and the
word road to the analyzer on every character), so the fast road changes speed, never results.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from .analyzer import _ACCENTS, PREFIX_MARK, Analyzer, preprocess
from .lexicon import _INDEX, CUE_PREFIX

__all__ = ["WordTable"]

_BREAK = 0  # the id of the break between two texts
_SKIP = -2  # the code of a chunk without words (one letter, a dash): no token (words have two or more)
_MANY = -3  # codes from here down: a chunk that cleans into several words (``WordTable.several``)
_BREAK_MARK = "\x01"  # the break between two texts in the cleaned text (the original \x01 is a space)


def _is_word_char(c: str) -> bool:
    """The word pattern's ``\\w`` on a str: alphanumeric (letters, digits, numerals) or ``_``."""
    return c.isalnum() or c == "_"


# Words without the regular expression: every character that is not a word character becomes a
# space, so ``str.split`` gives the maximal runs of word characters, which are what the analyzer's
# ``\b\w\w+\b`` finds once the one-character runs are left out. ASCII goes through a byte table
# (UTF-8 leaves bytes >= 128 alone, so other characters pass untouched); a chunk that still holds
# one is lowered and cleaned by ``_WORD_CHARS``, which also strips accents, the first time it is
# seen, and the memo remembers what it became (``WordTable._resolve``).
_ASCII_WORDS = bytes(
    1 if b == 10 else b if b >= 128 else ord(chr(b).lower()) if _is_word_char(chr(b)) else 32
    for b in range(256)
)


class _WordChars(dict):
    """A ``str.translate`` table, filled on first sight: accents stripped as ``preprocess`` strips
    them, then every character that is not a word character a space."""

    def __missing__(self, code: int) -> str:
        cleaned = "".join(c if _is_word_char(c) else " " for c in _ACCENTS[code])
        self[code] = cleaned
        return cleaned


_WORD_CHARS = _WordChars()
_PAIR = np.int64(1 << 31)  # bigram key: left id x _PAIR + right id
_MAX_WORDS = 300_000  # words remembered beyond the vocabulary's before starting afresh


# a cue phrase's second word starts with one of these (its first word is in ``_INDEX.phrase_first``)
_PHRASE_SECOND = tuple(sorted({rest[0] for entries in _INDEX.phrases.values() for rest, *_ in entries}))
# symbols ($, €...): counted wherever they occur in the preprocessed text
_SYMBOLS = tuple(dict.fromkeys(term for term, _ in _INDEX.symbol_tokens))
# one character each (a symbol never spans two characters of the text): a symbol an accent or
# compatibility form turns into (＄ -> $) is found in the chunk holding that form, the rest in the text
_SYMBOLS_BY_CHUNK = all(len(term) == 1 for term in _SYMBOLS)
_SPREAD = np.int64(0x9E3779B97F4A7C15 - (1 << 64))  # Fibonacci hashing: key x this, top bits


def _placed(home: np.ndarray, bits: int, room: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Open addressing by linear probing without wrap-around, built in numpy: keys sorted by home
    slot each take the first free slot from their home on (a running maximum). Gives the order to
    place the keys in, their slots, and the table size (at least ``1 << bits``, and ``room`` empty
    slots past the last key, so every probe ends on an empty slot)."""
    order = np.argsort(home)  # keys with the same home may go in any order: no stable sort (2.5x slower)
    at = np.arange(len(home), dtype=np.int64)
    slot = np.maximum.accumulate(home[order] - at) + at if len(home) else at
    return order, slot, max(1 << bits, int(slot[-1]) + 1 if len(home) else 0) + room


def _probe(slot: np.ndarray, values: np.ndarray, look: Callable) -> np.ndarray:
    """The value of each key from its home ``slot`` on (-1: not in the table), a whole batch at a
    time; ``look(at, which)`` compares keys ``which`` (None: all) with slots ``at`` and gives
    (found, empty). ``slot`` is used up."""
    hit, empty = look(slot, None)
    out = np.where(hit, values[slot], -1)
    go = np.flatnonzero(~hit & ~empty)  # a different key here: look further along
    while len(go):
        slot[go] += 1
        at = slot[go]
        hit, empty = look(at, go)
        out[go[hit]] = values[at[hit]]
        go = go[~hit & ~empty]
    return out


class _PairIndex:
    """Bigram key -> column by open addressing: one gather finds most keys, where a binary search
    over the sorted keys took some 16 dependent steps (cache misses) a key. The table is at least
    four times the keys, so runs are short; an empty slot holds -1.
    """

    def __init__(self, keys: np.ndarray, cols: np.ndarray) -> None:
        bits = max(int(4 * len(keys) - 1).bit_length(), 4)
        self.shift, self.mask = np.int64(64 - bits), np.int64((1 << bits) - 1)
        order, slot, size = _placed(self._home(keys), bits, 1)
        self.keys = np.full(size, -1, dtype=np.int64)
        self.cols = np.full(size, -1, dtype=np.int64)
        self.keys[slot] = keys[order]
        self.cols[slot] = cols[order]

    def _home(self, keys: np.ndarray) -> np.ndarray:
        return (keys * _SPREAD >> self.shift) & self.mask  # int64 products wrap, as intended

    def find(self, keys: np.ndarray) -> np.ndarray:
        """The column of each key (keys >= 0), -1 for keys not in the table."""

        def look(at: np.ndarray, which: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
            found = self.keys[at]
            return found == (keys if which is None else keys[which]), found == -1

        return _probe(self._home(keys), self.cols, look)


# Characters past ASCII that ``str.split`` splits at (a test holds this to ``str.isspace``): chunks
# are cut from bytes, so these are blanked first. Each is 2 or 3 bytes of UTF-8, led by one of these.
_NON_ASCII_SPACES = (0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000)
_SPACE_AT = np.zeros(0x4000, dtype=bool)  # by code point: every 2- or 3-byte one these leads give
_SPACE_AT[list(_NON_ASCII_SPACES)] = True
_KEEP_LOW = np.array([(1 << 8 * j) - 1 for j in range(8)] + [(1 << 64) - 1], dtype=np.uint64)
_KEY_BYTES = 16  # a chunk of up to this many bytes is its own key (two integers); longer ones go by str
_SPREAD_U = np.uint64(0x9E3779B97F4A7C15)
_SPREAD_2 = np.uint64(0xC2B2AE3D27D4EB4F)


@dataclass
class _Cut:
    """The chunks of a translated batch (``_ASCII_WORDS``), as ``str.split`` gives them once each
    break is a chunk of its own, found in numpy: where each starts in ``buffer``, its length in
    bytes, and its bytes as a key of two little-endian integers (0, 0 for chunks too long)."""

    buffer: np.ndarray  # the bytes with a space before and padding after, other spaces blanked
    starts: np.ndarray
    lengths: np.ndarray
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def of(cls, raw: bytes) -> _Cut:
        buffer = np.frombuffer(bytearray(b" " + raw + b" " * (_KEY_BYTES + 1)), dtype=np.uint8)
        if not raw.isascii():
            _blank_spaces(buffer)
        n = len(raw) + 2
        space, brk = buffer[:n] == 32, buffer[:n] == 1
        edge = space | brk
        inner, brk_here = ~space[1:-1], brk[1:-1]
        starts = np.flatnonzero(inner & (edge[:-2] | brk_here)) + 1
        ends = np.flatnonzero(inner & (edge[2:] | brk_here)) + 2
        lengths = ends - starts
        # eight bytes from every position (unaligned reads): a chunk's first and second eight, masked
        words = np.ndarray((len(buffer) - 7,), dtype="<u8", buffer=buffer, strides=(1,))
        fits = lengths <= _KEY_BYTES
        low = words[starts] & _KEEP_LOW[np.minimum(lengths, 8)]
        high = words[starts + 8] & _KEEP_LOW[np.clip(lengths - 8, 0, 8)]
        if not fits.all():
            low[~fits] = 0
            high[~fits] = 0
        return cls(buffer, starts, lengths, low, high)

    def __len__(self) -> int:
        return len(self.starts)

    def text(self, i: int) -> str:
        at = int(self.starts[i])
        return self.buffer[at : at + int(self.lengths[i])].tobytes().decode("utf-8", "surrogatepass")


def _blank_spaces(buffer: np.ndarray) -> None:
    """Turn every byte of the spaces past ASCII into a plain space (the same chunks, the same offsets)."""
    at = np.flatnonzero((buffer == 0xC2) | ((buffer - np.uint8(0xE1)) <= 2))
    if not len(at):
        return
    lead, b1, b2 = (buffer[at + k].astype(np.int64) for k in range(3))
    two = lead == 0xC2
    point = np.where(two, (lead & 0x1F) << 6 | b1 & 0x3F, (lead & 0x0F) << 12 | (b1 & 0x3F) << 6 | b2 & 0x3F)
    hit = _SPACE_AT[point]
    if hit.any():
        at, two = at[hit], two[hit]
        buffer[at] = buffer[at + 1] = 32
        buffer[at[~two] + 2] = 32


class _ChunkIndex:
    """Chunk key (two integers) -> code, by open addressing: the memo's short chunks, looked up for
    a whole batch in numpy instead of one dictionary lookup (and one str) per chunk.

    A cache of ``WordTable.memo``, never more: a key it lacks is looked up there. Built and probed
    as ``_PairIndex`` is (``_placed``, ``_probe``); the table is kept at least twice its keys; an
    empty slot has ``low`` 0 (no chunk starts with a 0 byte) and code -1.
    """

    def __init__(self, low: np.ndarray, high: np.ndarray, codes: np.ndarray) -> None:
        keep = low != 0
        low, high, codes = low[keep], high[keep], codes[keep]
        self.count = len(low)
        bits = max(int(2 * self.count - 1).bit_length(), 10)
        self.shift = np.uint64(64 - bits)
        order, slot, size = _placed(self._home(low, high), bits, 64)  # room for add()'s probes too
        self.low = np.zeros(size, dtype=np.uint64)
        self.high = np.zeros(size, dtype=np.uint64)
        self.codes = np.full(size, -1, dtype=np.int64)
        self.low[slot], self.high[slot], self.codes[slot] = low[order], high[order], codes[order]

    def _home(self, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        return ((low * _SPREAD_U ^ high * _SPREAD_2) >> self.shift).astype(np.int64)  # products wrap

    def find(self, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """The code of each key, -1 where the table does not have it."""

        def look(at: np.ndarray, which: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
            found = self.low[at]
            keys = (low, high) if which is None else (low[which], high[which])
            return (found == keys[0]) & (self.high[at] == keys[1]), found == 0

        return _probe(self._home(low, high), self.codes, look)

    def add(self, low: np.ndarray, high: np.ndarray, codes: np.ndarray) -> _ChunkIndex:
        """The index with these keys too (distinct keys it lacks): this one, or a larger one built
        afresh when they are many (a batch's first sight of a new corpus) or it would fill past half."""
        keep = low != 0
        low, high, codes = low[keep], high[keep], codes[keep]
        if len(low) > 64 or 2 * (self.count + len(low)) > len(self.low) - 64:
            return self._with(low, high, codes)
        last = len(self.low) - 1  # kept empty: every probe ends by it
        for i, slot in enumerate(self._home(low, high).tolist()):
            while self.low[slot] != 0:
                slot += 1
            if slot == last:  # a run reached the end: build afresh with the keys not yet in
                return self._with(low[i:], high[i:], codes[i:])
            self.low[slot], self.high[slot], self.codes[slot] = low[i], high[i], codes[i]
            self.count += 1
        return self

    def _with(self, low: np.ndarray, high: np.ndarray, codes: np.ndarray) -> _ChunkIndex:
        taken = self.low != 0
        return _ChunkIndex(
            np.concatenate([self.low[taken], low]),
            np.concatenate([self.high[taken], high]),
            np.concatenate([self.codes[taken], codes]),
        )


class _BlockTable:
    """One block's columns by word id (-1: no token), grown as new words are seen.

    Cue columns are filled on a word's first sighting (``cue_done``), not at loading: matching a
    word against the term lists is the slow part, and most of the vocabulary never shows up.
    """

    def __init__(self, analyzer: Analyzer, tokens: list[str]) -> None:
        self.analyzer, self.tokens, self.width = analyzer, tokens, len(tokens)
        self.words = analyzer.word_ngrams >= 1
        self.prefix = analyzer.prefix if self.words else 0
        self.stop = analyzer.stop_words
        self.cues = bool(analyzer.cues)
        width = sum(1 for t in tokens if t.startswith(CUE_PREFIX)) if self.cues else 0
        self.uni = np.full(1, -1, dtype=np.int64)
        self.pre = np.full(1, -1, dtype=np.int64)
        self.cue = np.full((1, max(width, 1)), -1, dtype=np.int64)
        self.cue_done = np.zeros(1, dtype=bool)
        self.bigram_keys = np.zeros(0, dtype=np.int64)
        self.bigram_cols = np.zeros(0, dtype=np.int64)

    @cached_property
    def pairs(self) -> _PairIndex:
        """The bigram columns by key, for lookups (the sorted keys stay what the model file stores)."""
        return _PairIndex(self.bigram_keys, self.bigram_cols)

    @cached_property
    def vocabulary(self) -> dict[str, int]:
        """Every token -> column (working the tables out from the vocabulary needs it all)."""
        return {t: i for i, t in enumerate(self.tokens)}

    @cached_property
    def marked(self) -> dict[str, int]:
        """Prefix and cue tokens -> column: all a word the vocabulary lacks can still produce.

        Needed on the first new word of nearly every run, so it is found quickly where it can be:
        fitted vocabularies come sorted, which puts each mark's tokens in one run, found by
        bisection (0.5 ms where a pass over 75,000 tokens took 16). The run is taken only once
        checked: every token in it has the mark, and the joined tokens hold as many with it.
        """
        tokens, marked = self.tokens, {}
        joined = "\n" + "\n".join(tokens)
        for mark in (PREFIX_MARK, CUE_PREFIX):
            lo = bisect_left(tokens, mark)
            hi = bisect_left(tokens, chr(ord(mark) + 1), lo)
            run = tokens[lo:hi]
            if joined.count("\n" + mark) != len(run) or not all(t.startswith(mark) for t in run):
                return {t: i for i, t in enumerate(tokens) if t[0] in (PREFIX_MARK, CUE_PREFIX)}
            marked.update(zip(run, range(lo, hi)))
        return marked

    def base_words(self) -> list[str]:
        """Every word of the block's unigram and bigram tokens (prefix and cue tokens are not words)."""
        if not self.words:
            return []
        tokens = [t for t in self.tokens if not t.startswith((PREFIX_MARK, CUE_PREFIX))]
        return [w for t in tokens for w in t.split(" ")]

    def fill_base(self, words: list[str], ids: dict[str, int]) -> None:
        """Columns of the vocabulary's own words (ids 1..n, in ``words`` order), in bulk."""
        n = len(words) + 1
        self.grow(n)
        self.uni[1:n] = self.unigram_columns(words)
        self.pre[1:n] = self.prefix_columns(words)
        if self.analyzer.word_ngrams < 2:
            return
        bigrams = [
            (t, c)
            for t, c in self.vocabulary.items()
            if t.count(" ") == 1 and not t.startswith((PREFIX_MARK, CUE_PREFIX))
        ]
        if bigrams:
            left = np.array([ids[t[: t.index(" ")]] for t, _ in bigrams], dtype=np.int64)
            right = np.array([ids[t[t.index(" ") + 1 :]] for t, _ in bigrams], dtype=np.int64)
            keys = left * _PAIR + right
            order = np.argsort(keys)
            self.bigram_keys = keys[order]
            self.bigram_cols = np.array([c for _, c in bigrams], dtype=np.int64)[order]

    def load(self, stored: dict[str, np.ndarray], n: int) -> None:
        """Columns of the vocabulary's words as ``export`` stored them (checked: ids and columns in range)."""
        width = self.width
        self.grow(n)
        for name in ("uni", "pre"):
            column = np.asarray(stored[name], dtype=np.int64)
            if column.shape != (n,) or column.min(initial=-1) < -1 or column.max(initial=-1) >= width:
                raise ValueError(f"word table {name} does not fit the vocabulary")
            getattr(self, name)[:n] = column
        keys = np.asarray(stored["bigram_keys"], dtype=np.int64)
        cols = np.asarray(stored["bigram_cols"], dtype=np.int64)
        if keys.shape != cols.shape or (
            len(keys) and (np.any(np.diff(keys) <= 0) or cols.min() < 0 or cols.max() >= width)
        ):
            raise ValueError("word table bigrams do not fit the vocabulary")
        if len(keys) and (keys.min() < 0 or (keys // _PAIR).max() >= n or (keys % _PAIR).max() >= n):
            raise ValueError("word table bigrams name unknown words")
        self.bigram_keys, self.bigram_cols = keys, cols
        if self.cues and "cue" in stored:  # the vocabulary's words matched against the lists already
            cue = np.asarray(stored["cue"], dtype=np.int64)
            if (
                cue.shape != (n, self.cue.shape[1])
                or cue.min(initial=-1) < -1
                or cue.max(initial=-1) >= width
            ):
                raise ValueError("word table cue columns do not fit the vocabulary")
            self.cue[:n] = cue
            self.cue_done[:n] = True

    def export(self, n: int, words: list[str]) -> dict[str, np.ndarray]:
        """The columns of ids below ``n``; cue columns are worked out for all of them first, so a
        loaded model (and each ``--jobs`` worker) need not match those words again."""
        exported = {
            "uni": self.uni[:n].copy(),
            "pre": self.pre[:n].copy(),
            "bigram_keys": self.bigram_keys,
            "bigram_cols": self.bigram_cols,
        }
        if self.cues:
            self.fill_cues(np.arange(n), words)
            exported["cue"] = self.cue[:n].copy()
        return exported

    def unigram_columns(self, words: list[str]) -> list[int]:
        if not self.words:
            return [-1] * len(words)
        get, stop = self.vocabulary.get, self.stop
        return [-1 if w in stop else get(w, -1) for w in words]

    def prefix_columns(self, words: list[str], get=None) -> list[int]:
        k, get = self.prefix, get or self.vocabulary.get
        if not k:
            return [-1] * len(words)
        return [get(PREFIX_MARK + w[:k], -1) if len(w) > k and w.isalpha() else -1 for w in words]

    def grow(self, capacity: int) -> None:
        if capacity <= len(self.uni):
            return
        for name in ("uni", "pre", "cue", "cue_done"):
            old = getattr(self, name)
            new = np.full((capacity, *old.shape[1:]), False if old.dtype == bool else -1, dtype=old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)

    def set(self, i: int, word: str) -> None:
        """Slot ``i`` for a word the vocabulary lacks (slots are reused after a fresh start): it is
        no unigram of the vocabulary (those are all in the base), but its prefix may be."""
        self.uni[i] = -1
        self.pre[i] = self.prefix_columns([word], self.marked.get)[0]
        self.cue_done[i] = False

    def fill_cues(self, ids: np.ndarray, words: list[str]) -> None:
        """Cue columns of the words in ``ids`` not seen before."""
        # distinct ids by marking (np.unique would import numpy.ma, 10 ms of every start)
        seen = np.zeros(len(self.cue_done), dtype=bool)
        seen[ids[~self.cue_done[ids]]] = True
        todo = np.flatnonzero(seen)
        get = self.marked.get
        for i in todo.tolist():
            cols = [c for c in (get(t, -1) for t in _INDEX._tokens[words[i]]) if c >= 0]
            self.cue[i] = -1
            self.cue[i, : len(cols)] = cols
        self.cue_done[todo] = True


@dataclass
class _Batch:
    """Words of a batch of texts: their ids, the row of each, and what phrases and symbols need."""

    n: int
    word_rows: np.ndarray  # row of each word (breaks and one-character words left out)
    word_ids: np.ndarray
    pair_rows: np.ndarray  # row, left id and right id of each pair of neighbouring words in a text
    pair_left: np.ndarray
    pair_right: np.ndarray
    pair_at: np.ndarray  # position of each pair's left word in ``word_ids``
    symbols: dict[str, list[int]]  # symbol -> the row of each of its occurrences (cues only)


class WordTable:
    """Word ids shared by the blocks it serves; each block gathers its own columns from them."""

    @staticmethod
    def handles(analyzer: Analyzer) -> bool:
        """Blocks of word uni/bigrams, prefixes and cue lists (not character n-grams)."""
        return analyzer.char_ngrams is None and analyzer.word_ngrams <= 2

    def __init__(
        self, blocks: dict[str, tuple[Analyzer, list[str]]], stored: dict[str, Any] | None = None
    ) -> None:
        """Tables for ``blocks`` (name -> analyzer, tokens in column order), from ``stored`` (what ``export``
        gave, kept in the model file so loading is quick) or worked out from the vocabularies."""
        self.blocks = {name: _BlockTable(a, v) for name, (a, v) in blocks.items()}
        self.cues = any(t.cues for t in self.blocks.values())
        if stored is not None:
            words = list(stored["words"])
            if not all(isinstance(w, str) for w in words) or len(set(words)) != len(words):
                raise ValueError("word table words are not distinct strings")
        else:
            words = list(dict.fromkeys(w for t in self.blocks.values() for w in t.base_words()))
        self.words = ["\n", *words]  # id -> word
        self.ids: dict[str, int] = {w: i for i, w in enumerate(self.words)}  # word -> id
        # a chunk of text -> code: a word's id; _BREAK; _SKIP; _MANY - i for several[i]. A word that
        # is its own cleaning is its own chunk; other chunks are added as they are met (``chunks``)
        self.memo: dict[str, int] = self.ids.copy()
        del self.memo["\n"]
        for word in [w for w in words if len(w) < 2 or not w.isascii()]:
            if len(word) < 2 or word.lower().translate(_WORD_CHARS) != word:
                del self.memo[word]
        self.memo[_BREAK_MARK] = _BREAK
        self.chunks: list[str] = []  # chunks added to the memo since loading
        self.index: _ChunkIndex | None = None  # the memo's short chunks by their bytes, built on first use
        self.several: list[list[int]] = []  # the word ids of chunks that clean into several words
        self.symbol_hits: dict[int, tuple[tuple[str, int], ...]] = {}  # several[i] with symbols: counts
        self.phrase_pairs: dict[int, bool] = {}  # pair key -> can a phrase start with these two words?
        for name, table in self.blocks.items():
            if stored is not None:
                table.load(stored[name], len(self.words))
            else:
                table.fill_base(words, self.ids)
        first = _INDEX.phrase_first if self.cues else frozenset()
        self.phrase_first = np.array([w in first for w in self.words], dtype=bool)
        second = _PHRASE_SECOND if self.cues else ()
        self.phrase_second = np.array([w.startswith(second) for w in self.words], dtype=bool)
        self.capacity = len(self.words)
        self.base = len(self.words)
        self.generation = 0  # counts fresh starts: ids past ``base`` are then given to other words

    def export(self) -> dict[str, Any]:
        """The vocabulary's part of the tables, for the model file: words, then arrays per block."""
        n = self.base
        return {
            "words": self.words[1:n],
            **{name: t.export(n, self.words) for name, t in self.blocks.items()},
        }

    def _add(self, word: str) -> int:
        i = len(self.words)
        if i >= self.capacity:
            self.capacity = max(2 * self.capacity, 1024)
            for table in self.blocks.values():
                table.grow(self.capacity)
            for name in ("phrase_first", "phrase_second"):
                grown = np.zeros(self.capacity, dtype=bool)
                grown[: len(getattr(self, name))] = getattr(self, name)
                setattr(self, name, grown)
        self.ids[word] = i
        self.words.append(word)
        for table in self.blocks.values():
            table.set(i, word)
        self.phrase_first[i] = self.cues and word in _INDEX.phrase_first
        self.phrase_second[i] = self.cues and word.startswith(_PHRASE_SECOND)
        return i

    def _start_afresh(self) -> None:
        for chunk in self.chunks:
            del self.memo[chunk]
        for word in self.words[self.base :]:
            del self.ids[word]
        del self.words[self.base :]
        self.chunks, self.several, self.symbol_hits, self.phrase_pairs = [], [], {}, {}
        self.index = None
        self.generation += 1

    def _resolve(self, chunk: str) -> int:
        """The code of a chunk not seen before: what its cleaning gives (a new word's id, perhaps)."""
        hits: tuple[tuple[str, int], ...] = ()
        if chunk.isascii():  # only lowercase word characters are left in ASCII
            words = [chunk] if len(chunk) > 1 else []
        else:
            lowered = chunk.lower()
            words = [w for w in lowered.translate(_WORD_CHARS).split() if len(w) > 1]
            if self.cues:  # symbols the chunk's characters become once accents are stripped
                stripped = lowered.translate(_ACCENTS)
                hits = tuple((term, stripped.count(term)) for term in _SYMBOLS if term in stripped)
        ids = [found if (found := self.ids.get(w)) is not None else self._add(w) for w in words]
        if len(ids) > 1 or hits:  # a code of its own
            code = _MANY - len(self.several)
            self.several.append(ids)
            if hits:
                self.symbol_hits[len(self.several) - 1] = hits
        else:
            code = ids[0] if ids else _SKIP
        self.memo[chunk] = code
        self.chunks.append(chunk)
        return code

    def _codes(self, cut: _Cut) -> np.ndarray:
        """Each chunk's code: from the index in one numpy pass; a chunk it lacks from the memo, or
        worked out (``_resolve``), then added to the index."""
        if self.index is None:  # the memo's chunks, cut the same way (none holds a space or a break)
            known = _Cut.of(" ".join(self.memo).encode("utf-8", "surrogatepass"))
            if len(known) != len(self.memo):
                raise AssertionError("a memo chunk holds a separator")
            self.index = _ChunkIndex(known.low, known.high, np.fromiter(self.memo.values(), np.int64))
        ids = self.index.find(cut.low, cut.high)
        missed = np.flatnonzero(ids == -1)
        if len(missed):
            memo, new = self.memo, {}
            for i, low, high in zip(missed.tolist(), cut.low[missed].tolist(), cut.high[missed].tolist()):
                chunk = cut.text(i)
                found = memo.get(chunk)  # seen earlier in this batch, or too long for a key
                ids[i] = code = found if found is not None else self._resolve(chunk)
                if low:
                    new[low, high] = code
            if new:
                low, high = np.array(list(new), dtype=np.uint64).reshape(-1, 2).T
                self.index = self.index.add(low, high, np.fromiter(new.values(), np.int64, len(new)))
        return ids

    def _expand(self, codes: np.ndarray) -> np.ndarray:
        """Codes with each chunk of several words replaced by their ids."""
        at = np.flatnonzero(codes <= _MANY)
        parts, start = [], 0
        for i, code in zip(at.tolist(), codes[at].tolist()):
            parts += [codes[start:i], np.array(self.several[_MANY - code], dtype=np.int64)]
            start = i + 1
        parts.append(codes[start:])
        return np.concatenate(parts)

    def batch(self, texts: Sequence[str]) -> _Batch:
        """Preprocess and split a batch of texts into word ids (a few whole-batch string passes)."""
        n = len(texts)
        if len(self.words) + len(self.chunks) > self.base + 2 * _MAX_WORDS:  # bounded memory on novel words
            self._start_afresh()
        joined = "\n".join(texts)
        symbols: dict[str, list[int]] = {}
        by_chunk = False
        if joined.count("\n") == n - 1:  # no text holds a line break: one pass over them all
            # Lowercasing is per character but for the capital sigma, so ASCII letters are lowered
            # by the byte table below and other characters when their chunk is cleaned (_resolve);
            # with a sigma, or when the preprocessed text is wanted, it is lowered whole here.
            by_chunk = self.cues and _SYMBOLS_BY_CHUNK
            if (self.cues and not by_chunk) or "\u03a3" in joined:
                joined = joined.lower()  # breaks are no cased letters: lowering the joined texts is fine
            if self.cues and not by_chunk:  # symbols in the preprocessed text
                lines = [t if t.isascii() else t.translate(_ACCENTS) for t in joined.split("\n")]
                symbols = _occurrences(lines, _SYMBOLS)
            elif by_chunk:  # the ASCII symbols straight from the text, the others below
                ascii_symbols = [term for term in _SYMBOLS if term.isascii() and term in joined]
                symbols = _occurrences(joined.split("\n"), ascii_symbols) if ascii_symbols else {}
        else:  # a line break inside a text is a space to the word pattern
            joined = "\n".join([t.lower().replace("\n", " ") for t in texts])
            if self.cues:
                symbols = _occurrences([preprocess(t) for t in texts], _SYMBOLS)
        ids = self._codes(_Cut.of(joined.encode("utf-8", "surrogatepass").translate(_ASCII_WORDS)))
        if self.several and ids.min(initial=0) <= _MANY:
            if by_chunk and self.symbol_hits:
                self._chunk_symbols(ids, symbols)
            ids = self._expand(ids)
        is_break = ids == _BREAK
        rows = np.cumsum(is_break)
        words = ids > 0
        rows, ids = rows[words], ids[words]
        pairs = rows[:-1] == rows[1:]
        return _Batch(
            n,
            rows,
            ids,
            rows[:-1][pairs],
            ids[:-1][pairs],
            ids[1:][pairs],
            np.flatnonzero(pairs),
            symbols,
        )

    def _phrase_pair(self, key: int) -> bool:
        first, second = (self.words[i] for i in divmod(key, int(_PAIR)))
        can = any(second.startswith(rest[0]) for rest, *_ in _INDEX.phrases[first])
        self.phrase_pairs[key] = can
        return can

    def _chunk_symbols(self, codes: np.ndarray, symbols: dict[str, list[int]]) -> None:
        """Add the symbols of the batch's chunks that hold some (``codes`` before expansion)."""
        at = np.flatnonzero(codes <= _MANY)
        rows = np.cumsum(codes == _BREAK)[at]
        for code, row in zip(codes[at].tolist(), rows.tolist()):
            for term, count in self.symbol_hits.get(_MANY - code, ()):
                symbols.setdefault(term, []).extend([row] * count)

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
                found = table.pairs.find(batch.pair_left * _PAIR + batch.pair_right)
                keep = found >= 0
                rows.append(batch.pair_rows[keep])
                cols.append(found[keep])
        if table.cues:
            table.fill_cues(batch.word_ids, self.words)
            c = table.cue.take(batch.word_ids, axis=0)
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
        """Cue phrases, text by text but only in rows where a phrase's first word is followed by a word
        that can start its rest; symbols ($, €...) where they occur."""
        get = table.marked.get
        rows: list[int] = []
        cols: list[int] = []
        maybe = np.flatnonzero(self.phrase_first[batch.pair_left] & self.phrase_second[batch.pair_right])
        if len(maybe):  # the pairs where one of the first word's own phrases can start
            known, check = self.phrase_pairs, self._phrase_pair
            keys = (batch.pair_left[maybe] * _PAIR + batch.pair_right[maybe]).tolist()
            maybe = maybe[np.array([known[k] if k in known else check(k) for k in keys], dtype=bool)]
        if len(maybe):
            # the words from each such pair on, as many as the longest phrase, within its text
            at = batch.pair_at[maybe][:, None] + np.arange(_INDEX.phrase_words)
            at = at.clip(max=len(batch.word_ids) - 1)
            inside = batch.word_rows[at] == batch.pair_rows[maybe][:, None]
            window = np.where(inside, batch.word_ids[at], -1)
            words = self.words
            for row, ids in zip(batch.pair_rows[maybe].tolist(), window.tolist()):
                following = [words[i] for i in ids if i >= 0]
                for name, _, _ in _INDEX.phrase_hits_at(following, 0):
                    col = get(CUE_PREFIX + name, -1)
                    if col >= 0:
                        rows.append(row)
                        cols.append(col)
        for term, token in _INDEX.symbol_tokens:
            col = get(token, -1)
            if col >= 0 and term in batch.symbols:
                rows += batch.symbols[term]
                cols += [col] * len(batch.symbols[term])
        return np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)


def _occurrences(lines: list[str], terms: Sequence[str]) -> dict[str, list[int]]:
    """Term -> the line of each of its occurrences, as ``str.count`` counts them (left to right, no
    overlap; no term holds a line break, so none runs from one line into the next)."""
    whole = "\n".join(lines)
    found: dict[str, list[int]] = {}
    ends = None
    for term in terms:
        if term not in whole:
            continue
        if ends is None:
            ends = np.cumsum([len(line) + 1 for line in lines])  # where each next line starts
        at, i = [], whole.find(term)
        while i >= 0:
            at.append(i)
            i = whole.find(term, i + len(term))
        found[term] = np.searchsorted(ends, at, side="right").tolist()
    return found
