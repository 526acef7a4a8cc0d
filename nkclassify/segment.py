"""Cut article text into the units the labels and the tagger work on.

A unit is one sentence as syntok cuts it, never crossing a line break: headlines, captions,
bylines and stray page lines sit on lines of their own in real pages, and the annotation guide
makes each of them a unit. Offsets are character offsets into the original text, so every unit
can be traced back to the article it came from.

Speed: syntok's ``segmenter.analyze`` costs about 100 µs a unit, half of it building a ``Token``
object per word and half walking its state machine token by token. This module gives the same
cuts about 6x faster (``scripts/bench.py --split-only``) with a line-by-line port of both
(syntok 1.4.4, ``tokenizer.Tokenizer.tokenize`` and ``_segmentation_states``), using syntok's
own regexes and word lists:

- a line holding no character that syntok's state machine can act on (a terminal such as
  ``.!?;`` or an opening bracket) is one sentence, without tokenizing it;
- tokens are plain parallel lists (value, offset, has-spacing), and each whitespace-separated run
  is tokenized once and remembered, since news reuses the same runs all the time;
- in a line without brackets only the runs around terminals are tokenized at all;
- the state machine jumps straight from one terminal or bracket to the next, because between
  them syntok only moves tokens from its queue to the sentence.

``_reference_spans`` keeps the plain syntok path; ``tests/test_segment.py`` holds the two to
identical units on every labelled article and on a fuzz set.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate, count
from operator import add

from syntok import segmenter
from syntok._segmentation_states import State
from syntok.tokenizer import Tokenizer

__all__ = ["Unit", "split_sentences", "split_lines"]

_LINE = re.compile(r"[^\n]+")


@dataclass(frozen=True)
class Unit:
    """One sentence (or page line) of an article, with its place in the article text."""

    index: int
    start: int
    end: int
    text: str


# --- the reference: plain syntok, one call per line ----------------------------------------------


def _reference_sentences_of_line(line: str, offset: int) -> Iterator[tuple[int, int]]:
    for paragraph in segmenter.analyze(line):
        for sentence in paragraph:
            start = sentence[0].offset
            end = sentence[-1].offset + len(sentence[-1].value)
            yield offset + start, offset + end


def _reference_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, text) of every sentence unit as plain syntok cuts them (the slow original)."""
    return [(u.start, u.end, u.text) for u in _units(text, _reference_sentences_of_line)]


# --- the port ------------------------------------------------------------------------------------

_TERMINALS = State.terminals
_OPENING = State.opening_brackets
_CLOSING = State.closing_brackets
_QUOTES = State.closing_quotes
_INNER = State.inner_sentence_punctuation
_ROMAN = State.roman_numerals
_MONTHS = State.months
_ABBREVIATIONS = State.abbreviations
_STARTERS = State.starters
_VOWELS = State.vowels
_POST_TERMINAL = _TERMINALS | _CLOSING
# tokens that stop syntok's InnerToken state: terminals, "(" and every opening bracket
_SPECIAL = _TERMINALS | _OPENING | {"("}
_TERMINAL_OR_PAREN = _TERMINALS | {"("}  # State.next_is_a_terminal
# a line without any of these characters can hold no special token, so it is one sentence
_SPECIAL_CHAR = re.compile("[" + re.escape("".join(sorted({c for t in _SPECIAL for c in t}))) + "]")

