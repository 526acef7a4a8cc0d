"""Speed and memory of tagging, printed as a table (targets live here, not in unit tests).

    python scripts/bench.py [--sentences 100000] [--features tfidf,tfidf+static] [--model PATH]

Measures, pinned to one core with BLAS threads at 1:
- ``tag --lines`` throughput on N sentences through the CLI (stdin -> JSONL on /dev/null), and the
  fitted pipeline called directly on the same batch, so the CLI's overhead is visible (target <= 25%);
- whole articles through the CLI (splitting included) in MB/s;
- time to the first output line for one article (cold start of the CLI);
- model load time, and peak memory (max RSS) of the CLI runs;
- with --features: the same ``--lines`` throughput for models of each feature set, trained on the
  shipped labels into a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ONE_CORE = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}
os.environ.update(ONE_CORE)
REPO = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "nkclassify"]
PIN = ["taskset", "-c", "0"] if shutil.which("taskset") else []


def sentences(n: int) -> list[str]:
    from nkclassify.dataset import load_corpus

    texts = [u.text for u in load_corpus().units]
    return [texts[i % len(texts)] for i in range(n)]


def run_cli(args: list[str], stdin_path: Path | None = None) -> tuple[float, int]:
    """Wall seconds and max RSS (KiB) of one CLI run with stdout discarded."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    with open(stdin_path or os.devnull, "rb") as stdin, open(os.devnull, "wb") as devnull:
        subprocess.run(
            PIN + CLI + args, stdin=stdin, stdout=devnull, check=True, env={**os.environ, **ONE_CORE}
        )
    elapsed = time.perf_counter() - started
    return elapsed, max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before)


def first_line_seconds(args: list[str]) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(PIN + CLI + args, stdout=subprocess.PIPE, env={**os.environ, **ONE_CORE})
    process.stdout.readline()
    elapsed = time.perf_counter() - started
    process.communicate()
    return elapsed


def direct_seconds(model_path: Path, texts: list[str]) -> tuple[float, float]:
    """Model load time and the fitted pipeline's predict time on the batch, in-process."""
    from nkclassify.store import load_model

    started = time.perf_counter()
    model = load_model(model_path).model
    loaded = time.perf_counter() - started
    if PIN:
        os.sched_setaffinity(0, {0})
    started = time.perf_counter()
    model.predict(texts)
    return loaded, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=100_000)
    parser.add_argument("--model", type=Path, default=REPO / "models" / "nkclassify.joblib")
    parser.add_argument("--features", default="", help="Comma-separated feature sets to compare.")
    args = parser.parse_args()

    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        texts = sentences(args.sentences)
        lines_file = tmp_path / "lines.txt"
        lines_file.write_text("\n".join(texts) + "\n", encoding="utf-8")

        load, direct = direct_seconds(args.model, texts)
        cli, rss = run_cli(
            ["tag", "--lines", "--format", "jsonl", "--quiet", "--model", str(args.model)], lines_file
        )
        one_line = tmp_path / "one.txt"
        one_line.write_text(texts[0] + "\n", encoding="utf-8")
        startup, _ = run_cli(
            ["tag", "--lines", "--format", "jsonl", "--quiet", "--model", str(args.model)], one_line
        )
        rows += [
            (f"tag --lines, {len(texts):,} sentences (CLI, JSONL)", f"{len(texts) / cli:,.0f} sentences/s"),
            ("same batch, fitted pipeline called directly", f"{len(texts) / direct:,.0f} sentences/s"),
            ("CLI overhead over the direct call (target <= 25%)", f"{(cli - direct) / direct:+.0%}"),
            ("CLI start-up alone (imports, model load, one line)", f"{startup:.2f} s"),
            (
                "CLI overhead without start-up (split, records, JSON)",
                f"{(cli - startup - direct) / direct:+.0%}",
            ),
        ]

        articles = tmp_path / "articles"
        articles.mkdir()
        sources = sorted((REPO / "seeds").glob("*.txt")) + sorted((REPO / "seeds" / "written").glob("*.txt"))
        size = 0
        for copy in range(max(1, 5_000_000 // sum(p.stat().st_size for p in sources))):
            for source in sources:
                target = articles / f"{copy:03d}_{source.name}"
                shutil.copy(source, target)
                size += target.stat().st_size
        seconds, rss_articles = run_cli(
            ["tag", str(articles), "--format", "jsonl", "--quiet", "--model", str(args.model)]
        )
        rows += [
            (
                f"whole articles, {size / 1e6:.1f} MB in {len(list(articles.iterdir())):,} files (CLI)",
                f"{size / 1e6 / seconds:.2f} MB/s",
            ),
            (
                "time to first output line, one article (cold CLI)",
                f"{first_line_seconds(['tag', str(sources[0]), '--format', 'jsonl', '--model', str(args.model)]):.2f} s",
            ),
            ("model load time (hash check + unpickle)", f"{load:.2f} s"),
            ("peak memory of the CLI runs (max RSS)", f"{max(rss, rss_articles) / 1024:.0f} MiB"),
        ]

        for name in [f for f in args.features.split(",") if f]:
            from nkclassify.dataset import load_corpus
            from nkclassify.train import train

            model = tmp_path / f"{name}.joblib"
            train(load_corpus(), model, features=name, cv_folds=0)
            sample = texts if name != "tfidf+minilm" else texts[:2000]
            sample_file = tmp_path / f"{name}.txt"
            sample_file.write_text("\n".join(sample) + "\n", encoding="utf-8")
            seconds, _ = run_cli(
                ["tag", "--lines", "--format", "jsonl", "--quiet", "--model", str(model)], sample_file
            )
            rows.append(
                (
                    f"tag --lines with features {name} ({len(sample):,} sentences)",
                    f"{len(sample) / seconds:,.0f} sentences/s",
                )
            )

    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  result")
    print(f"{'-' * width}  ------")
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


if __name__ == "__main__":
    main()
