"""Speed and memory of tagging, printed as one table (targets live here, not in unit tests).

    python scripts/bench.py [--sentences 100000] [--big 1000000] [--model PATH] [--split-only]

Each CLI run is one process (``python -m nkclassify``) timed whole by a small launcher (as from a
shell), stdout to /dev/null, BLAS threads at 1, compiled bytecode kept between runs as on a
user's machine; "one core" runs are pinned with taskset; the speed rows are medians of 3-5 runs
(this machine's speed wanders by 20% from run to run), and each ratio is the median of ratios
taken within rounds of back-to-back runs. Peak memory is the CLI's own max RSS.
Rows: the bare engine called in-process (the arithmetic alone), the CLI on the same batch and its
ratio to the engine, start-up, ``--help``, ``--jobs 2`` against one job (and two separate one-job
runs at once against one, the machine's own ceiling for it), whole articles in MB/s,
sentence splitting alone against plain syntok (``--split-only`` prints just that row),
peak memory on --big lines from stdin and from a path (with and without --out), the ``tfidf``
model for bulk runs, and fastText where installed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "HF_DATASETS_OFFLINE": "1",
}
os.environ.update(ONE_THREAD)
# Users' Pythons keep compiled bytecode between runs; a sandbox that forbids it would charge every
# start-up for compiling the package again. Children may write it, and a first run warms it up.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
os.environ.pop("PYTHONUNBUFFERED", None)  # nor unbuffered output: a user's shell buffers it
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CLI = [sys.executable, "-m", "nkclassify"]


def pin(cores: str) -> list[str]:
    return ["taskset", "-c", cores] if shutil.which("taskset") else []


def median_run(args: list[str], stdin: Path | None = None, cores: str = "0", times: int = 3) -> float:
    """Median wall seconds of a few runs: this machine's speed wanders from run to run."""
    return statistics.median(run(args, stdin, cores) for _ in range(times))


# Each CLI run is started by a small launcher, itself started fresh, which times the CLI and reads
# its peak memory: Linux keeps a process's peak RSS across exec, so a child forked straight from
# this (large) process would report this process's size as its own peak, and forking a large
# process also costs time the user's shell would not spend.
_LAUNCH = (
    "import os, subprocess, sys, time; t = time.perf_counter(); p = subprocess.Popen(sys.argv[2:]); "
    "_, s, r = os.wait4(p.pid, 0); t = time.perf_counter() - t; "
    "open(sys.argv[1], 'w').write(f'{t} {r.ru_maxrss}'); sys.exit(os.waitstatus_to_exitcode(s))"
)