_RUNS = Tokenizer._spaces  # syntok's runs of non-space (its idea of space, with the zwsp)
# The same runs with the standard re module (twice as fast to split with): syntok's space is
# Unicode White_Space plus the zero width space. Python's str.split differs from it on
# _ODD_SPACE alone. Tests check both at every code point.
_SPACE_CLASS = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000"
_SPLIT_RUNS = re.compile("([^" + _SPACE_CLASS + "]+)").split
_ODD_SPACE = re.compile("[\x1c-\x1f\u200b]")
# Characters of tokens that syntok acts on in a line without opening brackets: terminals (and the
# closing brackets that may follow one).
_MARK = re.compile("[" + re.escape("".join(sorted({c for t in _TERMINALS | _CLOSING for c in t}))) + "]")
_OPENING_CHAR = re.compile("[" + re.escape("".join(sorted(_OPENING))) + "]")
_SEPARATION = Tokenizer._separation
_APOSTROPHE_T = Tokenizer._apostrophe_t
_HYPHENS_AND_UNDERSCORE = Tokenizer._hyphens_and_underscore

# run -> its tokens; about 360 bytes a run, emptied when full (the articles here hold 5,600 runs
# that get tokenized)
_RUN_CACHE: dict[str, tuple[tuple[int, ...], tuple[str, ...], tuple[bool, ...]]] = {}
_RUN_CACHE_SIZE = 30_000


def _tokenize_run(run: str) -> tuple[tuple[int, ...], tuple[str, ...], tuple[bool, ...]]:
    """Tokens of one run of non-space as syntok's ``Tokenizer.tokenize`` makes them.

    Offsets are relative to the run; the flag says whether the token has spacing before it. The
    first token's spacing is the space before the run, which the caller knows; here it is True.
    """
    offs: list[int] = []
    vals: list[str] = []
    spaced: list[bool] = []
    end_of_run = len(run)
    start = 0
    while start < end_of_run and not run[start].isalnum():
        start += 1
    if start == end_of_run:  # no letter or digit: the whole run is one token
        return (0,), (run,), (True,)
    end = end_of_run
    while not run[end - 1].isalnum():
        end -= 1
    for i in range(start):  # each symbol before the word is a token
        offs.append(i)
        vals.append(run[i])
        spaced.append(i == 0)
    # Tokenizer._split_word(prefix, word, start); prefix "" after symbols, else the outer space
    prefix = "" if start else " "
    word = run[start:end]
    remainder = 0
    for mo in _SEPARATION.finditer(word):
        # Tokenizer._produce_separator_split_token (replace_not_contraction=False)
        m_start = mo.start()
        separator = mo.group(0)
        if m_start > remainder:
            if _APOSTROPHE_T.fullmatch(separator) and word[m_start - 1] == "n":
                if remainder < m_start - 1:
                    offs.append(start + remainder)
                    vals.append(word[remainder : m_start - 1])
                    spaced.append(bool(prefix))
                    prefix = ""
                offs.append(start + m_start - 1)
                vals.append("n" + separator)
                spaced.append(bool(prefix))
                prefix = ""
                remainder = mo.end()
                continue
            offs.append(start + remainder)
            vals.append(word[remainder:m_start])
            spaced.append(bool(prefix))
            prefix = ""
        if separator and separator not in _HYPHENS_AND_UNDERSCORE:
            offs.append(start + m_start)
            vals.append(separator)
            spaced.append(bool(prefix))
            prefix = ""
        else:
            prefix = prefix + separator
        remainder = mo.end()
    if remainder == 0:
        offs.append(start)
        vals.append(word)
        spaced.append(bool(prefix))
    elif remainder < len(word):
        offs.append(start + remainder)
        vals.append(word[remainder:])
        spaced.append(bool(prefix))
    tail = end
    if run.startswith("...", tail):
        offs.append(tail)
        vals.append("...")
        spaced.append(False)
        tail += 3
    for i in range(tail, end_of_run):  # each symbol after the word is a token
        offs.append(i)
        vals.append(run[i])
        spaced.append(False)
    return tuple(offs), tuple(vals), tuple(spaced)


