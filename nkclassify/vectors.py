"""Static word-piece vectors: what a sentence's words mean, beyond the words the labels contain.

A sentence becomes one dense vector: each word (the analyzer's word tokens) is cut into
word pieces by greedy longest match, as BERT's WordPiece does; a word's vector is the mean of its
pieces' vectors (worked out once per word and cached); the sentence's is the sum of its words'
vectors, scaled to unit length. The piece vectors are a static distillation of all-MiniLM-L6-v2
(model2vec, 256 dimensions; see ``models/static/PROVENANCE.json``), so unseen inflections and
synonyms ("absconded", "remittances") land near the words the heads were trained on, with no
neural network at run time.

Training (``static.StaticVectors``: ``sentence_vectors``) and tagging (``engine``:
``scores_of``, the same sums times the heads' weights) share one summing routine on the same
float16 table, so the two agree to rounding. Numpy only.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import ModelError

__all__ = ["PieceVectors", "DEFAULT_SOURCE", "load_source"]

DEFAULT_SOURCE = Path(__file__).resolve().parent.parent / "models" / "static"
_CONTINUE = "##"
_LONGEST_WORD = 100  # BERT's max_input_chars_per_word: longer words have no vector
_CACHE_BYTES = 16 << 20  # word vectors kept at most (then the cache starts again)...
_CACHE_WORDS = 4096  # ...but never fewer words than this


class PieceVectors:
    """A piece vocabulary and its vectors (float16, one row per piece)."""

    def __init__(self, pieces: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or vectors.shape[0] != len(pieces) or vectors.dtype != np.float16:
            raise ValueError(
                f"piece vectors must be float16 of shape ({len(pieces)}, dim), got {vectors.shape} {vectors.dtype}"
            )
        self.pieces = list(pieces)
        self.vectors = vectors  # read lazily: a row is touched when a word needs it (rows checked then)
        self.dim = vectors.shape[1]
        self._index = dict(zip(self.pieces, range(len(self.pieces))))
        self._longest = max(map(len, self.pieces), default=1)
        self._slot: dict[str, int] = {}  # word -> row of its vector in the cache, or -1
        self._cache = np.zeros((1024, self.dim), dtype=np.float32)
        self._count = 0
        self._generation = 0  # counts the cache's fresh starts: rows handed out before are void
        self._by_id = np.zeros(0, dtype=np.int64)  # word id -> cache row, -1 none, -2 not yet known
        self._by_id_stamp: tuple[int, int] = (-1, -1)

    def split(self, word: str) -> list[int]:
        """Piece ids of one word by greedy longest match; [] when some part has no piece (BERT's [UNK])."""
        if len(word) > _LONGEST_WORD:
            return []
        index, found, start = self._index, [], 0
        while start < len(word):
            end = min(len(word), start + self._longest)
            while end > start:
                piece = word[start:end] if start == 0 else _CONTINUE + word[start:end]
                if piece in index:
                    found.append(index[piece])
                    break
                end -= 1
            if end == start:
                return []
            start = end
        return found

    def slots_of(self, words: list[str]) -> np.ndarray:
        """Row of each word in the word-vector cache (-1: no vector), computing new words' vectors."""
        slot = self._slot
        new = [w for w in dict.fromkeys(words) if w not in slot]
        if new:
            if len(slot) + len(new) > max(_CACHE_WORDS, _CACHE_BYTES // (4 * self.dim)):  # start again
                slot.clear()
                self._count = 0
                self._generation += 1
                new = list(dict.fromkeys(words))
            known = []  # (word, piece ids) of the new words that have a vector
            for word in new:
                ids = self.split(word)
                if ids:
                    known.append((word, ids))
                else:
                    slot[word] = -1
            need = self._count + len(known)
            if need > len(self._cache):
                grown = np.zeros((max(need, 2 * len(self._cache)), self.dim), dtype=np.float32)
                grown[: self._count] = self._cache[: self._count]
                self._cache = grown
            cache, at = self._cache, self._count
            if known:  # a word's vector: the mean of its pieces', in float32, all new words at once
                lengths = np.fromiter((len(ids) for _, ids in known), dtype=np.int64, count=len(known))
                block = cache[at : at + len(known)]
                for m in sorted(set(lengths.tolist())):  # words of m pieces together
                    which = np.flatnonzero(lengths == m)
                    ids = np.array([known[i][1] for i in which.tolist()], dtype=np.int64)
                    # piece by piece in order, as ``mean(axis=0)`` adds them, then one division
                    total = self.vectors.take(ids[:, 0], axis=0).astype(np.float32)
                    for j in range(1, m):
                        total += self.vectors.take(ids[:, j], axis=0)
                    block[which] = total / np.float32(m)
                for word, _ in known:
                    slot[word] = at
                    at += 1
            if not np.isfinite(cache[self._count : at]).all():
                raise ModelError("the model's piece vectors hold a NaN or infinity: the file is damaged")
            self._count = at
        return np.fromiter(map(slot.__getitem__, words), dtype=np.int64, count=len(words))

    def slots_of_ids(self, ids: np.ndarray, words: Sequence[str], generation: int) -> np.ndarray:
        """Cache rows for word ids into ``words``, a list that only grows until ``generation``
        changes (the engine's word table): a numpy gather per batch instead of a dictionary lookup
        per word, the words' strings looked at only for ids not met before."""
        if self._by_id_stamp != (generation, self._generation):
            self._by_id = np.full(len(words), -2, dtype=np.int64)
            self._by_id_stamp = (generation, self._generation)
        elif len(self._by_id) < len(words):
            grown = np.full(max(len(words), 2 * len(self._by_id)), -2, dtype=np.int64)
            grown[: len(self._by_id)] = self._by_id
            self._by_id = grown
        slots = self._by_id.take(ids)
        if (slots == -2).any():

            def fill(which: np.ndarray) -> None:
                # distinct ids without np.unique, which imports numpy.ma (20 ms of every start)
                new = list(dict.fromkeys(which.tolist()))
                self._by_id[new] = self.slots_of([words[i] for i in new])

            before = self._generation
            fill(ids[slots == -2])
            if self._generation != before:  # the cache started again: every row of this batch anew
                self._by_id[:] = -2
                self._by_id_stamp = (generation, self._generation)
                fill(ids)
            slots = self._by_id.take(ids)
        return slots

    def sentence_vectors(self, words_per_text: Sequence[Sequence[str]]) -> np.ndarray:
        """(n, dim) float64: per text, the unit-length sum of its words' vectors (0 if none has one).

        Every step is per text and in a fixed order, so a text gets the same bits whatever batch
        it comes in. Training calls this; tagging calls ``scores_of``, which shares the sums
        (``_sums``), so the two agree to rounding.
        """
        counts = np.fromiter(map(len, words_per_text), dtype=np.int64, count=len(words_per_text))
        slots = self.slots_of([w for words in words_per_text for w in words])
        sums, norms, order = self._sums(slots, counts)
        out = np.zeros((len(counts), self.dim))
        if sums is not None:
            out[order] = sums / norms[:, None]
        return out

    def scores_of(self, slots: np.ndarray, counts: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """``sentence_vectors(...) @ weights`` for texts given as the cache rows of all their words
        in a row (``slots_of_ids``) and each text's word count, without the (n, dim) matrix of unit
        vectors (the engine's road: the same sums, divided after the product; equal to within
        rounding)."""
        sums, norms, order = self._sums(slots, counts)
        out = np.zeros((len(counts), weights.shape[1]))
        if sums is not None:
            out[order] = (sums @ weights) / norms[:, None]
        return out

    def word_vectors(self, words: list[str]) -> np.ndarray:
        """(len(words), dim) float32: each word's vector as the sums use it (zeros: no vector)."""
        slots = self.slots_of(words)
        out = np.zeros((len(words), self.dim), dtype=np.float32)
        known = slots >= 0
        out[known] = self._cache[slots[known]]
        return out

    def _sums(self, slots: np.ndarray, counts: np.ndarray):
        """Per text (longest first, ``order``): the float64 sum of its word vectors and its length,
        from the cache rows of all the texts' words in a row (-1: a word without a vector)."""
        n = len(counts)
        known = slots >= 0
        if not known.any():
            return None, None, None
        rows = np.repeat(np.arange(n), counts)[known]
        slots = slots[known]
        counts = np.bincount(rows, minlength=n)
        starts = np.cumsum(counts) - counts
        # Sum word by word: position 0 of every text, then position 1 of the texts that have one...
        # (texts sorted longest first, so those are a prefix). Each text's sum is then built in
        # its own word order whatever the batch, with one gather per word and no padding.
        order = np.argsort(-counts, kind="stable")
        lengths, firsts = counts[order], starts[order]
        sums = np.zeros((n, self.dim), dtype=np.float32)
        for position in range(int(lengths[0]) if n else 0):
            active = n - int(np.searchsorted(lengths[::-1], position, side="right"))
            sums[:active] += self._cache[slots[firsts[:active] + position]]
        sums64 = sums.astype(np.float64)
        norms = np.sqrt(np.einsum("ij,ij->i", sums64, sums64))
        norms[norms == 0] = 1.0
        return sums64, norms, order


def load_source(folder: Path = DEFAULT_SOURCE) -> PieceVectors:
    """The piece vectors training starts from: model2vec's ``model.safetensors`` and ``tokenizer.json``.

    Read with ``json`` and numpy (the safetensors layout is an 8-byte header length, a JSON header
    and raw little-endian arrays), so neither safetensors nor tokenizers is needed.
    """
    folder = Path(folder)
    try:
        raw = (folder / "model.safetensors").read_bytes()
        (length,) = struct.unpack("<Q", raw[:8])
        header = json.loads(raw[8 : 8 + length])
        (name,) = [k for k in header if k != "__metadata__"]
        entry = header[name]
        if entry["dtype"] != "F16":
            raise ValueError(f"expected F16 vectors, got {entry['dtype']}")
        begin, end = entry["data_offsets"]
        body = raw[8 + length + begin : 8 + length + end]
        vectors = np.frombuffer(body, dtype="<f2").reshape(entry["shape"]).astype(np.float16)
        vocab = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
        pieces = [""] * len(vocab)
        for piece, i in vocab.items():
            pieces[i] = piece
        return PieceVectors(pieces[: len(vectors)], vectors)
    except (OSError, KeyError, ValueError, struct.error) as exc:
        raise ModelError(
            f"{folder}: static piece vectors unreadable ({type(exc).__name__}: {exc}); the 'static' "
            "feature block needs models/static from a source checkout"
        ) from None
