"""Turn an evaluation (a plain dict from ``evaluate``) into tables, Markdown, JSON and PNG plots.

Everything is rendered in memory first; files are then written one by one, each atomically, so a
failure while plotting leaves the report folder as it was.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .fileio import atomic_write, atomic_write_text

__all__ = ["table", "markdown_table", "render_markdown", "render_plots", "write_report", "PLOT_FILES"]

PLOT_FILES = ("stance_confusion.png", "topic_confusion.png", "learning_curve.png", "baselines.png")
_NAMES = {
    "topics_micro_f1": "topics micro F1",
    "topics_macro_f1": "topics macro F1",
    "stance_macro_f1": "stance macro F1",
    "stance_f_avg": "stance F_avg",
}


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], markdown: bool = False):
    """The package's one table (a ``rich.table.Table``): the terminal prints it, the report renders
    it as Markdown. Numbers are right-aligned and never cut: a narrow terminal folds cells."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    def cell(value: Any) -> Text:  # Text, so "[...]" in a label is not read as rich markup
        text = _fmt(value)
        return Text(text.replace("|", "\\|") if markdown else text)

    numeric = [  # right-aligned: numbers, with "" or "-" where a row has none
        any(_is_number(row[i]) for row in rows)
        and all(_is_number(row[i]) or row[i] in ("", "-") for row in rows)
        for i in range(len(headers))
    ]
    result = Table(
        box=box.MARKDOWN if markdown else box.SIMPLE_HEAD,
        show_edge=markdown,
        pad_edge=markdown,
        padding=(0, 1) if markdown else (0, 1, 0, 0),
        highlight=False,
    )
    for header, is_number in zip(headers, numeric):
        result.add_column(cell(header), justify="right" if is_number else "left", overflow="fold")
    for row in rows:
        result.add_row(*(cell(v) for v in row))
    return result


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """``table`` as a GitHub Markdown table (rich's Markdown box, no colour, never wrapped)."""
    from rich.console import Console

    console = Console(file=io.StringIO(), width=100_000, color_system=None, force_terminal=False)
    console.print(table(headers, rows, markdown=True))
    return "\n".join(line.rstrip() for line in console.file.getvalue().splitlines() if line.strip())


def _margin_lines(run: dict[str, Any]) -> list[str]:
    """One sentence on the model's lead over the keyword rules, with its bootstrap interval."""
    m = run.get("versus_keywords")
    if not m:
        return []
    return [
        f"Margin over the keyword rules, topic micro-F1 of the pooled predictions: {m['diff']:+.3f} "
        f"(95% interval {m['low']:+.3f} to {m['high']:+.3f}, {m['resamples']} resamples of the "
        f"{m['units']} {m['by']} groups; model ahead in {m['share_above_zero']:.0%} of them).",
        "",
    ]


def summary_rows(run: dict[str, Any]) -> list[list[Any]]:
    """Model and baselines, mean ± std across folds, one row per metric."""
    rows = []
    for key, label in _NAMES.items():
        row = [label, f"{run['summary'][key]['mean']:.3f} ± {run['summary'][key]['std']:.3f}"]
        for baseline in ("keywords", "majority", "stratified"):
            stats = run["baselines"].get(baseline, {}).get(key)
            if stats is None:
                row.append("-")
                continue
            row.append(f"{stats['mean']:.3f} ± {stats['std']:.3f}")
        rows.append(row)
    return rows


def _prf_rows(per_label: dict[str, dict[str, Any]], totals: list[tuple[str, float]]) -> list[list[Any]]:
    rows = [[name, m["precision"], m["recall"], m["f1"], m["support"]] for name, m in per_label.items()]
    return rows + [[name, "", "", value, ""] for name, value in totals]


def topic_rows(run: dict[str, Any]) -> list[list[Any]]:
    topics = run["pooled"]["topics"]
    return _prf_rows(
        topics["per_topic"], [("micro avg", topics["micro_f1"]), ("macro avg", topics["macro_f1"])]
    )


