"""Text -> tokens, the one place features are cut from text (pure Python, no scikit-learn).

Training hands an ``Analyzer`` to scikit-learn's ``TfidfVectorizer`` to learn the vocabulary and
idf; the array engine calls the very same ``Analyzer`` at tagging time and looks the tokens up in
the stored vocabulary. So the two cannot drift apart, and tokens the vocabulary lacks (stop words
pruned at training, unseen words) simply count for nothing.

Token kinds, each switchable:
- word n-grams (``fled``, ``fled the``), scikit-learn's default word pattern on lowercased,
  accent-stripped text;
- word prefixes (``~defec`` for defect/defected/defectors/defection), a cheap stand-in for stemming
  that lets rare inflections share evidence;
- cue tokens from the hand-written term lists (``@defection``, see ``nkclassify.lexicon``), all
  lists or only some (``cue_lists``), so one block can hold the stance cues on their own;
- character n-grams inside word boundaries (``char_wb``), as scikit-learn cuts them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass

from .lexicon import CUE_PREFIX, cue_tokens

__all__ = ["Analyzer", "preprocess", "parts", "PREFIX_MARK"]

_WORD = re.compile(r"(?u)\b\w\w+\b")
_SPACES = re.compile(r"\s\s+")
PREFIX_MARK = "~"


class _StripAccents(dict):
    """A ``str.translate`` table filled on first sight of each character: NFKD, combining marks dropped.

    Decomposing character by character gives what decomposing the whole string gives once the
    marks are dropped, and a table lookup is many times faster than a Python loop per character.
    """

    def __missing__(self, code: int) -> str:
        stripped = "".join(
            c for c in unicodedata.normalize("NFKD", chr(code)) if not unicodedata.combining(c)
        )
        self[code] = stripped
        return stripped


_ACCENTS = _StripAccents()


def preprocess(text: str) -> str:
    """Lowercase, then strip accents as scikit-learn's ``strip_accents='unicode'`` does."""
    text = text.lower()
    return text if text.isascii() else text.translate(_ACCENTS)


def parts(text: str) -> tuple[str, list[str]]:
    """Preprocessed text and its word tokens: the shared first step of every analyzer."""
    text = preprocess(text)
    return text, _WORD.findall(text)


@dataclass(frozen=True)
class Analyzer:
    """Callable text -> token list; its fields are stored in the model file and rebuild it there."""

    word_ngrams: int = 2  # longest word n-gram; 0 = no word tokens
    prefix: int = 0  # prefix length for prefix tokens; 0 = none
    cues: bool = False
    char_ngrams: tuple[int, int] | None = None  # (lo, hi) char_wb n-grams
    stop_words: frozenset[str] = frozenset()  # unigrams left out (bigrams keep them)
    cue_lists: tuple[str, ...] = ()  # cue lists whose tokens are kept; () = every list

    def __call__(self, text: str) -> list[str]:
        return self.tokens(*parts(text))

    def tokens(self, text: str, words: list[str]) -> list[str]:
        """Tokens from preprocessed text and its words (see ``parts``), so blocks share one pass."""
        tokens: list[str] = []
        if self.word_ngrams:
            stop = self.stop_words
            tokens = [w for w in words if w not in stop] if stop else list(words)
            if self.word_ngrams >= 2:
                tokens += [a + " " + b for a, b in zip(words, words[1:])]
            for n in range(3, self.word_ngrams + 1):
                tokens += [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
            if self.prefix:
                k = self.prefix
                tokens += [PREFIX_MARK + w[:k] for w in words if len(w) > k and w.isalpha()]
        if self.cues:
            if self.cue_lists:
                keep = {CUE_PREFIX + name for name in self.cue_lists}
                tokens += [t for t in cue_tokens(text, words) if t in keep]
            else:
                tokens += cue_tokens(text, words)
        if self.char_ngrams:
            tokens += _char_wb(text, *self.char_ngrams)
        return tokens

    def to_dict(self) -> dict:
        data = asdict(self)
        data["stop_words"] = sorted(self.stop_words)
        data["char_ngrams"] = list(self.char_ngrams) if self.char_ngrams else None
        if self.cue_lists:  # written only when set, so files of the other analyzers stay as they were
            data["cue_lists"] = list(self.cue_lists)
        else:
            del data["cue_lists"]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Analyzer:
        return cls(
            word_ngrams=int(data["word_ngrams"]),
            prefix=int(data["prefix"]),
            cues=bool(data["cues"]),
            char_ngrams=tuple(data["char_ngrams"]) if data.get("char_ngrams") else None,
            stop_words=frozenset(data.get("stop_words", ())),
            cue_lists=tuple(data.get("cue_lists", ())),
        )


def _char_wb(text: str, lo: int, hi: int) -> list[str]:
    """Character n-grams padded with one space at each word edge (scikit-learn's ``char_wb``)."""
    grams: list[str] = []
    for word in _SPACES.sub(" ", text).split():
        word = f" {word} "
        length = len(word)
        for n in range(lo, hi + 1):
            if n >= length:  # a word no longer than n counts once, whole (as scikit-learn does)
                grams.append(word)
                break
            grams += [word[i : i + n] for i in range(length - n + 1)]
    return grams
