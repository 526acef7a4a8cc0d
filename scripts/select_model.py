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

CANDIDATES: list[tuple[str, str, dict]] = [
    ("release 0.1: word n-grams, tuned thresholds", "tfidf", {"stance_topics": False, "thresholds": "tuned"}),
    ("word n-grams, fixed 0.5", "tfidf", {"stance_topics": False}),
    ("+ prefixes, cue lists, no stop words (default)", "lex", {"stance_topics": False}),
    ("  + tuned thresholds", "lex", {"stance_topics": False, "thresholds": "tuned"}),
    ("  + stance head sees topic probabilities", "lex", {"stance_topics": True}),
    ("  with C=1", "lex", {"stance_topics": False, "topic_c": 1.0, "stance_c": 1.0}),
    ("  with C=16", "lex", {"stance_topics": False, "topic_c": 16.0, "stance_c": 16.0}),
    ("  + character 3-5-grams", "lex+char", {"stance_topics": False}),
    # issue 10: one change at a time against the default (candidate 2)
    ("  cue block weight 1.0", "lex-cues1.0", {}),
    ("  cue block weight 1.5", "lex-cues1.5", {}),
    ("  topic heads without class weights", "lex", {"topic_class_weight": None}),
    ("  topic heads C=2", "lex", {"topic_c": 2.0}),
    ("  topic heads C=8", "lex", {"topic_c": 8.0}),
    ("  two-step stance (polar?, then which)", "lex", {"stance_design": "two_step"}),
    ("  stance class weights tilted to favor x1.5", "lex", {"stance_tilt": {"favor": 1.5}}),
    ("  topic heads Platt-calibrated (grouped folds)", "lex", {"calibrate": True}),
    ("  stance cues in a block of their own", "lex-splitcues", {}),
    (
        "    stance head: words + stance cues only",
        "lex-splitcues",
        {"stance_blocks": ("word", "stance_cues")},
    ),
    ("  stance class weights tilted to favor x2", "lex", {"stance_tilt": {"favor": 2.0}}),
    ("  words seen in 2+ sentences only (min_df=2)", "lex-mindf2", {}),
    (
        "  stance cues own block, topic heads do not see it",
        "lex-splitcues",
        {"topic_blocks": ("word", "cues")},
    ),
    ("  16 + topic C=8 + favor x1.5", "lex-splitcues", {"topic_c": 8.0, "stance_tilt": {"favor": 1.5}}),
    ("  12 + 14: topic C=8, favor x1.5", "lex", {"topic_c": 8.0, "stance_tilt": {"favor": 1.5}}),
    (
        "  20 + topic C=8 + favor x1.5",
        "lex-splitcues",
        {"topic_blocks": ("word", "cues"), "topic_c": 8.0, "stance_tilt": {"favor": 1.5}},
    ),
    (
        "  22 + topic heads ignore @against/@favor",
        "lex",
        {"topic_hidden_tokens": ("@against", "@favor"), "topic_c": 8.0, "stance_tilt": {"favor": 1.5}},
    ),
]


def resolve(params: dict, data) -> dict:
    """Stance names in ``stance_tilt`` to indices; the neutral stance for the two-step design."""
    params = dict(params)
    if params.get("stance_tilt"):
        params["stance_tilt"] = {data.stance_names.index(k): v for k, v in params["stance_tilt"].items()}
    if params.get("stance_design") == "two_step":
        params["neutral_stance"] = int(data.neutral)
    return params


def per_topic(result: dict) -> str:
    topics = " ".join(f"{t[:5]} {m['f1']:.2f}" for t, m in result["topics"]["per_topic"].items())
    stance = " ".join(
        f"{s} {m['f1']:.2f} (R {m['recall']:.2f})" for s, m in result["stance"]["per_class"].items()
    )
    return f"{topics} | {stance}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS_DIR)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--only", type=int, nargs="*", help="candidate numbers to run (default: all)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--per-topic", action="store_true", help="also print per-topic and per-stance F1")
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
        fit_params = resolve(params, data)
        cv = cross_validate(data, features, args.folds, 1, 0, group_by="event", params=fit_params)
        to_seeds = transfer(data, "written", "seed", features, 0, fit_params)
        kw_seed = to_seeds["keywords"]
        seconds = time.perf_counter() - started
        row = {
            "candidate": name,
            "features": features,
            "params": params,
            "event_cv": {k: v["mean"] for k, v in cv["summary"].items()},
            "event_cv_per_topic": {t: m["f1"] for t, m in cv["pooled"]["topics"]["per_topic"].items()},
            "event_cv_per_stance": {s: m["f1"] for s, m in cv["pooled"]["stance"]["per_class"].items()},
            "event_cv_stance_recall": {
                s: m["recall"] for s, m in cv["pooled"]["stance"]["per_class"].items()
            },
            "seeds": to_seeds["summary"],
            "seeds_per_topic": {t: m["f1"] for t, m in to_seeds["topics"]["per_topic"].items()},
            "seeds_per_stance": {s: m["f1"] for s, m in to_seeds["stance"]["per_class"].items()},
            "seeds_stance_recall": {s: m["recall"] for s, m in to_seeds["stance"]["per_class"].items()},
            "seconds": seconds,
        }
        rows.append(row)
        e, s = row["event_cv"], row["seeds"]
        print(
            f"{number:>2} {name:48} {e['topics_micro_f1']:>14.3f} {e['topics_macro_f1']:>6.3f} {e['stance_f_avg']:>6.3f} | "
            f"{s['topics_micro_f1']:>11.3f} {s['topics_macro_f1']:>6.3f} {s['stance_f_avg']:>6.3f} | {seconds:>6.0f}",
            flush=True,
        )
        if args.per_topic:
            print(f"{'':>2}   event CV (pooled): {per_topic(cv['pooled'])}")
            print(f"{'':>2}   seeds:             {per_topic(to_seeds)}", flush=True)
    kw_cv = cv["baselines"]["keywords"]
    print(
        f"{'':>2} {'keyword rules (no training; stance always none)':48} {kw_cv['topics_micro_f1']['mean']:>14.3f} "
        f"{kw_cv['topics_macro_f1']['mean']:>6.3f} {'-':>6} | {kw_seed['topics_micro_f1']:>11.3f} "
        f"{kw_seed['topics_macro_f1']:>6.3f} {'-':>6} |"
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