def _tokenize(line: str) -> tuple[list[int], list[str], list[bool]]:
    """``Tokenizer(replace_not_contraction=False).tokenize(line)`` as offsets, values, spacing."""
    offs: list[int] = []
    vals: list[str] = []
    spaced: list[bool] = []
    cache = _RUN_CACHE
    end = 0
    for mo in _RUNS.finditer(line):
        run = mo.group()
        tokens = cache.get(run)
        if tokens is None:
            if len(cache) >= _RUN_CACHE_SIZE:
                cache.clear()
            tokens = cache[run] = _tokenize_run(run)
        at, end = mo.span()
        r_offs, r_vals, r_spaced = tokens
        base = len(offs)
        offs.extend([at + o for o in r_offs] if at else r_offs)
        vals.extend(r_vals)
        spaced.extend(r_spaced)
        if not at:  # the first token of a line that starts with no space has no spacing
            spaced[base] = False
    if end < len(line):  # trailing space: an empty token carries it
        offs.append(len(line))
        vals.append("")
        spaced.append(True)
    return offs, vals, spaced


def _tokenize_sparse(line: str) -> tuple[list[int], list[str], list[bool]]:
    """Like ``_tokenize`` for a line without opening brackets, but runs far from a terminal merged.

    Without brackets, syntok's state machine looks only at a terminal, the token before it (the
    same run or the run before), the terminals and closing brackets after it and the token after
    those (the same run or the run after). So only the runs holding a terminal or a closing
    bracket, and their neighbours, are tokenized; every stretch of other runs becomes one
    placeholder token with the stretch's start and end. Such a stretch is always followed by a
    tokenized run holding no terminal, so no token count or FirstToken decision changes.
    """
    runs = line.split()
    if " ".join(runs) == line and _ODD_SPACE.search(line) is None:
        # one plain space between runs (most lines): str.split's runs are syntok's
        starts = list(map(add, accumulate(map(len, runs), initial=0), count()))
        trailing = False
    else:
        parts = _SPLIT_RUNS(line)  # [space, run, space, run, ..., space]
        runs = parts[1::2]
        starts = list(accumulate(map(len, parts)))[0::2]
        trailing = bool(parts[-1])
    # starts[k] is where run k starts; starts[-1] is past the last run
    last = len(runs) - 1
    real: set[int] = set()
    for mark in _MARK.finditer(line):
        k = bisect_right(starts, mark.start()) - 1
        real.update((k - 1, k, k + 1))
    offs: list[int] = []
    vals: list[str] = []
    spaced: list[bool] = []
    cache = _RUN_CACHE
    done = 0  # runs before this one are in the lists
    for k in sorted(real):
        if k < 0 or k > last:
            continue
        if k > done:  # a stretch of runs far from any terminal: one placeholder token
            start, end = starts[done], starts[k - 1] + len(runs[k - 1])
            offs.append(start)
            vals.append(line[start:end])
            spaced.append(True)
        run = runs[k]
        tokens = cache.get(run)
        if tokens is None:
            if len(cache) >= _RUN_CACHE_SIZE:
                cache.clear()
            tokens = cache[run] = _tokenize_run(run)
        at = starts[k]
        r_offs, r_vals, r_spaced = tokens
        base = len(offs)
        offs.extend([at + o for o in r_offs] if at else r_offs)
        vals.extend(r_vals)
        spaced.extend(r_spaced)
        if not at:
            spaced[base] = False
        done = k + 1
    if done <= last:
        start, end = starts[done], starts[last] + len(runs[last])
        offs.append(start)
        vals.append(line[start:end])
        spaced.append(True)
    if trailing:  # trailing space: an empty token carries it
        offs.append(len(line))
        vals.append("")
        spaced.append(True)
    return offs, vals, spaced


