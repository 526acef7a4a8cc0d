"""The ``nkclassify`` command line: a thin porch over the library.

Each command turns its arguments into values, calls one library function, and prints. Errors the
library raises on purpose (``NKError``) become one line on standard error and exit code 1.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from .errors import NKError

app = typer.Typer(
    help="Tag news sentences about North Korea's overseas workers and troops.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
dataset_app = typer.Typer(help="Validate and export the labelled data.", no_args_is_help=True)
app.add_typer(dataset_app, name="dataset")

T = TypeVar("T")

LabelsOpt = Annotated[
    Path | None, typer.Option("--labels", help="Labels folder (schema.json + one folder per source).")
]


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one line on standard error and return the exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def run(call: Callable[[], T]) -> T:
    """Call the library; turn its own errors and OS errors into one line and exit 1."""
    try:
        return call()
    except NKError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")) from None
    except Exception as exc:  # a bug, not bad input: still one line, with a way to see more
        if os.environ.get("NKCLASSIFY_DEBUG"):
            raise
        raise fail(
            f"unexpected {type(exc).__name__}: {exc} (set NKCLASSIFY_DEBUG=1 for the traceback)"
        ) from None


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain aligned text table (numbers right-aligned)."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [all(_is_number(row[i]) for row in rows) and rows for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        parts = [c.rjust(w) if numeric[i] else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        return "  ".join(parts).rstrip()

    out = [line(cells[0]), "  ".join("-" * w for w in widths)]
    out += [line(row) for row in cells[1:]]
    return "\n".join(out)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _labels(labels: Path | None) -> Path:
    from .dataset import DEFAULT_LABELS_DIR

    return labels or DEFAULT_LABELS_DIR


@dataset_app.command("check")
def dataset_check(labels: LabelsOpt = None) -> None:
    """Validate every label file and print how many units carry each label."""
    from .dataset import label_counts, validate

    corpus, errors = run(lambda: validate(_labels(labels)))
    if corpus is None:
        for error in errors:
            typer.echo(f"error: {error}", err=True)
        typer.echo(f"{len(errors)} error(s)", err=True)
        raise typer.Exit(1)
    rows = [(group, name, n) for group, counts in label_counts(corpus).items() for name, n in counts.items()]
    typer.echo(table(["group", "label", "units"], rows))
    typer.echo(f"ok: {len(corpus.units)} units in {len(corpus.docs)} articles")


@dataset_app.command("export")
def dataset_export(
    fmt: Annotated[str, typer.Option("--format", help="jsonl or parquet.")] = "jsonl",
    out: Annotated[
        Path | None, typer.Option("--out", help="Output file (default: stdout, jsonl only).")
    ] = None,
    labels: LabelsOpt = None,
) -> None:
    """Export the validated units as JSONL (stdout or --out) or Parquet (--out)."""
    from .dataset import export, load_corpus

    text = run(lambda: export(load_corpus(_labels(labels)), fmt, out))
    if text is not None:
        sys.stdout.write(text)


@dataset_app.command("scaffold")
def dataset_scaffold(
    articles: Annotated[list[Path], typer.Argument(help="Article .txt files inside a source folder.")],
    source: Annotated[str, typer.Option("--source", help="Source the articles belong to.")] = "written",
    labels: LabelsOpt = None,
) -> None:
    """Write an unlabelled label file for each article (labels of unchanged units are kept)."""
    from .dataset import scaffold

    for article in articles:
        out = run(lambda a=article: scaffold(a, _labels(labels), source))
        typer.echo(f"wrote {out}")


SeedOpt = Annotated[int, typer.Option("--seed", help="Seed for folds and solvers.")]


def _progress_bar(enabled: bool, total: int | None = None, unit: str = "step"):
    """A tqdm bar on standard error when it is a terminal; None otherwise (never in stdout)."""
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, file=sys.stderr, leave=False)


@app.command("train")
def train_cli(
    labels: LabelsOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="Model file (card written beside it).")] = None,
    seed: SeedOpt = 0,
    features: Annotated[
        str, typer.Option("--features", help="tfidf, tfidf+char, tfidf+static or tfidf+minilm.")
    ] = "tfidf",
    cv_folds: Annotated[
        int, typer.Option("--cv-folds", help="Grouped folds for the card's scores; 0 skips.")
    ] = 5,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on standard error.")] = False,
) -> None:
    """Train on all labelled data; write the model and its cards atomically."""
    from .dataset import load_corpus
    from .store import DEFAULT_MODEL_PATH
    from .train import train

    target = out or DEFAULT_MODEL_PATH
    bar = _progress_bar(not quiet)
    step = (lambda text: bar.set_description(text)) if bar else None
    card = run(lambda: train(load_corpus(_labels(labels)), target, features, seed, cv_folds, step))
    if bar:
        bar.close()
    typer.echo(
        f"wrote {target} ({card['n_units']} units, {card['n_articles']} articles, features {features})"
    )
    typer.echo("thresholds: " + ", ".join(f"{k} {v:.3f}" for k, v in card["thresholds"].items()))
    if "cv" in card:
        typer.echo(
            f"cross-validation ({card['cv']['scheme']}): "
            + ", ".join(f"{k} {v['mean']:.3f}±{v['std']:.3f}" for k, v in card["cv"]["summary"].items())
        )


@app.command("evaluate")
def evaluate_cli(
    labels: LabelsOpt = None,
    folds: Annotated[
        int, typer.Option("--folds", help="Grouped folds (leave-one-article-out if fewer articles).")
    ] = 5,
    repeats: Annotated[int, typer.Option("--repeats", help="Repeat CV with new fold seeds.")] = 1,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for report.md, report.json and PNG plots.")
    ] = Path("reports"),
    features: Annotated[
        str, typer.Option("--features", help="Comma-separated feature sets; first is main.")
    ] = "tfidf",
    seed: SeedOpt = 0,
    no_curve: Annotated[bool, typer.Option("--no-curve", help="Skip the learning curve (faster).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on standard error.")] = False,
) -> None:
    """Grouped cross-validation with baselines, learning curve, per-source and transfer scores."""
    from .dataset import load_corpus
    from .evaluate import evaluate
    from .report import comparison_rows, source_rows, stance_rows, summary_rows, topic_rows, write_report

    names = [f.strip() for f in features.split(",") if f.strip()]
    bar = _progress_bar(not quiet)
    step = (lambda text: bar.set_description(text)) if bar else None
    report = run(
        lambda: evaluate(
            load_corpus(_labels(labels)),
            names,
            folds,
            repeats,
            seed,
            with_learning_curve=not no_curve,
            progress=step,
        )
    )
    written = run(lambda: write_report(report, out))
    if bar:
        bar.close()
    main = report["main"]
    typer.echo(
        f"{main['scheme']} CV, {main['n_units']} units, {main['n_articles']} articles, "
        f"features {main['features']}\n"
    )
    typer.echo(table(["metric", "model", "majority", "stratified"], summary_rows(main)) + "\n")
    typer.echo(table(["topic", "precision", "recall", "F1", "support"], topic_rows(main)) + "\n")
    typer.echo(table(["stance", "precision", "recall", "F1", "support"], stance_rows(main)) + "\n")
    typer.echo(
        table(
            ["features", "topics micro", "topics macro", "stance macro", "F_avg", "sent/s", "size"],
            comparison_rows(report),
        )
        + "\n"
    )
    if report.get("transfer"):
        typer.echo(
            table(
                ["setting", "scheme", "test units", "topics micro", "topics macro", "stance macro", "F_avg"],
                source_rows(report),
            )
            + "\n"
        )
    typer.echo(f"report written to {out}/ ({', '.join(p.name for p in written)})")


@app.command("tag")
def tag_cli(
    paths: Annotated[
        list[str] | None, typer.Argument(help="Text files or folders (*.txt); '-' or none: stdin.")
    ] = None,
    lines: Annotated[
        bool, typer.Option("--lines", help="Each non-blank line is one unit (no splitting).")
    ] = False,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="table, jsonl or csv (default: table on a terminal, else jsonl)."),
    ] = None,
    model: Annotated[
        Path | None, typer.Option("--model", help="Model file (default: the shipped model).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write here (atomically) instead of stdout.")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Stop at the first unreadable input.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Tag every sentence of the given articles with topics and stance.

    Exit codes: 0 all inputs tagged; 1 fatal error (model, options, or a bad input with --strict);
    2 some inputs were skipped (each named on standard error).
    """
    from .fileio import atomic_write_text
    from .inputs import Problem
    from .output import FORMATS, csv_header, csv_rows, jsonl_lines, table_block
    from .tag import Tagger, summarise

    fmt = fmt or ("table" if sys.stdout.isatty() and out is None else "jsonl")
    if fmt not in FORMATS:
        raise fail(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")
    tagger = run(lambda: Tagger.load(model))
    for note in tagger.notes:
        typer.echo(f"note: {note}", err=True)
    sources = paths or ["-"]
    bar = _progress_bar(
        not quiet and (len(sources) > 1 or "-" in sources or any(Path(p).is_dir() for p in sources)),
        unit="unit",
    )
    chunks: list[str] = []
    emit = chunks.append if out else (lambda text: (sys.stdout.write(text), sys.stdout.flush()))
    if fmt == "csv":
        emit(csv_header(tagger.topic_names, tagger.stance_names))
    skipped = 0
    try:
        for result in tagger.tag_inputs(sources, sys.stdin.buffer, lines=lines):
            if isinstance(result, Problem):
                skipped += 1
                typer.echo(f"error: {result.source}: {result.message}", err=True)
                if strict:
                    raise typer.Exit(1)
                continue
            if result.note:
                typer.echo(f"warning: {result.source}: {result.note}", err=True)
            if bar:
                bar.update(len(result.units))
            if fmt == "jsonl":
                emit(jsonl_lines(result.units))
            elif fmt == "csv":
                emit(csv_rows(result.units, tagger.topic_names, tagger.stance_names))
            else:
                summary = summarise(result.units, tagger.topic_names, tagger.stance_names)
                emit(table_block(result.source, result.units, summary, width=_terminal_width()))
    except BrokenPipeError:  # the reader (head, less) went away: stop quietly
        sys.stderr.close()
        raise typer.Exit(0) from None
    finally:
        if bar:
            bar.close()
    if out:
        run(lambda: atomic_write_text(out, "".join(chunks)))
    if skipped:
        typer.echo(f"{skipped} input(s) skipped", err=True)
        raise typer.Exit(2)


def _terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((120, 24)).columns


@app.command("explain")
def explain_cli(
    sentence: Annotated[str, typer.Argument(help="The sentence to explain.")],
    model: Annotated[
        Path | None, typer.Option("--model", help="Model file (default: the shipped model).")
    ] = None,
    top: Annotated[int, typer.Option("--top", help="N-grams to show per label.")] = 8,
) -> None:
    """Show the n-grams that pushed each predicted topic and the stance."""
    from .output import explanation_text
    from .tag import Tagger

    if not sentence.strip():
        raise fail("the sentence is empty")
    tagger = run(lambda: Tagger.load(model))
    typer.echo(explanation_text(tagger.explain(sentence, top)), nl=False)
