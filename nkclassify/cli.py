"""The ``nkclassify`` command line: a thin porch over the library.

Each command turns its arguments into values, calls one library function, and prints. ``main`` is
the entry point: every error becomes one ``error:`` line and a documented exit code, never a
traceback, and SIGTERM unwinds like Ctrl-C so temporary files are removed.

Exit codes: 0 success; 1 fatal error (bad model, bad data, unreadable input with --strict, a
--jobs worker killed); 2 usage error (unknown option, bad value: click's convention); 3 some
inputs were skipped, each named on standard error, the rest done; 130/143 interrupted
(SIGINT/SIGTERM).
"""

# No ``from __future__ import annotations`` here: typer reads every command's annotations at each
# start, and strings would be compiled and evaluated anew each time (about 8 ms of every run).
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import suppress
from functools import partial
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from .errors import NKError
from .features import DEFAULT_FEATURES, FEATURE_SETS

EXIT_FATAL, EXIT_USAGE, EXIT_SKIPPED = 1, 2, 3

# typer prints a Python type after each argument's name ("PATH... <list[str]>"); the metavar says
# it better. Without rich the hook below is the only place that string comes from.
if hasattr(typer.core, "TyperArgument"):
    typer.core.TyperArgument.display_type_rich = lambda self, ctx: None  # type: ignore[method-assign]

app = typer.Typer(
    help="Tag news sentences about North Korea's overseas workers and troops.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
dataset_app = typer.Typer(help="Validate and export the labelled data.", no_args_is_help=True)
app.add_typer(dataset_app, name="dataset")

T = TypeVar("T")

LabelsOpt = Annotated[
    Path | None,
    typer.Option("--labels", metavar="DIR", help="Labels folder (schema.json + one folder per source)."),
]


def shown(name: object) -> str:
    """A file name safe for one terminal line: control characters and undecodable bytes escaped."""
    text = str(name)
    try:  # undecodable bytes of a file name come back as they were, shown as \xff
        text = os.fsencode(text).decode("utf-8", "backslashreplace")
    except UnicodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def fail(message: str, code: int = EXIT_FATAL) -> typer.Exit:
    """Print one line on standard error and return the exit to raise."""
    typer.echo(f"error: {shown(message)}", err=True)
    return typer.Exit(code)


def _version_line() -> str:
    from . import __version__

    line = f"nkclassify {__version__}"
    try:
        from .modelfile import read_model_file
        from .store import DEFAULT_MODEL_PATH, card_summary

        card = read_model_file(DEFAULT_MODEL_PATH)["meta"].get("card", {})
        line += f"\nshipped model: {card_summary(card)}"
    except NKError as exc:
        line += f"\nshipped model: unavailable ({exc})"
    return line


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and the shipped model.")
    ] = False,
) -> None:
    """Tag news sentences about North Korea's overseas workers and troops."""
    if version:
        typer.echo(_version_line())
        raise typer.Exit(0)
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)


