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
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nkclassify.quality import copied_runs, near_copies, texture  # noqa: E402


def read_units(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("stems", nargs="*")
    parser.add_argument("--from", dest="lo")
    parser.add_argument("--to", dest="hi")
    args = parser.parse_args()
    files = sorted((REPO / "labels").glob("*/*.jsonl"))
    every = {f.stem: read_units(f) for f in files if f.parent.name in ("seed", "written")}

    def chosen(stem: str) -> bool:
        if args.lo and args.hi:
            return args.lo <= stem[: len(args.lo)] <= args.hi
        return any(stem.startswith(s) for s in args.stems)

    docs = [s for s in every for _ in every[s]]
    texts = [u["text"] for s in every for u in every[s]]
    mine = [i for i, d in enumerate(docs) if chosen(d)]
    if not mine:
        raise SystemExit("no units found")
    units = [u for s in every if chosen(s) for u in every[s]]
    n, articles = len(units), len({docs[i] for i in mine})
    topics = Counter(t for u in units for t in (u.get("topics") or []))
    stances = Counter(u.get("stance") for u in units)
    unlabelled = sum(1 for u in units if u.get("topics") is None or u.get("stance") is None)
    no_topic = sum(1 for u in units if u.get("topics") == [])
    print(f"articles {articles}  units {n}  units/article {n / articles:.1f}  unlabelled {unlabelled}")
    print(
        "topics  " + "  ".join(f"{t} {topics[t]}" for t in sorted(topics)) + f"  no-topic {no_topic / n:.0%}"
    )
    print("stance  " + "  ".join(f"{s} {c}" for s, c in sorted(stances.items(), key=str)))
    shares = texture([texts[i] for i in mine])
    print(
        f"quotes {shares['quotes']:.1%}  >35 words {shares['over_35_words']:.1%}  non-ASCII {shares['non_ascii']:.1%}"
    )
    counted, near = near_copies(docs, texts, mine)
    print(f"near-copy share {len(near) / max(counted, 1):.1%} of {counted} units of 8+ words (target <= 25%)")
    seeds = [p.read_text(encoding="utf-8") for p in sorted((REPO / "seeds").glob("*.txt"))]
    copied = [f"{docs[mine[k]]}:{units[k]['index']}" for k in copied_runs([texts[i] for i in mine], seeds)]
    print(f"units sharing a run of 8 words with a seed article (must be 0): {len(copied)} {copied[:10]}")
    for pair in sorted(near, key=lambda p: -p.cosine)[:15]:
        print(f"  {pair.cosine:.2f} {docs[pair.unit]} ~ {docs[pair.nearest]}")
        print(f"       {texts[pair.unit][:70]}\n       {texts[pair.nearest][:70]}")


if __name__ == "__main__":
    main()
