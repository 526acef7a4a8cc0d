"""Hand-written term lists: what an analyst would grep for, given to the model as features.

The lists are written from the annotation guide's definitions and the reported facts, never mined
from the labels (a model fed its own data back learns nothing new). Each list becomes one cue
feature, ``@defection`` for instance, that fires once per matching term; the heads learn how much
to trust it, and ``explain`` shows it with the words that fired. Pure Python (``re``), so the
array engine uses the very same code as training.

Extend a list here (and retrain); a new list name becomes a new feature.
"""

from __future__ import annotations

import re

__all__ = ["CUES", "cue_tokens", "cue_matches", "CUE_PREFIX"]

CUE_PREFIX = "@"

# Terms are matched on word tokens: a term matches a word that starts with it ("defect" finds
# "defectors"), unless it ends in "=" (a whole word: "ban=" must not find "bank"); in a multi-word
# term the last word works the same way and the others must match whole (hyphens count as
# spaces). A term that is not a word ("$") is counted wherever it occurs.
CUES: dict[str, tuple[str, ...]] = {
    # Topic lists: the guide's "examples of what counts".
    "repatriation": (
        "repatriat",
        "sent home",
        "send home",
        "sending home",
        "sent back",
        "send back",
        "sending back",
        "returned home",
        "return home",
        "returning home",
        "went home",
        "go home",
        "going home",
        "deport",
        "recall",
        "rotation",
        "rotate",
        "replacement",
        "homecoming",
        "back to north korea",
        "back to pyongyang",
        "expel",
        "expuls",
        "forced return",
        "forcibly return",
        "handed back",
        "hand back",
        "leave the country",
        "left the country",
        "deadline",
    ),
    "defection": (
        "defect",
        "defector",
        "fled",
        "flee",
        "escape",
        "escaping",
        "asylum",
        "refugee",
        "runaway",
        "ran away",
        "run away",
        "abscond",
        "desert",
        "vanish",
        "went missing",
        "gone missing",
        "disappear",
        "hanawon",
        "reached south korea",
        "reach south korea",
        "arrived in south korea",
        "resettle",
        "broker",
        "safe house",
        "get out of north korea",
        "unification ministry",
    ),
    "sanctions": (
        "sanction",
        "resolution",
        "security council",
        "ban=",
        "bans=",
        "banned",
        "banning",
        "embargo",
        "illicit",
        "illegal",
        "violation",
        "violate",
        "breach",
        "evade",
        "evasion",
        "loophole",
        "designat",
        "blacklist",
        "indict",
        "charged",
        "prosecut",
        "treasury",
        "ofac",
        "panel of experts",
        "advisory",
        "seize",
        "seizure",
        "forfeit",
        "2397",
        "2375",
        "2371",
        "2270",
        "2321",
        "work permit",
        "student visa",
        "trainee visa",
        "tourist visa",
        "false identit",
        "stolen identit",
        "laptop farm",
        "front compan",
        "money laundering",
        "launder",
    ),
    "recruitment": (
        "recruit",
        "dispatch",
        "deploy",
        "sent to",
        "sending workers",
        "send workers",
        "posted to",
        "posting",
        "assigned to",
        "selected",
        "selection",
        "applicant",
        "petition",
        "volunteer",
        "contingent",
        "batch",
        "new workers",
        "troops",
        "soldiers",
        "conscript",
        "labour export",
        "labor export",
        "export of labour",
        "export of labor",
        "workforce",
        "hired",
        "hire",
        "hiring",
        "brigade",
        "arrived in",
        "arrive in",
        "headed for",
        "bound for",
    ),
    "finances": (
        "wage",
        "salary",
        "salaries",
        "pay",
        "paid",
        "earn",
        "income",
        "revenue",
        "currency",
        "cash=",
        "dollar",
        "usd",
        "euro=",
        "euros=",
        "yuan",
        "rouble",
        "ruble",
        "loyalty fund",
        "loyalty money",
        "party fund",
        "contribution",
        "quota",
        "remit",
        "levy",
        "levies",
        "profit",
        "money",
        "million",
        "billion",
        "fee=",
        "fees=",
        "debt",
        "savings",
        "save",
        "$",
        "€",
        "£",
        "¥",
        "₩",
    ),
    # Stance cues: how the guide says the programme is presented.
    "against": (
        "forced",
        "force=",
        "coerc",
        "exploit",
        "slave",
        "abuse",
        "hardship",
        "harsh",
        "brutal",
        "cruel",
        "danger",
        "die=",
        "died",
        "dies=",
        "death",
        "dead=",
        "killed",
        "suicide",
        "injur",
        "punish",
        "prison",
        "jail",
        "detain",
        "detention",
        "camp=",
        "camps=",
        "torture",
        "hostage",
        "surveil",
        "minder",
        "watched",
        "confiscat",
        "withheld",
        "withhold",
        "unpaid",
        "starv",
        "hungry",
        "exhaust",
        "overwork",
        "violation",
        "illegal",
        "illicit",
        "smear",
        "crime",
        "criminal",
        "afraid",
        "fear",
        "angry",
        "anger",
        "complain",
        "protest",
        "riot",
        "desperate",
        "trap",
        "stranded",
        "squeez",
        "extort",
        "human rights",
        "rights abuse",
        "no days off",
        "round the clock",
        "without pay",
    ),
    "favor": (
        "eager",
        "keen",
        "willing",
        "hope",
        "dream",
        "coveted",
        "sought after",
        "prized",
        "lucky",
        "proud",
        "pride",
        "praise",
        "praised",
        "hard working",
        "hardworking",
        "diligent",
        "disciplined",
        "reliable",
        "skilled",
        "skilful",
        "skillful",
        "efficient",
        "productive",
        "excellent",
        "good workers",
        "benefit",
        "mutual",
        "win win",
        "opportunit",
        "grateful",
        "thank",
        "welcome",
        "honour",
        "honor",
        "hero",
        "heroic",
        "glory",
        "better life",
        "prosper",
        "success",
        "valued",
        "appreciat",
        "friendship",
        "cooperation",
        "invaluable",
    ),
}


