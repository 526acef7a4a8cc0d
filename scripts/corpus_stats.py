"""Texture and repetition figures for a set of written articles (label files may be unfinished).

    python scripts/corpus_stats.py w201 w202 ...      # article stems or prefixes
    python scripts/corpus_stats.py --from w201 --to w230

Prints units, label counts, the share of units with a direct quote, over 35 words, with any
non-ASCII character, and the near-copy share: units of 8+ words whose nearest unit in another
article (TF-IDF, no English stop words, fitted on every labelled unit) has cosine >= 0.35.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

REPO = Path(__file__).resolve().parent.parent
QUOTE = re.compile(r"[\"“”]")
NEAR = 0.35


def runs(text: str) -> set[tuple[str, ...]]:
    tokens = re.findall(r"\w+", text.lower())
    return {tuple(tokens[i : i + 8]) for i in range(len(tokens) - 7)}


def read_units(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("stems", nargs="*")
    parser.add_argument("--from", dest="lo")
    parser.add_argument("--to", dest="hi")
    args = parser.parse_args()
    files = sorted((REPO / "labels").glob("*/*.jsonl"))
    files = [f for f in files if f.parent.name in ("seed", "written")]
    every = {f.stem: read_units(f) for f in files}

    def chosen(stem: str) -> bool:
        if args.lo and args.hi:
            return args.lo <= stem[: len(args.lo)] <= args.hi
        return any(stem.startswith(s) for s in args.stems)

    mine = [s for s in every if chosen(s)]
    units = [(s, u) for s in mine for u in every[s]]
    if not units:
        raise SystemExit("no units found")
    n = len(units)
    topics = Counter(t for _, u in units for t in (u.get("topics") or []))
    stances = Counter(u.get("stance") for _, u in units)
    unlabelled = sum(1 for _, u in units if u.get("topics") is None or u.get("stance") is None)
    no_topic = sum(1 for _, u in units if u.get("topics") == [])
    print(f"articles {len(mine)}  units {n}  units/article {n / len(mine):.1f}  unlabelled {unlabelled}")
    print(
        "topics  " + "  ".join(f"{t} {topics[t]}" for t in sorted(topics)) + f"  no-topic {no_topic / n:.0%}"
    )
    print("stance  " + "  ".join(f"{s} {c}" for s, c in sorted(stances.items(), key=str)))
    texts = [u["text"] for _, u in units]
    print(
        f"quotes {sum(bool(QUOTE.search(t)) for t in texts) / n:.1%}  "
        f">35 words {sum(len(t.split()) > 35 for t in texts) / n:.1%}  "
        f"non-ASCII {sum(any(ord(c) > 127 for c in t) for t in texts) / n:.1%}"
    )

    all_docs = [s for s in every for _ in every[s]]
    all_texts = [u["text"] for s in every for u in every[s]]
    vec = TfidfVectorizer(stop_words="english").fit(all_texts)
    matrix = vec.transform(all_texts)
    docs = np.array(all_docs)
    offsets, pos = {}, 0
    for s in every:
        offsets[s] = pos
        pos += len(every[s])
    near, long_units, pairs = 0, 0, []
    for s in mine:
        for i, u in enumerate(every[s]):
            if len(u["text"].split()) < 8:
                continue
            long_units += 1
            sims = (matrix @ matrix[offsets[s] + i].T).toarray().ravel()
            sims[docs == s] = 0.0
            j = int(sims.argmax())
            if sims[j] >= NEAR:
                near += 1
                pairs.append((sims[j], f"{s}:{i}", f"{docs[j]}", u["text"][:70], all_texts[j][:70]))
    print(
        f"near-copy share {near / max(long_units, 1):.1%} of {long_units} units of 8+ words (target <= 25%)"
    )
    seed_runs: set[tuple[str, ...]] = set()
    for article in sorted((REPO / "seeds").glob("*.txt")):
        seed_runs |= runs(article.read_text(encoding="utf-8"))
    copied = [f"{s}:{u['index']}" for s, u in units if runs(u["text"]) & seed_runs]
    print(f"units sharing a run of 8 words with a seed article (must be 0): {len(copied)} {copied[:10]}")
    for sim, a, b, ta, tb in sorted(pairs, reverse=True)[:15]:
        print(f"  {sim:.2f} {a} ~ {b}\n       {ta}\n       {tb}")


if __name__ == "__main__":
    main()