def measure(args: list[str], stdin: Path | None = None, cores: str = "0") -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one CLI process, as its launcher saw them."""
    with tempfile.NamedTemporaryFile("r") as report:
        with open(stdin or os.devnull, "rb") as source, open(os.devnull, "wb") as sink:
            command = pin(cores) + [sys.executable, "-c", _LAUNCH, report.name] + CLI + args
            status = subprocess.run(command, stdin=source, stdout=sink).returncode
        if status != 0:
            raise SystemExit(f"failed: {' '.join(args)}")
        seconds, peak_kib = Path(report.name).read_text().split()
    return float(seconds), int(peak_kib) / 1024


def side_by_side(args: list[str], stdin: Path) -> float:
    """Wall seconds for two separate CLI processes started together, one pinned to each core (the
    later to finish): what two cores give when nothing at all is shared."""
    with tempfile.TemporaryDirectory() as folder, open(os.devnull, "wb") as sink:
        reports = [Path(folder) / "0", Path(folder) / "1"]
        with open(stdin, "rb") as first, open(stdin, "rb") as second:
            children = [
                subprocess.Popen(
                    pin(core) + [sys.executable, "-c", _LAUNCH, str(report)] + CLI + args,
                    stdin=source,
                    stdout=sink,
                )
                for core, report, source in (("0", reports[0], first), ("1", reports[1], second))
            ]
            if any(child.wait() != 0 for child in children):
                raise SystemExit(f"failed: {' '.join(args)}")
        return max(float(report.read_text().split()[0]) for report in reports)


def run(args: list[str], stdin: Path | None = None, cores: str = "0") -> float:
    """Wall seconds of one CLI process."""
    return measure(args, stdin, cores)[0]


class Rows(list):
    """Rows of the table, each printed as soon as it is measured (a long run shows progress)."""

    WIDTH = 66

    def __init__(self) -> None:
        super().__init__()
        print(f"{'measure':<{self.WIDTH}}  result\n{'-' * self.WIDTH}  ------", flush=True)

    def append(self, row: tuple[str, str]) -> None:
        super().append(row)
        print(f"{row[0]:<{self.WIDTH}}  {row[1]}", flush=True)


def article_paths() -> list[Path]:
    return sorted((REPO / "seeds" / "written").glob("*.txt")) + sorted((REPO / "seeds").glob("*.txt"))


def split_row(rows: Rows) -> None:
    """split_sentences alone on every article, in-process on one core, against plain syntok."""
    from nkclassify import segment

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    texts = [p.read_text(encoding="utf-8") for p in article_paths()]
    size = sum(len(t.encode("utf-8")) for t in texts)
    units = sum(len(segment.split_sentences(t)) for t in texts)

    def seconds(split) -> float:
        times = []
        for _ in range(3):
            segment._RUN_CACHE.clear()  # a fresh process's figure: no run tokenized before
            started = time.perf_counter()
            for text in texts:
                split(text)
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    fast, plain = seconds(segment.split_sentences), seconds(segment._reference_spans)
    rows.append(
        (
            f"split_sentences alone, {size / 1e6:.2f} MB, {units:,} units (one core)",
            f"{fast / units * 1e6:.1f} µs/unit, {size / 1e6 / fast:.2f} MB/s "
            f"(plain syntok {plain / units * 1e6:.0f} µs/unit, {size / 1e6 / plain:.2f} MB/s)",
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sentences", type=int, default=100_000)
    parser.add_argument("--big", type=int, default=1_000_000, help="lines for the memory rows (0 skips them)")
    parser.add_argument("--model", type=Path, help="model file (default: the shipped one)")
    parser.add_argument("--article-mb", type=float, default=8.0, help="size of the whole-article run")
    parser.add_argument("--split-only", action="store_true", help="only the sentence-splitting row")
    args = parser.parse_args()
    if args.split_only:
        split_row(Rows())
        return
    from nkclassify.dataset import load_corpus
    from nkclassify.store import DEFAULT_MODEL_PATH
    from nkclassify.tag import Tagger

    model = args.model or DEFAULT_MODEL_PATH
    corpus = load_corpus()
    texts = [u.text for u in corpus.units]
    batch = [texts[i % len(texts)] for i in range(args.sentences)]
    rows = Rows()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        lines = tmp / "lines.txt"
        lines.write_text("\n".join(batch) + "\n", encoding="utf-8")

        tagger = Tagger.load(model)
        engine, step = tagger.engine, tagger.batch_units  # the batches the CLI gives the engine
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {0})  # one core for the in-process engine (children pin themselves)
        one_job = ["tag", "--lines", "-j", "1", "--model", str(model)]
        run(one_job, lines)  # warm-up: bytecode, file cache
        # the engine in-process and the CLI, run in turns: the ratio is taken within each round
        # (this machine's speed drifts between rows), and the median of three rounds is shown
        speeds, clis, ratios = [], [], []
        for _ in range(3):
            started = time.perf_counter()
            for i in range(0, len(batch), step):
                engine.predict(batch[i : i + step])
            speeds.append(len(batch) / (time.perf_counter() - started))
            clis.append(run(one_job, lines))
            ratios.append(clis[-1] * speeds[-1] / len(batch))
        bare, seconds = statistics.median(speeds), statistics.median(clis)
        rows.append(
            (
                f"bare engine, {len(batch):,} sentences, batches of {step:,} (in-process)",
                f"{bare:,.0f} sentences/s",
            )
        )
        rows.append(("tag --lines -j 1 through the CLI (JSONL)", f"{len(batch) / seconds:,.0f} sentences/s"))
        rows.append(("CLI time / bare engine time (target <= 1.25)", f"{statistics.median(ratios):.2f}x"))
        one = tmp / "one.txt"
        one.write_text(texts[0] + "\n", encoding="utf-8")
        startup = median_run(one_job, one, times=5)
        rows.append(("start-up to the first output line (target < 0.3 s)", f"{startup:.2f} s"))
        helptime = median_run(["--help"], times=5)
        rows.append(("nkclassify --help (target < 0.2 s)", f"{helptime:.2f} s"))
        # ratios within rounds again: one job, two jobs, and two separate one-job runs at once, one
        # per core, nothing shared (what two cores give at best: their shared caches and memory can
        # hold it under 2x)
        twos, pairs = [], []
        for _ in range(3):
            alone = run(one_job, lines)
            twos.append(alone / run(["tag", "--lines", "-j", "2", "--model", str(model)], lines, cores="0,1"))
            pairs.append(2 * alone / side_by_side(one_job, lines))
        rows.append(
            ("tag --lines -j 2 on two cores vs -j 1 (target >= 1.8x)", f"{statistics.median(twos):.2f}x")
        )
        rows.append(
            ("two separate -j 1 runs at once, one per core, vs one run", f"{statistics.median(pairs):.2f}x")
        )

        # whole articles: the labelled articles copied to about --article-mb MB, so start-up does not dominate
        articles = article_paths()
        folder = tmp / "articles"
        folder.mkdir()
        size = copies = 0
        while size < args.article_mb * 1e6:
            for article in articles:
                target = folder / f"{copies:03d}-{article.name}"
                shutil.copyfile(article, target)
                size += target.stat().st_size
            copies += 1
        for jobs, cores in ((1, "0"), (2, "0,1")):
            took = median_run(["tag", "-q", "-j", str(jobs), "--model", str(model), str(folder)], cores=cores)
            rows.append(
                (
                    f"whole articles, {size / 1e6:.1f} MB in {copies * len(articles):,} files, -j {jobs}",
                    f"{size / 1e6 / took:.2f} MB/s",
                )
            )
        split_row(rows)

        if args.big:
            big = tmp / "big.txt"
            with open(big, "w", encoding="utf-8") as handle:
                for i in range(0, args.big, len(batch)):
                    handle.write("\n".join(batch[: min(len(batch), args.big - i)]) + "\n")
            took_one = 0.0
            for label, extra, stdin in (
                ("stdin", ["-"], big),
                ("a path", [str(big)], None),
                ("a path, --out", [str(big), "--out", str(tmp / "out.jsonl")], None),
            ):
                took, rss = measure(["tag", "--lines", "-j", "1", "--model", str(model), *extra], stdin)
                took_one = took if label == "a path" else took_one
                rows.append(
                    (
                        f"peak memory, {args.big:,} lines from {label}",
                        f"{rss:,.0f} MiB ({args.big / took:,.0f}/s)",
                    )
                )
            # the same path with two workers: start-up and the workers' first batches (their word
            # caches fill) weigh less on a long run than on the 100,000 lines above
            took, rss = measure(["tag", "--lines", "-j", "2", "--model", str(model), str(big)], cores="0,1")
            rows.append(
                (
                    f"tag --lines -j 2 vs -j 1 on those {args.big:,} lines (a path)",
                    f"{took_one / took:.2f}x ({args.big / took:,.0f}/s, parent peak {rss:,.0f} MiB)",
                )
            )

        from nkclassify.train import train

        tfidf = tmp / "tfidf.nkmodel"
        train(corpus, tfidf, features="tfidf")
        took = median_run(["tag", "--lines", "-j", "1", "--model", str(tfidf)], lines)
        rows.append(
            ("tag --lines -j 1 with the tfidf model (bulk option)", f"{len(batch) / took:,.0f} sentences/s")
        )
        if shutil.which("fasttext"):
            rows.append(("fastText", "installed: compare with `fasttext predict-prob`"))
        else:
            rows.append(("fastText", "not installed"))


if __name__ == "__main__":
    main()