def stance_rows(run: dict[str, Any]) -> list[list[Any]]:
    stance = run["pooled"]["stance"]
    return _prf_rows(
        stance["per_class"], [("macro F1", stance["macro_f1"]), ("F_avg (favor, against)", stance["f_avg"])]
    )


def comparison_rows(report: dict[str, Any]) -> list[list[Any]]:
    return [
        [
            c["features"],
            c["topics_micro_f1"],
            c["topics_macro_f1"],
            c["stance_macro_f1"],
            c["stance_f_avg"],
            c.get("seeds_topics_micro_f1", "-"),
            c.get("seeds_stance_f_avg", "-"),
            f"{c['predict_sentences_per_s']:,.0f}",
            f"{c['model_bytes'] / 1e6:.1f} MB",
        ]
        for c in report["comparison"]
    ]


def source_rows(report: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for source, run in report.get("by_source", {}).items():
        s = run["summary"]
        rows.append([f"CV within {source}", run["scheme"], run["n_units"], *(s[k]["mean"] for k in _NAMES)])
    if report.get("article_cv"):
        run = report["article_cv"]
        rows.insert(
            0,
            [
                "CV grouped by article (all)",
                run["scheme"],
                run["n_units"],
                *(run["summary"][k]["mean"] for k in _NAMES),
            ],
        )
    for t in report.get("transfer", []):
        if t.get("keywords"):
            rows.append(
                [
                    f"keyword rules on {t['test']}",
                    "no training",
                    t["n_test"],
                    *(t["keywords"][k] for k in _NAMES),
                ]
            )
        rows.append(
            [
                f"train {t['train']} -> test {t['test']}",
                "all -> all",
                t["n_test"],
                *(t["summary"][k] for k in _NAMES),
            ]
        )
    return rows


def curve_rows(report: dict[str, Any]) -> list[list[Any]]:
    return [[p["train_articles"], *(p[k] for k in _NAMES)] for p in report.get("learning_curve", [])]


def render_markdown(report: dict[str, Any]) -> str:
    main = report["main"]
    metric_headers = list(_NAMES.values())
    parts = [
        "# nkclassify evaluation",
        "",
        f"Features `{main['features']}`; {main['scheme']} cross-validation "
        f"({main['folds']} folds x {main['repeats']} repeat(s), seed {report['seed']}; no "
        f"{main.get('group_by', 'article')} on both sides of a split); "
        f"{main['n_units']} units in {main['n_articles']} articles; data hash `{report['data_hash'][:12]}`. "
        "Every choice made inside a fit (thresholds, stacked topic probabilities) uses the training fold only.",
        "",
        "## Summary (mean ± std across folds)",
        "",
        markdown_table(
            ["metric", "model", "keyword rules", "majority baseline", "stratified baseline"],
            summary_rows(main),
        ),
        "",
        *_margin_lines(main),
        "## Topics (pooled out-of-fold predictions, first repeat)",
        "",
        markdown_table(["topic", "precision", "recall", "F1", "support"], topic_rows(main)),
        "",
        "## Stance",
        "",
        markdown_table(["stance", "precision", "recall", "F1", "support"], stance_rows(main)),
        "",
        "Confusion (rows true, columns predicted):",
        "",
        markdown_table(
            ["true \\ predicted", *main["pooled"]["stance"]["labels"]],
            [
                [name, *row]
                for name, row in zip(
                    main["pooled"]["stance"]["labels"], main["pooled"]["stance"]["confusion"]
                )
            ],
        ),
        "",
        "## Feature sets on the same folds",
        "",
        markdown_table(
            [
                "features",
                *metric_headers,
                "seeds: topics micro",
                "seeds: F_avg",
                "predict sentences/s",
                "model size",
            ],
            comparison_rows(report),
        ),
    ]
    if report.get("by_source") or report.get("transfer"):
        parts += [
            "",
            "## By source and transfer",
            "",
            markdown_table(["setting", "scheme", "test units", *metric_headers], source_rows(report)),
        ]
    if report.get("learning_curve"):
        parts += [
            "",
            "## Learning curve (mean over the same test folds)",
            "",
            markdown_table(["training articles", *metric_headers], curve_rows(report)),
            "",
            "![learning curve](learning_curve.png)",
        ]
    parts += [
        "",
        "![stance confusion](stance_confusion.png) ![topic confusion](topic_confusion.png)",
        "![model vs baselines](baselines.png)",
        "",
    ]
    return "\n".join(parts)


def render_plots(report: dict[str, Any]) -> dict[str, bytes]:
    """The report's figures as PNG bytes, keyed by file name."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    main = report["main"]
    images: dict[str, bytes] = {}

    def save(fig, name: str) -> None:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
        plt.close(fig)
        images[name] = buffer.getvalue()

    from sklearn.metrics import ConfusionMatrixDisplay

    stance = main["pooled"]["stance"]
    fig, ax = plt.subplots(figsize=(4.2, 3.6))
    ConfusionMatrixDisplay(np.array(stance["confusion"]), display_labels=stance["labels"]).plot(
        ax=ax, cmap="Blues", colorbar=False
    )
    ax.set_title("Stance confusion (out-of-fold)")
    save(fig, "stance_confusion.png")

    per_topic = main["pooled"]["topics"]["per_topic"]
    names = list(per_topic)
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    x = np.arange(len(names))
    for offset, key, color in ((-0.27, "tp", "tab:green"), (0, "fp", "tab:orange"), (0.27, "fn", "tab:red")):
        ax.bar(x + offset, [per_topic[n][key] for n in names], width=0.27, label=key.upper(), color=color)
    ax.set_xticks(x, names, rotation=20)
    ax.set_ylabel("units")
    ax.set_title("Per-topic confusion counts (out-of-fold)")
    ax.legend()
    save(fig, "topic_confusion.png")

    curve = report.get("learning_curve", [])
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for key in ("topics_micro_f1", "stance_macro_f1"):
        if curve:
            sizes = [p["train_articles"] for p in curve]
            ax.errorbar(
                sizes,
                [p[key] for p in curve],
                yerr=[p[f"{key}_std"] for p in curve],
                marker="o",
                capsize=3,
                label=_NAMES[key],
            )
    ax.set_xscale("log")
    ax.set_xlabel("training articles")
    ax.set_ylabel("score on held-out articles")
    ax.set_ylim(0, 1)
    ax.set_title("Learning curve" if curve else "Learning curve (not computed)")
    if curve:
        ax.legend()
    save(fig, "learning_curve.png")

    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    keys = list(_NAMES)
    x = np.arange(len(keys))
    series = [("model", main["summary"])]
    series += [
        (name, main["baselines"][name])
        for name in ("keywords", "majority", "stratified")
        if name in main["baselines"]
    ]
    width = 0.8 / len(series)
    for i, (label, stats) in enumerate(series):
        ax.bar(
            x + (i - (len(series) - 1) / 2) * width,
            [stats[k]["mean"] for k in keys],
            width=width,
            yerr=[stats[k]["std"] for k in keys],
            capsize=2,
            label=label,
        )
    ax.set_xticks(x, [_NAMES[k] for k in keys], rotation=15)
    ax.set_ylim(0, 1)
    ax.set_title("Model vs baselines (mean ± std across folds)")
    ax.legend()
    save(fig, "baselines.png")
    return images


def write_report(report: dict[str, Any], out_dir: Path) -> list[Path]:
    """Render everything, then write report.md, report.json and the PNGs into ``out_dir``."""
    out_dir = Path(out_dir)
    files: dict[str, bytes] = {
        "report.json": (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode(),
        "report.md": render_markdown(report).encode(),
        **render_plots(report),
    }
    written = []
    for name, content in files.items():
        path = out_dir / name
        if name.endswith(".png"):
            atomic_write(path, lambda tmp, c=content: tmp.write_bytes(c))
        else:
            atomic_write_text(path, content.decode())
        written.append(path)
    return written
