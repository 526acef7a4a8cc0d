"""The ``nkclassify`` command line: a thin porch over the library.

Each command turns its arguments into values, calls one library function, and prints. Errors the
library raises on purpose (``NKError``) become one line on standard error and exit code 1.
"""

from __future__ import annotations

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
    out: Annotated[Path | None, typer.Option("--out", help="Output file (default: stdout, jsonl only).")] = None,
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


def main() -> None:  # pragma: no cover - console entry point alias
    app()