def error_message(exc: Exception) -> str:
    """The one line an error becomes: the library's own message, an OS error's file and reason,
    or, for a bug, its type and a way to see the traceback."""
    if isinstance(exc, NKError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{shown(exc.filename or '')}: {exc.strerror or exc}".lstrip(": ")
    return f"unexpected {type(exc).__name__}: {exc} (set NKCLASSIFY_DEBUG=1 for the traceback)"


def run(call: Callable[[], T]) -> T:
    """Call the library; any error becomes one line and exit 1 (NKCLASSIFY_DEBUG=1 re-raises bugs)."""
    try:
        return call()
    except Exception as exc:
        if os.environ.get("NKCLASSIFY_DEBUG") and not isinstance(exc, (NKError, OSError)):
            raise
        raise fail(error_message(exc)) from None


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print ``report.table`` through rich: on a terminal bold headers and cells folded to its
    width; piped, plain text as wide as the rows need. Either way no number is ever cut."""
    from rich.console import Console

    from .report import table

    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = 100_000
    console.print(table(headers, rows))


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
    print_table(["group", "label", "units"], rows)
    typer.echo(f"ok: {len(corpus.units)} units in {len(corpus.docs)} articles")


@dataset_app.command("export")
def dataset_export(
    fmt: Annotated[str, typer.Option("--format", metavar="FORMAT", help="jsonl or parquet.")] = "jsonl",
    out: Annotated[
        Path | None, typer.Option("--out", metavar="PATH", help="Output file (default: stdout, jsonl only).")
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
    articles: Annotated[
        list[Path], typer.Argument(metavar="ARTICLE", help="Article .txt files inside a source folder.")
    ],
    source: Annotated[
        str, typer.Option("--source", metavar="NAME", help="Source the articles belong to.")
    ] = "written",
    labels: LabelsOpt = None,
) -> None:
    """Write an unlabelled label file for each article (labels of unchanged units are kept)."""
    from .dataset import scaffold

    for article in articles:
        out = run(lambda a=article: scaffold(a, _labels(labels), source))
        typer.echo(f"wrote {out}")


@dataset_app.command("correct")
def dataset_correct(
    corrections: Annotated[
        Path, typer.Argument(metavar="CORRECTIONS", help="JSONL of doc, index, text, old, new, rule, why.")
    ],
    labels: LabelsOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and count; write nothing.")] = False,
) -> None:
    """Apply a second pass's corrections to the label files (all or nothing; stale lines refused)."""
    from .dataset import apply_corrections

    counts = run(lambda: apply_corrections(corrections, _labels(labels), dry_run))
    verb = "would change" if dry_run else "changed"
    typer.echo(
        f"ok: {counts['changed']} label(s) {verb} in {counts['files']} file(s); "
        f"{counts['already']} already applied"
    )


SeedOpt = Annotated[int, typer.Option("--seed", metavar="N", help="Seed for folds and solvers.")]


def _progress_bar(enabled: bool, total: int | None = None, unit: str = "step"):
    """A tqdm bar on standard error when it is a terminal; None otherwise (never in stdout).

    Callers test ``bar is not None``: a tqdm bar of unknown length refuses ``bool()``.
    """
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    # no monitor thread: a signal then always reaches the main thread, where the --jobs pool holds
    # SIGINT and SIGTERM while it forks or reaps its workers (a second thread could take one then)
    tqdm.monitor_interval = 0
    return tqdm(total=total, unit=unit, file=sys.stderr, leave=False)


@app.command("train")
def train_cli(
    labels: LabelsOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="PATH",
            help="Model file, *.nkmodel (default: ./models/nkclassify.nkmodel; card beside it).",
        ),
    ] = None,
    seed: SeedOpt = 0,
    features: Annotated[
        str, typer.Option("--features", metavar="NAME", help="Feature set: " + ", ".join(FEATURE_SETS) + ".")
    ] = DEFAULT_FEATURES,
    cv_folds: Annotated[
        int, typer.Option("--cv-folds", metavar="K", help="Grouped folds for the card's scores; 0 skips.")
    ] = 5,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on standard error.")] = False,
) -> None:
    """Train on all labelled data; write the model and its cards atomically."""
    from .dataset import load_corpus
    from .evaluate import card_scores
    from .store import DEFAULT_OUT
    from .train import train

    target = out or DEFAULT_OUT
    bar = _progress_bar(not quiet)
    step = (lambda text: bar.set_description(text)) if bar is not None else None
    scorer = (lambda corpus, name, s: card_scores(corpus, name, cv_folds, s, step)) if cv_folds else None
    card = run(lambda: train(load_corpus(_labels(labels)), target, features, seed, scorer))
    if bar is not None:
        bar.close()
    typer.echo(
        f"wrote {target} ({card['n_units']} units, {card['n_articles']} articles, features {features})"
    )
    typer.echo("thresholds: " + ", ".join(f"{k} {v:.3f}" for k, v in card["thresholds"].items()))
    for key in ("cv_events", "cv"):
        if key in card:
            typer.echo(
                f"cross-validation ({card[key]['scheme']}): "
                + ", ".join(f"{k} {v['mean']:.3f}±{v['std']:.3f}" for k, v in card[key]["summary"].items())
            )


