"""The report files and the one table both the report and the terminal show."""

import io
import json

import pytest
from markdown_it import MarkdownIt
from rich.console import Console

from nkclassify.report import PLOT_FILES, markdown_table, render_markdown, table, write_report

HEADERS = ["setting", "topics | micro", "units"]
ROWS = [["CV [by event]", 0.6964, 6808], ["written -> seed", "-", 148], ["macro avg", "", 12]]


def parsed_tables(markdown: str) -> list[list[list[str]]]:
    """Every table of a Markdown text as rows of cell texts, read by a CommonMark parser with GFM tables."""
    tables, row = [], None
    for token in MarkdownIt("commonmark").enable("table").parse(markdown):
        if token.type == "table_open":
            tables.append([])
        elif token.type == "tr_open":
            row = []
            tables[-1].append(row)
        elif token.type == "inline" and row is not None:
            row.append(token.content)
        elif token.type == "table_close":
            row = None
    return tables


def test_markdown_table_is_a_gfm_table_with_every_row():
    (parsed,) = parsed_tables(markdown_table(HEADERS, ROWS))
    assert parsed == [
        HEADERS,  # the escaped "|" stays inside its cell
        ["CV [by event]", "0.696", "6808"],
        ["written -> seed", "-", "148"],
        ["macro avg", "", "12"],
    ]


def test_terminal_table_folds_but_never_cuts():
    wide, narrow = (Console(file=io.StringIO(), width=w, color_system=None) for w in (200, 24))
    for console in (wide, narrow):
        console.print(table(HEADERS, ROWS))
    text = wide.file.getvalue()
    assert all(h in text for h in HEADERS) and "CV [by event]" in text  # not read as rich markup
    lines = text.splitlines()
    assert lines[2].rstrip().endswith("0.696   6808")  # numbers right-aligned
    folded = narrow.file.getvalue()
    assert "…" not in folded and all(n in folded for n in ("6808", "148", "0.696"))


def test_every_report_table_has_its_rows(seed_report):
    markdown = render_markdown(seed_report)
    tables = parsed_tables(markdown)
    main = seed_report["main"]
    summary, topics, stance, confusion, comparison = tables[:5]
    assert summary[0] == ["metric", "model", "keyword rules", "majority baseline", "stratified baseline"]
    assert [r[0] for r in summary[1:]] == [
        "topics micro F1",
        "topics macro F1",
        "stance macro F1",
        "stance F_avg",
    ]
    assert summary[1][1] == "{mean:.3f} ± {std:.3f}".format(**main["summary"]["topics_micro_f1"])
    assert [r[0] for r in topics[1:]] == [*seed_report["topic_names"], "micro avg", "macro avg"]
    assert [r[0] for r in stance[1:-2]] == seed_report["stance_names"]
    assert [[int(c) for c in r[1:]] for r in confusion[1:]] == main["pooled"]["stance"]["confusion"]
    assert [r[0] for r in comparison[1:]] == ["tfidf"]
    curve = tables[-1]
    assert [int(r[0]) for r in curve[1:]] == [p["train_articles"] for p in seed_report["learning_curve"]]


def test_full_report_is_written(seed_report, tmp_path):
    assert seed_report["learning_curve"][-1]["train_articles"] == 4
    written = write_report(seed_report, tmp_path / "report")
    names = sorted(p.name for p in written)
    assert names == sorted(["report.md", "report.json", *PLOT_FILES])
    for path in written:
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "report" / "report.md").read_text() == render_markdown(seed_report)
    assert (
        json.loads((tmp_path / "report" / "report.json").read_text())["data_hash"] == seed_report["data_hash"]
    )


def test_report_failure_writes_nothing(seed_report, tmp_path, monkeypatch):
    import nkclassify.report as report_module

    def broken(_report):
        raise RuntimeError("plotting failed")

    monkeypatch.setattr(report_module, "render_plots", broken)
    out = tmp_path / "report"
    with pytest.raises(RuntimeError):
        write_report(seed_report, out)
    assert not out.exists() or not any(out.iterdir())