def _sentences(line: str) -> Iterator[tuple[int, int]]:
    """syntok's ``segmenter.segment`` over the tokens of one line, as (start, end) in the line.

    A port of ``_segmentation_states``: the queue is the index ``i`` into the token lists, the
    history the tokens from ``h0`` to ``i``; "next" is token ``i``. Between special tokens
    (terminals and opening brackets) syntok's InnerToken state only moves tokens to the
    history, so the port jumps to the next special token at once.
    """
    if _OPENING_CHAR.search(line) is None:
        offs, vals, spaced = _tokenize_sparse(line)
    else:
        offs, vals, spaced = _tokenize(line)
    n = len(vals)
    if not n:
        return
    specials = [k for k, v in enumerate(vals) if v in _SPECIAL]
    specials.append(n)
    p = 0  # specials[p] is the first special token at or after i

    def end_of_brackets(i: int) -> tuple[int, bool]:
        # State.__find_end_of_bracketed_text, with the bracket at vals[i]
        depth = 1
        q = 1
        first_is_title = None
        last_is_terminal = False
        while i + q < n and q < 50:
            v = vals[i + q]
            if first_is_title is None and v.isalnum():
                first_is_title = v.istitle()
            elif first_is_title and v.isalnum():
                last_is_terminal = i + q + 1 < n and vals[i + q + 1] in _TERMINALS
            if v in _OPENING:
                depth += 1
            elif v in _CLOSING:
                depth -= 1
                if depth == 0:
                    break
            q += 1
        return (q if depth == 0 else 0), bool(first_is_title and last_is_terminal)

    def skip_brackets(i: int) -> int:
        # State._skip_bracketed_text: the new i (unchanged when nothing was skipped)
        closing, inner = end_of_brackets(i)
        if closing > 0:
            end = offs[i + closing] + len(vals[i + closing])
            if end - offs[i] < State.max_bracket_skipping_length or not inner:
                return i + closing + 1
        return i

    def past_post_terminals(i: int, token: str | None) -> tuple[int, str | None]:
        # syntok's loop over the punctuation that may follow a terminal (run twice, around a quote)
        while i < n and vals[i] in _POST_TERMINAL:
            i += 1
            if i >= n:
                break
            if token is None:
                token = vals[i - 1]
        return i, token

    def extract(i: int, h0: int, first: bool) -> tuple[int, bool]:
        # State._move_and_maybe_extract_terminal: (new i, whether to cut before token i)
        token_before = vals[i - 1] if i > h0 else ""
        if vals[i] not in _OPENING:
            i += 1
        # State.__move_to_next_relevant_word_and_return_token_after_terminal
        token = None
        last = vals[i - 1] if i > h0 else ""
        if i < n and vals[i] in _OPENING and last not in _TERMINALS:
            i = skip_brackets(i)
        else:
            i, token = past_post_terminals(i, token)
            if i < n and vals[i] in _QUOTES and not spaced[i]:
                i += 1
                if i < n and token is None:
                    token = vals[i - 1]
            i, token = past_post_terminals(i, token)
            if i < n and vals[i] in _OPENING:
                token = vals[i]
        if token is None and i < n:
            token = vals[i]
        token_after = "" if token is None else token
        nxt = vals[i] if i < n else None
        # the decision
        if nxt is not None and (nxt[:1].islower() or nxt in _INNER):
            return i, False
        if (
            not (first and (len(token_before) == 1 or token_before in _ROMAN))
            and nxt is not None
            and nxt in _STARTERS
        ):
            return i, True
        if token_before in _ABBREVIATIONS and token_after not in _CLOSING:
            return i, False
        if (
            token_before in ("no", "No", "NO")
            and nxt is not None
            and any(c.isnumeric() for c in nxt)
            and nxt.isalnum()
        ):
            return i, False
        no_spacing = nxt is not None and not spaced[i]
        if nxt is not None and nxt.isnumeric() and no_spacing:
            return i, False
        if no_spacing and (not token_after.istitle() or not token_after.isalpha() or len(token_after) == 1):
            return i, False
        if nxt is not None and nxt.isnumeric() and len(nxt) > 2:
            return i, False
        if token_before.isnumeric() and nxt is not None and nxt in _MONTHS:
            return i, False
        if token_before in _MONTHS and nxt is not None and nxt.isnumeric():
            return i, False
        if "." in token_before and token_after != ".":
            return i, False
        if (first or token_before.isupper()) and (len(token_before) == 1 or token_before in _ROMAN):
            return i, False
        if len(token_before) == 1 and token_before.isalpha() and token_before not in _VOWELS:
            return i, False
        if token_after in _OPENING:
            # State.__find_next_token_after_bracket and State.__find_token_after_next
            after_brackets = ""
            if nxt is not None:
                closing, inner = end_of_brackets(i)
                if closing > 0 and not inner and i + closing + 1 < n:
                    after_brackets = vals[i + closing + 1]
            after_opening = vals[i + 1] if i + 1 < n else ""
            if after_brackets in _INNER:
                return i, False
            if after_opening.istitle():
                return i, True
            return i, not after_brackets[:1].islower()
        return i, True

    i = 0
    h0 = 0
    first = True  # FirstToken (True) or InnerToken (False)
    while True:
        cut = False
        if i >= n:
            break
        if first:
            # FirstToken.__next__
            if vals[i] in _OPENING:
                j = skip_brackets(i)
                if j != i:
                    i = j
                    if i - h0 > 3 and not (i < n and vals[i][:1].islower()):
                        cut = True
            if not cut:
                if i >= n:
                    break
                i += 1
                if i < n and vals[i] in _TERMINAL_OR_PAREN:
                    i, cut = extract(i, h0, True)
                else:
                    first = False
        else:
            # InnerToken.__next__, jumping over the tokens that only move to the history
            i += 1
            while specials[p] < i:
                p += 1
            i = specials[p]
            if i < n and vals[i] in _OPENING:
                i = skip_brackets(i)
            if i < n and vals[i] in _SPECIAL:
                i, cut = extract(i, h0, False)
        if cut:
            # Terminal: the history is a sentence; the next state is FirstToken
            if i > h0 and (i - h0 > 1 or vals[h0]):
                yield offs[h0], offs[i - 1] + len(vals[i - 1])
            h0 = i
            first = True
    # End
    if i > h0 and (i - h0 > 1 or vals[h0]):
        yield offs[h0], offs[i - 1] + len(vals[i - 1])