@app.command("evaluate")
def evaluate_cli(
    labels: LabelsOpt = None,
    folds: Annotated[
        int,
        typer.Option("--folds", metavar="K", help="Grouped folds (leave-one-article-out if fewer articles)."),
    ] = 5,
    repeats: Annotated[
        int, typer.Option("--repeats", metavar="R", help="Repeat CV with new fold seeds.")
    ] = 1,
    out: Annotated[
        Path, typer.Option("--out", metavar="PATH", help="Folder for report.md, report.json and PNG plots.")
    ] = Path("reports"),
    features: Annotated[
        str, typer.Option("--features", metavar="NAME", help="Comma-separated feature sets; first is main.")
    ] = DEFAULT_FEATURES,
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
    step = (lambda text: bar.set_description(text)) if bar is not None else None
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
    if bar is not None:
        bar.close()
    main = report["main"]
    typer.echo(
        f"{main['scheme']} CV, {main['n_units']} units, {main['n_articles']} articles, "
        f"features {main['features']}\n"
    )
    print_table(["metric", "model", "keywords", "majority", "stratified"], summary_rows(main))
    typer.echo()
    print_table(["topic", "precision", "recall", "F1", "support"], topic_rows(main))
    typer.echo()
    print_table(["stance", "precision", "recall", "F1", "support"], stance_rows(main))
    typer.echo()
    print_table(
        [
            "features",
            "topics micro",
            "topics macro",
            "stance macro",
            "F_avg",
            "seeds micro",
            "seeds F_avg",
            "sent/s",
            "size",
        ],
        comparison_rows(report),
    )
    typer.echo()
    if report.get("transfer"):
        print_table(
            ["setting", "scheme", "test units", "topics micro", "topics macro", "stance macro", "F_avg"],
            source_rows(report),
        )
        typer.echo()
    typer.echo(f"report written to {out}/ ({', '.join(p.name for p in written)})")


@app.command("tag")
def tag_cli(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="PATH",
            help="Files or folders (.txt .html .pdf .csv .tsv .jsonl); '-' or none: stdin.",
        ),
    ] = None,
    lines: Annotated[
        bool,
        typer.Option("--lines", help="Each non-blank line (or CSV/JSONL record) is one unit, no splitting."),
    ] = False,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help="table, jsonl, csv or html (default: table on a terminal, else jsonl).",
        ),
    ] = None,
    level: Annotated[
        str,
        typer.Option(
            "--level", metavar="LEVEL", help="unit (one row per sentence) or article (one row per document)."
        ),
    ] = "unit",
    input_format: Annotated[
        str | None,
        typer.Option(
            "--input-format",
            metavar="KIND",
            help="text, html, pdf, csv, tsv or jsonl (default: by extension).",
        ),
    ] = None,
    text_field: Annotated[
        str | None,
        typer.Option("--text-field", metavar="NAME", help="CSV/TSV column or JSONL key with the text."),
    ] = None,
    id_field: Annotated[
        str | None,
        typer.Option("--id-field", metavar="NAME", help="CSV/TSV column or JSONL key with the record id."),
    ] = None,
    model: Annotated[
        Path | None, typer.Option("--model", metavar="MODEL", help="Model file (default: the shipped model).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", metavar="PATH", help="Write here (atomically) instead of stdout.")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Stop at the first unreadable input.")] = False,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs", "-j", metavar="N", help="Worker processes (default: the cores available; 1: none)."
        ),
    ] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Tag every sentence of the given articles with topics and stance.

    Exit codes: 0 all inputs tagged; 1 fatal error (model, or a bad input with --strict);
    2 usage error; 3 some inputs or lines were skipped (each named on standard error).
    """
    from .fileio import open_atomic
    from .inputs import Problem
    from .output import LEVELS, WRITERS
    from .readers import READERS, ReadOptions
    from .tag import Tagger

    fmt = fmt or ("table" if sys.stdout.isatty() and out is None else "jsonl")
    if fmt not in WRITERS:
        raise fail(f"unknown format {fmt!r} (use {', '.join(WRITERS)})", EXIT_USAGE)
    if level not in LEVELS:
        raise fail(f"unknown level {level!r} (use {', '.join(LEVELS)})", EXIT_USAGE)
    if input_format is not None and input_format not in READERS:
        raise fail(f"unknown input format {input_format!r} (use {', '.join(READERS)})", EXIT_USAGE)
    options = ReadOptions(input_format, text_field, id_field)
    if jobs < 0:
        raise fail("--jobs must be 0 (all cores) or more", EXIT_USAGE)
    tagger = run(lambda: Tagger.load(model))
    writer = WRITERS[fmt](tagger.topic_names, tagger.stance_names, level, _terminal_width())
    sources = paths or ["-"]
    bar = _progress_bar(
        not quiet and (len(sources) > 1 or "-" in sources or any(Path(p).is_dir() for p in sources)),
        unit="unit",
    )
    skipped = 0
    sink = run(lambda: open_atomic(out)) if out else None
    stream = sink.handle if sink is not None else sys.stdout
    # nothing is read (and no worker started) before the first result is asked for
    results = tagger.tag_inputs(
        sources,
        sys.stdin.buffer,
        lines=lines,
        options=options,
        jobs=jobs,
        render=_in_bytes(writer, stream),
    )
    try:
        stream.write(writer.header())
        for result in results:
            if isinstance(result, Problem):
                skipped += 1
                typer.echo(f"error: {shown(result.source)}: {result.message}", err=True)
                if strict:
                    raise typer.Exit(EXIT_FATAL)
                continue
            if result.note:
                typer.echo(f"warning: {shown(result.source)}: {result.note}", err=True)
            if not len(result):
                continue
            if bar is not None:
                bar.update(len(result))
            text = writer.write(result)
            if isinstance(text, bytes):  # encoded by a worker as the stream would: straight to its bytes
                stream.flush()
                stream.buffer.write(text)
            else:
                stream.write(text)
            if sink is None:
                stream.flush()
        stream.write(writer.footer())
        if sink is not None:
            run(sink.commit)
    except BrokenPipeError:  # the reader (head, less) went away: stop quietly
        sys.stderr.close()
        raise typer.Exit(0) from None
    finally:
        try:  # --jobs workers end and are reaped now, on every way out, not when the collector gets to it
            results.close()
        finally:
            if bar is not None:
                bar.close()
            if sink is not None:
                sink.discard()
    if skipped:
        typer.echo(f"{skipped} input(s) or line(s) skipped", err=True)
        raise typer.Exit(EXIT_SKIPPED)


def _in_bytes(writer, stream) -> Callable | None:
    """The writer's renderer, encoding to the bytes ``stream`` would write (for ``--jobs`` workers:
    the parent then passes their bytes on without decoding and encoding them again); the plain
    renderer when the stream is not a UTF-8 text stream over a byte buffer."""
    import codecs

    render = writer.renderer()
    encoding = getattr(stream, "encoding", None)
    if render is None or not hasattr(stream, "buffer") or encoding is None or os.linesep != "\n":
        return render
    try:
        if codecs.lookup(encoding).name != "utf-8":
            return render
    except LookupError:
        return render
    return partial(_encoded, render, stream.errors or "strict")


def _encoded(render: Callable, errors: str, document) -> bytes:
    return render(document).encode("utf-8", errors)


def _terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((120, 24)).columns


@app.command("explain")
def explain_cli(
    sentence: Annotated[
        str,
        typer.Argument(
            metavar="SENTENCE", help="The sentence to explain ('-': read it from standard input)."
        ),
    ],
    model: Annotated[
        Path | None, typer.Option("--model", metavar="MODEL", help="Model file (default: the shipped model).")
    ] = None,
    top: Annotated[int, typer.Option("--top", metavar="N", help="N-grams to show per label.")] = 8,
) -> None:
    """Show the n-grams that pushed each predicted topic and the stance."""
    from .errors import InputError
    from .inputs import read_unit
    from .output import explanation_text
    from .tag import Tagger

    if sentence == "-":  # as tag reads it: the whole of standard input, one unit
        try:
            sentence, note = read_unit(sys.stdin.buffer)
        except InputError as exc:
            raise fail(str(exc), EXIT_USAGE) from None
        if note:
            typer.echo(f"warning: standard input: {note}", err=True)
    if not sentence.strip():
        raise fail("the sentence is empty", EXIT_USAGE)
    tagger = run(lambda: Tagger.load(model))
    typer.echo(explanation_text(run(lambda: tagger.explain(sentence, top))), nl=False)


# glibc's mallopt parameters
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def keep_freed_memory() -> bool:
    """Fix glibc's heap thresholds so memory freed between batches is kept for the next one.

    By default glibc tunes its thresholds itself and gives the top of the heap back to the kernel
    once twice the largest freed mapping is free there. Each batch of 2,048 units frees some 15 MB
    of arrays and strings, more than that, so every batch handed its pages back and faulted them in
    again: 160,000 page faults on 100,000 lines, and 15% of the run. With fixed thresholds
    (arrays up to 32 MB from the heap, trimmed past 64 MB free) the pages stay: about 20,000 faults,
    and peak memory barely moves. Process-wide, so only the entry point calls it. False where there
    is no glibc ``mallopt`` (macOS, Windows, musl's does nothing), which changes nothing else.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(_M_MMAP_THRESHOLD, 32 << 20)) and bool(mallopt(_M_TRIM_THRESHOLD, 64 << 20))


class _Interrupted(BaseException):
    """Ctrl-C, as main's SIGINT handler raises it: typer turns a KeyboardInterrupt into a silent
    exit 130 before main could say what happened, and lets anything else through."""


def main() -> None:
    """Console entry point: the app inside one error handler; SIGTERM and Ctrl-C unwind cleanly."""
    import signal

    # The command line's matrix products are small ((2,048 x 256) by (256 x 8) at most): BLAS
    # threads only spin against each other and against --jobs workers (two workers of two threads
    # each ran no faster than one job on two cores), so the process runs one unless the user's
    # environment says otherwise. numpy reads these when it is first imported, which is later.
    for threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(threads, "1")
    keep_freed_memory()

    def terminated(signum, frame):  # unwind (finally blocks remove temporary files), then exit 143
        raise SystemExit(128 + signum)

    def interrupted(signum, frame):  # unwind the same way, then one error line and exit 130
        raise _Interrupted

    signal.signal(signal.SIGTERM, terminated)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when Ctrl-C is ignored
        signal.signal(signal.SIGINT, interrupted)
    try:
        app()
    except (KeyboardInterrupt, _Interrupted):
        typer.echo("error: interrupted", err=True)
        raise SystemExit(130) from None
    except BrokenPipeError:
        raise SystemExit(0) from None
    except Exception as exc:  # anything the commands did not catch: still one line
        if os.environ.get("NKCLASSIFY_DEBUG") and not isinstance(exc, (NKError, OSError)):
            raise
        typer.echo(f"error: {shown(error_message(exc))}", err=True)
        raise SystemExit(EXIT_FATAL) from None


def entry() -> None:
    """The console script and ``python -m nkclassify``: ``main``, then out without the
    interpreter's teardown.

    Freeing every module and object one by one took 25-65 ms of each run, a tenth of start-up;
    the operating system takes the memory back at once. Nothing else is skipped: at-exit handlers
    run and the standard streams are flushed (a failed flush is one ``error:`` line and exit 1; a
    reader that went away keeps the exit code, as in ``main``), and no thread of ours outlives its
    command. ``main`` itself still raises ``SystemExit`` for callers that run it in-process.
    """
    import atexit

    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    if code is not None and not isinstance(code, int):  # as Python does with SystemExit("text")
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # the reader has gone (``| head``): what it wanted it had
        pass
    except (OSError, ValueError) as exc:
        if code != EXIT_FATAL:  # a failed command has said why (a full disk: its output failed first)
            with suppress(OSError, ValueError):
                print(f"error: {shown(error_message(exc))}", file=sys.stderr)
            code = EXIT_FATAL
    with suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(code or 0)
