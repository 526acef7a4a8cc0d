"""The table that chose the default model: candidates scored the way real news is met.

    python scripts/select_model.py [--labels DIR] [--folds 5] [--out docs/evaluation/selection.json]

Every candidate is scored by cross-validation grouped by event (no real-world event on both sides)
and by training on the written articles and testing on the five real seed articles; the keyword
rules (``nkclassify.lexicon``) are scored beside them. Nothing here is tuned on the seeds beyond
this choice among a handful of settings, which the README states.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nkclassify.dataset import (  # noqa: E402
    DEFAULT_LABELS_DIR,
    label_matrix,  # noqa: E402
    load_corpus,
)
from nkclassify.evaluate import cross_validate, transfer  # noqa: E402

_V02 = {"topic_c": 4.0, "stance_c": 4.0, "rare_stance_tilt": 1.0}  # the settings of release 0.2
CANDIDATES: list[tuple[str, str, dict]] = [
    ("release 0.1: word n-grams, tuned thresholds", "tfidf", {**_V02, "thresholds": "tuned"}),
    ("word n-grams, fixed 0.5", "tfidf", _V02),
    ("+ prefixes, cue lists, no stop words (0.2)", "lex", _V02),
    ("  + tuned thresholds", "lex", {**_V02, "thresholds": "tuned"}),
    ("  + stance head sees topic probabilities", "lex", {**_V02, "stance_topics": True}),
    ("  with C=1", "lex", {**_V02, "topic_c": 1.0, "stance_c": 1.0}),
    ("  with C=16", "lex", {**_V02, "topic_c": 16.0, "stance_c": 16.0}),
    ("  + character 3-5-grams", "lex+char", _V02),
    ("  topic heads C=8", "lex", {**_V02, "topic_c": 8.0}),
    ("  rarest stance (favor) weighted x1.5", "lex", {**_V02, "rare_stance_tilt": 1.5}),
    ("  rarest stance weighted x2", "lex", {**_V02, "rare_stance_tilt": 2.0}),
    ("  topic C=8 + favor x1.5 (release 0.3)", "lex", {}),
    ("  + static word-piece vectors (default)", "lex+static", {}),
]
# More candidates (cue-block weights 1.0/1.5, topic heads without class weights or Platt-calibrated,
# a two-step stance head, stance cues in a block of their own, min_df=2) were scored by the same
# table at commit 41d13ec; their rows are in docs/evaluation/selection_issue10.json. None won.


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS_DIR)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--only", type=int, nargs="*", help="candidate numbers to run (default: all)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    data = label_matrix(load_corpus(args.labels))
    rows = []
    kw_seed = None
    header = f"{'#':>2} {'candidate':48} {'event CV micro':>14} {'macro':>6} {'F_avg':>6} | {'seeds micro':>11} {'macro':>6} {'F_avg':>6} | {'fit s':>6}"
    print(header)
    for number, (name, features, params) in enumerate(CANDIDATES):
        if args.only and number not in args.only:
            continue
        started = time.perf_counter()
        cv = cross_validate(data, features, args.folds, 1, 0, group_by="event", params=params)
        to_seeds = transfer(data, "written", "seed", features, 0, params)
        kw_seed = to_seeds["keywords"]
        seconds = time.perf_counter() - started
        row = {
            "candidate": name,
            "features": features,
            "params": params,
            "event_cv": {k: v["mean"] for k, v in cv["summary"].items()},
            "event_cv_per_topic": {t: m["f1"] for t, m in cv["pooled"]["topics"]["per_topic"].items()},
            "event_cv_per_stance": {s: m["f1"] for s, m in cv["pooled"]["stance"]["per_class"].items()},
            "seeds": to_seeds["summary"],
            "margin_over_keywords": {"event_cv": cv["versus_keywords"], "seeds": to_seeds["versus_keywords"]},
            "seconds": seconds,
        }
        rows.append(row)
        e, s = row["event_cv"], row["seeds"]
        print(
            f"{number:>2} {name:48} {e['topics_micro_f1']:>14.3f} {e['topics_macro_f1']:>6.3f} {e['stance_f_avg']:>6.3f} | "
            f"{s['topics_micro_f1']:>11.3f} {s['topics_macro_f1']:>6.3f} {s['stance_f_avg']:>6.3f} | {seconds:>6.0f}",
            flush=True,
        )
    kw_cv = cv["baselines"]["keywords"]
    print(
        f"{'':>2} {'keyword rules (no training; stance always none)':48} {kw_cv['topics_micro_f1']['mean']:>14.3f} "
        f"{kw_cv['topics_macro_f1']['mean']:>6.3f} {'-':>6} | {kw_seed['topics_micro_f1']:>11.3f} "
        f"{kw_seed['topics_macro_f1']:>6.3f} {'-':>6} |"
    )
    for row in rows[-1:]:  # the default's lead over grep, with its 95% bootstrap interval
        for where, m in row["margin_over_keywords"].items():
            print(
                f"   {row['candidate'].strip()} minus keyword rules, {where}: {m['diff']:+.3f} "
                f"[{m['low']:+.3f}, {m['high']:+.3f}] resampling {m['units']} {m['by']} groups"
            )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        result = {
            "candidates": rows,
            "keywords": {"event_cv": {k: v["mean"] for k, v in kw_cv.items()}, "seeds": kw_seed},
        }
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