def _sentences_of_line(line: str, offset: int) -> Iterator[tuple[int, int]]:
    if _SPECIAL_CHAR.search(line) is None:
        # no terminal and no bracket: syntok makes the whole line one sentence, from the first
        # token to the end of the line (the last run's end, or the trailing empty token's)
        runs = _RUNS.search(line)
        if runs is None:
            return
        yield offset + runs.start(), offset + len(line)
        return
    for start, end in _sentences(line):
        yield offset + start, offset + end


# --- units ---------------------------------------------------------------------------------------


def _spans(text: str, sentences) -> Iterator[tuple[int, int]]:
    for match in _LINE.finditer(text):
        line = match.group()
        stripped = line.strip()
        if not stripped:
            continue
        if sentences is not None:
            yield from sentences(line, match.start())
        else:
            lead = len(line) - len(line.lstrip())
            yield match.start() + lead, match.start() + lead + len(stripped)


def _units(text: str, sentences) -> list[Unit]:
    units: list[Unit] = []
    for start, end in _spans(text, sentences):
        chunk = text[start:end].strip()
        if not chunk:
            continue
        # syntok may leave a token's trailing space inside the span; keep offsets exact.
        lead = text[start:end].index(chunk)
        start += lead
        units.append(Unit(len(units), start, start + len(chunk), chunk))
    return units


def split_sentences(text: str) -> list[Unit]:
    """Split an article into sentence units (the unit the labels use)."""
    return _units(text, _sentences_of_line)


def split_lines(text: str) -> list[Unit]:
    """Treat every non-blank line as one unit, for input that is already one sentence a line."""
    return _units(text, None)
