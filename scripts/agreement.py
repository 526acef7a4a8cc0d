"""Agreement between the shipped labels and a blind second pass over a random 10% of units.

    python scripts/agreement.py [labels/agreement/second_pass.jsonl]    # round 1 (ids "doc:index")
    python scripts/agreement.py labels/agreement/blind_round2.jsonl      # round 2 (doc, index)

The second annotator saw only the unit, the unit before it and the article, never the first
labels. Prints topic micro-F1 (first labels as reference) and Cohen's kappa for stance. Run after
adjudication it measures agreement with the corrected labels, so it rises above the raw figure.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sklearn.metrics import cohen_kappa_score

from nkclassify.dataset import load_corpus

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "labels" / "agreement" / "second_pass.jsonl"
    corpus = load_corpus()
    first = {f"{u.doc}:{u.index}": u for u in corpus.units}
    second = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    tp = fp = fn = 0
    stance_first, stance_second = [], []
    for row in second:
        unit = first[row["id"] if "id" in row else f"{row['doc']}:{row['index']}"]
        a, b = set(unit.topics), set(row["topics"])
        tp, fp, fn = tp + len(a & b), fp + len(b - a), fn + len(a - b)
        stance_first.append(unit.stance)
        stance_second.append(row["stance"])
    print(f"units compared: {len(second)} of {len(corpus.units)}")
    print(f"topic micro-F1: {2 * tp / (2 * tp + fp + fn):.3f}")
    print(f"stance Cohen's kappa: {cohen_kappa_score(stance_first, stance_second):.3f}")


if __name__ == "__main__":
    main()
