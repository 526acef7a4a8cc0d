"""Train the shipped model from the shipped labels (same as ``nkclassify train``).

python scripts/train.py [--features tfidf] [--seed 0] [--out models/nkclassify.joblib]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from nkclassify.dataset import DEFAULT_LABELS_DIR, load_corpus
from nkclassify.store import DEFAULT_MODEL_PATH
from nkclassify.train import train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS_DIR)
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--features", default="tfidf")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cv-folds", type=int, default=5)
    args = parser.parse_args()
    card = train(load_corpus(args.labels), args.out, args.features, args.seed, args.cv_folds, progress=print)
    print(f"wrote {args.out}: {card['n_units']} units, thresholds {card['thresholds']}")


if __name__ == "__main__":
    main()