_WORD = re.compile(r"(?u)\b\w\w+\b")


class _Index:
    """The term lists compiled for matching on word tokens: whole words, word starts, phrases, symbols."""

    def __init__(self, cues: dict[str, tuple[str, ...]]) -> None:
        self.exact: dict[str, list[tuple[str, str]]] = {}
        self.stems: dict[str, list[tuple[str, str]]] = {}
        self.phrases: dict[str, list[tuple[tuple[str, ...], bool, str, str]]] = {}
        self.symbols: list[tuple[str, str]] = []
        for name, terms in cues.items():
            for term in terms:
                exact = term.endswith("=")
                words = term.rstrip("=").replace("-", " ").split()
                if not _WORD.fullmatch(words[0]):
                    self.symbols.append((term, name))
                elif len(words) > 1:
                    self.phrases.setdefault(words[0], []).append((tuple(words[1:]), exact, term, name))
                elif exact:
                    self.exact.setdefault(words[0], []).append((term, name))
                else:
                    self.stems.setdefault(words[0], []).append((term, name))
        self.lengths = sorted({len(s) for s in self.stems})
        self.phrase_first = frozenset(self.phrases)
        self.phrase_words = max((1 + len(p[0]) for ps in self.phrases.values() for p in ps), default=1)
        self.symbol_tokens = [(term, CUE_PREFIX + name) for term, name in self.symbols]
        self._hits = _Memo(self._single)
        self._tokens = _Memo(lambda word: tuple(CUE_PREFIX + name for name, _, _ in self._hits[word]))

    def _single(self, word: str) -> tuple[tuple[str, str, str], ...]:
        """Single-word hits of one word: once per list ("defectors" is "defect" and "defector")."""
        found = [(name, term, word) for term, name in self.exact.get(word, ())]
        for k in self.lengths:
            if k > len(word):
                break
            found += [(name, term, word) for term, name in self.stems.get(word[:k], ())]
        seen: set[str] = set()
        return tuple(hit for hit in found if not (hit[0] in seen or seen.add(hit[0])))

    def _phrase_hits(self, words: list[str]) -> list[tuple[str, str, str]]:
        hits = []
        if self.phrase_first.isdisjoint(words):
            return hits
        first = self.phrase_first
        for i in [i for i, word in enumerate(words) if word in first]:
            hits += self.phrase_hits_at(words, i)
        return hits

    def phrase_hits_at(self, words: list[str], i: int) -> list[tuple[str, str, str]]:
        """The phrases that start at ``words[i]``, a phrase's first word (see ``phrase_first``)."""
        hits = []
        word = words[i]
        for rest, whole, term, name in self.phrases[word]:
            tail = words[i + 1 : i + 1 + len(rest)]
            last_ok = bool(tail) and (tail[-1] == rest[-1] or (not whole and tail[-1].startswith(rest[-1])))
            if len(tail) == len(rest) and tail[:-1] == list(rest[:-1]) and last_ok:
                hits.append((name, term, " ".join([word, *tail])))
        return hits

    def matches(self, lowered: str, words: list[str] | None = None) -> list[tuple[str, str, str]]:
        """(list name, term, matched text) for every hit: single words, then phrases, then symbols.

        ``words`` are the word tokens of ``lowered`` when the caller has them already.
        """
        if words is None:
            words = _WORD.findall(lowered)
        hits = [hit for word in words for hit in self._hits[word]]
        hits += self._phrase_hits(words)
        for term, name in self.symbols:
            hits += [(name, term, term)] * lowered.count(term)
        return hits

    def tokens(self, lowered: str, words: list[str]) -> list[str]:
        """The ``@name`` tokens of ``matches``, built fast (this runs once per tagged sentence)."""
        out = [token for word in words for token in self._tokens[word]]
        if not self.phrase_first.isdisjoint(words):
            out += [CUE_PREFIX + name for name, _, _ in self._phrase_hits(words)]
        for term, token in self.symbol_tokens:
            if term in lowered:
                out += [token] * lowered.count(term)
        return out


class _Memo(dict):
    """A bounded memo: words repeat, so each is matched once (cleared past 500,000 entries)."""

    def __init__(self, compute) -> None:
        super().__init__()
        self.compute = compute

    def __missing__(self, word: str):
        if len(self) > 500_000:
            self.clear()
        value = self[word] = self.compute(word)
        return value


_INDEX = _Index(CUES)


def cue_matches(text: str) -> dict[str, list[str]]:
    """For each list, the words of ``text`` that matched it, in order; lists with none are left out."""
    found: dict[str, list[str]] = {}
    for name, _term, matched in _INDEX.matches(text.lower()):
        found.setdefault(name, []).append(matched)
    return found


def cue_tokens(lowered: str, words: list[str] | None = None) -> list[str]:
    """One ``@name`` token per matching term in already lowercased text: the model's cue features."""
    return _INDEX.tokens(lowered, _WORD.findall(lowered) if words is None else words)
