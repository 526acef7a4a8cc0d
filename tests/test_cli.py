"""The command line driven as a user would, through typer's CliRunner."""

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from nkclassify.cli import app

runner = CliRunner()
KEYS = ["source", "index", "start", "end", "text", "topics", "stance", "scores"]


def invoke(*args, stdin: bytes | None = None):
    return runner.invoke(app, [str(a) for a in args], input=stdin)


def one_line_error(result, code: int, fragment: str) -> None:
    assert result.exit_code == code, result.output
    assert fragment in result.stderr
    assert "Traceback" not in result.output + result.stderr


@pytest.fixture
def articles(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "b.txt").write_text(
        "Workers sent home\n\nThe workers left Vladivostok. They flew to Pyongyang.\n"
    )
    (folder / "a.txt").write_text("Two soldiers fled their base in Moscow.\n")
    return folder


def test_help_lists_every_command():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("train", "evaluate", "tag", "explain", "dataset"):
        assert command in result.stdout


@pytest.fixture
def piped(monkeypatch):
    """Standard output is not a terminal, and nothing in the environment forces colour."""
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "40")  # a terminal this narrow would fold cells; a pipe must not


def test_dataset_check_ok_and_broken(tiny_corpus, piped):
    from nkclassify.dataset import label_counts, load_corpus

    result = invoke("dataset", "check", "--labels", tiny_corpus)
    assert result.exit_code == 0 and "ok: 8 units in 2 articles" in result.stdout
    assert "\x1b" not in result.stdout
    lines = [line.split() for line in result.stdout.splitlines()]
    assert lines[0] == ["group", "label", "units"]
    counts = label_counts(load_corpus(tiny_corpus))
    rows = [[*group.split(), name, str(n)] for group, c in counts.items() for name, n in c.items()]
    assert lines[2 : 2 + len(rows)] == rows
    (tiny_corpus / "seed" / "beta.jsonl").write_text('{"index": 0,\n')
    one_line_error(invoke("dataset", "check", "--labels", tiny_corpus), 1, "beta.jsonl:1: malformed JSON")


def test_dataset_export_jsonl_to_stdout_and_parquet(tiny_corpus, tmp_path):
    result = invoke("dataset", "export", "--labels", tiny_corpus)
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 8 and {"doc", "index", "text", "topics", "stance"} <= set(rows[0])
    out = tmp_path / "d.parquet"
    assert (
        invoke("dataset", "export", "--labels", tiny_corpus, "--format", "parquet", "--out", out).exit_code
        == 0
    )
    assert out.stat().st_size > 0
    one_line_error(
        invoke("dataset", "export", "--labels", tiny_corpus, "--format", "parquet"), 1, "needs an output file"
    )


def test_tag_jsonl_follows_the_schema(seed_model, articles):
    result = invoke("tag", articles, "--model", seed_model, "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["source"].rsplit("/", 1)[-1] for r in rows] == ["a.txt", "b.txt", "b.txt", "b.txt"]
    assert [r["index"] for r in rows] == [0, 0, 1, 2]
    for row in rows:
        assert list(row) == KEYS
        assert list(row["scores"]) == ["topics", "stance"]
        assert set(row["scores"]["stance"]) == {"against", "favor", "none"}
        assert row["stance"] in row["scores"]["stance"]


def test_tag_stdin_lines_csv_and_table(seed_model):
    text = b"The workers were sent home.\n\nSoldiers fled.\n"
    lines = invoke("tag", "--model", seed_model, "--lines", "--format", "jsonl", stdin=text)
    assert [json.loads(x)["text"] for x in lines.stdout.splitlines()] == [
        "The workers were sent home.",
        "Soldiers fled.",
    ]
    dash = invoke("tag", "-", "--model", seed_model, "--format", "csv", stdin=b"One. Two.")
    rows = list(csv.DictReader(io.StringIO(dash.stdout)))
    assert [r["text"] for r in rows] == ["One.", "Two."] and rows[0]["source"] == "-"
    assert "topic_defection" in rows[0] and "stance_favor" in rows[0]
    table = invoke("tag", "--model", seed_model, "--format", "table", stdin=b"Soldiers fled their base.")
    assert (
        "== -" in table.stdout
        and "stance (sentences):" in table.stdout
        and "share of sentences" in table.stdout
    )


def test_tag_out_file(seed_model, articles, tmp_path):
    out = tmp_path / "tags.jsonl"
    result = invoke("tag", articles / "a.txt", "--model", seed_model, "--format", "jsonl", "--out", out)
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(out.read_text().splitlines()[0])["text"] == "Two soldiers fled their base in Moscow."


def test_bad_inputs_are_skipped_and_good_ones_tagged(seed_model, articles, tmp_path):
    (articles / "empty.txt").write_text("")
    (articles / "image.txt").write_bytes(b"\x89PNG\0\0\0binary")
    (articles / "latin.txt").write_bytes("Kim’s workers fled.".encode("cp1252"))
    (articles / "long.txt").write_text("x" * 200_000)
    result = invoke("tag", articles, tmp_path / "missing.txt", "--model", seed_model, "--format", "jsonl")
    assert result.exit_code == 3
    sources = {json.loads(x)["source"].rsplit("/", 1)[-1] for x in result.stdout.splitlines()}
    assert sources == {"a.txt", "b.txt", "latin.txt"}
    for fragment in (
        "empty.txt: empty file",
        "image.txt: binary file",
        "long.txt: a line of 200,000",
        "missing.txt: no such file",
        "latin.txt: not UTF-8",
        "4 input(s) or line(s) skipped",
    ):
        assert fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_strict_stops_at_first_bad_input(seed_model, articles):
    (articles / "0-empty.txt").write_text(" ")
    one_line_error(invoke("tag", articles, "--model", seed_model, "--strict"), 1, "0-empty.txt: empty file")


def test_empty_folder_and_unknown_format(seed_model, tmp_path):
    one_line_error(invoke("tag", tmp_path, "--model", seed_model), 3, "folder has no files of a known kind")
    one_line_error(
        invoke("tag", "--model", seed_model, "--format", "xml", stdin=b"x"), 2, "unknown format 'xml'"
    )


def test_corrupt_missing_or_pickled_model(seed_model, tmp_path):
    (tmp_path / "m.nkmodel").write_bytes(seed_model.read_bytes()[:-50])
    one_line_error(invoke("tag", "--model", tmp_path / "m.nkmodel", stdin=b"x"), 1, "damaged model file")
    one_line_error(invoke("tag", "--model", tmp_path / "none.nkmodel", stdin=b"x"), 1, "model file not found")
    (tmp_path / "old.joblib").write_bytes(b"\x80\x04K\x01.")
    one_line_error(invoke("explain", "--model", tmp_path / "old.joblib", "x"), 1, "retrain")


def test_explain(seed_model):
    result = invoke(
        "explain", "--model", seed_model, "Two soldiers fled their base and were imprisoned for defection."
    )
    assert result.exit_code == 0
    assert "sentence: Two soldiers" in result.stdout and "stance " in result.stdout and "p=" in result.stdout
    one_line_error(invoke("explain", "--model", seed_model, "  "), 2, "sentence is empty")
    # '-' reads the sentence from standard input, as tag does
    piped = invoke(
        "explain", "--model", seed_model, "-", stdin="\ufeffTwo soldiers fled their base.\r\n".encode()
    )
    assert (
        piped.exit_code == 0
        and piped.stdout == invoke("explain", "--model", seed_model, "Two soldiers fled their base.").stdout
    )
    one_line_error(invoke("explain", "--model", seed_model, "-", stdin=b"\x81\x8d bad"), 2, "not UTF-8")
    # Windows-1252, as tag decodes such a file: explained, with a warning
    sentence = "Two soldiers fled the café \u2014 and their base."
    legacy = invoke("explain", "--model", seed_model, "-", stdin=sentence.encode("cp1252"))
    assert (
        legacy.exit_code == 0 and legacy.stdout == invoke("explain", "--model", seed_model, sentence).stdout
    )
    assert "warning: standard input: not UTF-8" in legacy.stderr
    one_line_error(invoke("explain", "--model", seed_model, "-", stdin=b" \n"), 2, "sentence is empty")


def test_train_and_evaluate_end_to_end(seed_labels, tmp_path, piped):
    model = tmp_path / "model" / "m.nkmodel"
    result = invoke("train", "--labels", seed_labels, "--out", model, "--cv-folds", "0")
    assert result.exit_code == 0, result.stderr
    assert model.exists() and model.with_suffix(".md").exists()
    assert invoke("tag", "--model", model, stdin=b"Workers fled.").exit_code == 0
    report = tmp_path / "report"
    result = invoke("evaluate", "--labels", seed_labels, "--out", report, "--no-curve", "--features", "tfidf")
    assert result.exit_code == 0, result.stderr
    assert "leave-one-article-out" in result.stdout and "\x1b" not in result.stdout
    lines = [line.split() for line in result.stdout.splitlines()]
    assert ["metric", "model", "keywords", "majority", "stratified"] in lines
    header = next(i for i, line in enumerate(lines) if line[:1] == ["features"])
    assert lines[header][-3:] == ["F_avg", "sent/s", "size"]  # 40 columns, and still one line each
    assert lines[header + 2][0] == "tfidf" and lines[header + 2][-1] == "MB"
    assert (report / "report.md").exists() and (report / "stance_confusion.png").exists()


def test_evaluate_errors_write_nothing(tiny_corpus, tmp_path):
    out = tmp_path / "report"
    one_line_error(invoke("evaluate", "--labels", tiny_corpus, "--folds", "1", "--out", out), 1, "at least 2")
    one_line_error(
        invoke("evaluate", "--labels", tmp_path / "nolabels", "--out", out), 1, "schema file not found"
    )
    one_line_error(
        invoke("evaluate", "--labels", tiny_corpus, "--features", "bert", "--out", out),
        1,
        "unknown feature set",
    )
    assert not out.exists()
    (tiny_corpus / "seed" / "alpha.jsonl").write_text('{"index": 0}\n')
    one_line_error(
        invoke("train", "--labels", tiny_corpus, "--out", tmp_path / "m.nkmodel"), 1, "alpha.jsonl:1:"
    )
    assert not (tmp_path / "m.nkmodel").exists()


def test_train_writes_into_the_current_folder_never_the_package(tiny_corpus, tmp_path, monkeypatch):
    from nkclassify.store import DEFAULT_MODEL_PATH

    before = DEFAULT_MODEL_PATH.read_bytes()
    monkeypatch.chdir(tmp_path)
    result = invoke("train", "--labels", tiny_corpus, "--cv-folds", "0")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "models" / "nkclassify.nkmodel").exists()
    assert DEFAULT_MODEL_PATH.read_bytes() == before
    one_line_error(
        invoke("train", "--labels", tiny_corpus, "--out", tmp_path / "m.md"), 1, "must end in .nkmodel"
    )


def test_usage_errors_have_their_own_exit_code(seed_model):
    assert invoke("tag", "--no-such-option").exit_code == 2
    assert invoke("evaluate", "--folds", "many").exit_code == 2
    help_text = invoke("tag", "--help").stdout
    assert "<bool>" not in help_text and "list[str]" not in help_text


def test_version_names_the_package_and_the_shipped_model():
    from nkclassify import __version__

    result = invoke("--version")
    assert result.exit_code == 0 and f"nkclassify {__version__}" in result.stdout
    assert "shipped model: features" in result.stdout


def test_article_level_in_every_format(seed_model, articles):
    rows = [
        json.loads(x)
        for x in invoke("tag", articles, "--model", seed_model, "--level", "article").stdout.splitlines()
    ]
    assert [r["source"].rsplit("/", 1)[-1] for r in rows] == ["a.txt", "b.txt"]
    b = rows[1]
    assert b["units"] == 3 and set(b["topics"]) == {
        "repatriation",
        "defection",
        "sanctions",
        "recruitment",
        "finances",
    }
    assert sum(b["stance"].values()) == 3
    for topic, entry in b["topics"].items():
        assert entry["share_of_sentences"] == round(entry["sentences"] / 3, 4)
        assert len(b["evidence"][topic]) == min(entry["sentences"], 3)
    table = invoke("tag", articles, "--model", seed_model, "--level", "article", "--format", "table").stdout
    assert "(3 sentences)" in table and "share of sentences" in table
    csv_rows = list(
        csv.DictReader(
            io.StringIO(
                invoke("tag", articles, "--model", seed_model, "--level", "article", "--format", "csv").stdout
            )
        )
    )
    assert [r["units"] for r in csv_rows] == ["1", "3"] and "defection_share_of_sentences" in csv_rows[0]
    one_line_error(invoke("tag", articles, "--model", seed_model, "--level", "page"), 2, "unknown level")


def test_csv_column_ids_reach_every_row(seed_model, tmp_path):
    table = tmp_path / "texts.csv"
    table.write_text('ref,body\nA1,"Workers fled. They sought asylum."\nA2,Sent home.\n')
    result = invoke("tag", table, "--model", seed_model, "--text-field", "body", "--id-field", "ref")
    rows = [json.loads(x) for x in result.stdout.splitlines()]
    assert [(r["id"], r["text"]) for r in rows] == [
        ("A1", "Workers fled."),
        ("A1", "They sought asylum."),
        ("A2", "Sent home."),
    ]
    assert list(rows[0])[:5] == ["source", "id", "index", "start", "end"]
    missing = invoke("tag", table, "--model", seed_model)
    one_line_error(missing, 3, "needs the name of its text field")
    one_line_error(
        invoke("tag", table, "--model", seed_model, "--input-format", "docx"), 2, "unknown input format"
    )


def test_html_report_is_one_self_contained_page(seed_model, articles, tmp_path):
    out = tmp_path / "report.html"
    (articles / "c.txt").write_text("<script>alert(1)</script> & workers fled.")
    result = invoke("tag", articles, "--model", seed_model, "--format", "html", "--out", out)
    assert result.exit_code == 0, result.stderr
    page = out.read_text()
    assert page.startswith("<!doctype html>") and page.count("<article>") == 3
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'class="ft"' in page and 'class="fs"' in page and "of sentences" in page
    assert "http://" not in page and "https://" not in page  # nothing loaded from the network


def test_one_bad_line_costs_one_line_and_leaves_a_visible_gap(seed_model):
    good = b"".join(b"Workers fled the site.\n" for _ in range(6000))
    rest = b"".join(b"They were sent home.\n" for _ in range(4000))
    result = invoke("tag", "--lines", "--model", seed_model, "-q", stdin=good + b"x" * 150_000 + b"\n" + rest)
    assert result.exit_code == 3
    indexes = [json.loads(line)["index"] for line in result.stdout.splitlines()]
    assert len(indexes) == 10_000 and 6000 not in indexes and indexes[-1] == 10_000
    assert "-: line 6001: over 100,000 characters" in result.stderr


def test_a_huge_file_is_refused_as_an_article_without_reading_it(seed_model, tmp_path):
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as handle:
        handle.truncate(25 << 20)  # sparse: 25 MB of NULs that take no disk
    one_line_error(invoke("tag", huge, "--model", seed_model), 3, "over 20 MB: too large")


def test_scaffold_through_the_cli_writes_an_unlabelled_file_that_check_refuses(tiny_corpus):
    article = tiny_corpus.parent / "seeds" / "gamma.txt"
    article.write_text("Workers fled.\n\nThey were caught. Then sent home.\n")
    result = invoke("dataset", "scaffold", article, "--source", "seed", "--labels", tiny_corpus)
    assert result.exit_code == 0 and "gamma.jsonl" in result.stdout
    rows = [json.loads(x) for x in (tiny_corpus / "seed" / "gamma.jsonl").read_text().splitlines()]
    assert [r["text"] for r in rows] == ["Workers fled.", "They were caught.", "Then sent home."]
    assert all(r["topics"] is None and r["stance"] is None for r in rows)
    one_line_error(invoke("dataset", "check", "--labels", tiny_corpus), 1, "not labelled yet")


def test_dataset_correct_through_the_cli(tiny_corpus, tmp_path):
    fixes = tmp_path / "fixes.jsonl"
    old, new = {"topics": ["defection"], "stance": "against"}, {"topics": ["defection"], "stance": "none"}
    fixes.write_text(
        json.dumps(
            {"doc": "beta", "index": 0, "text": "Escape from the logging camp", "old": old, "new": new}
        )
        + "\n"
    )
    result = invoke("dataset", "correct", fixes, "--labels", tiny_corpus)
    assert result.exit_code == 0 and "1 label(s) changed in 1 file(s)" in result.stdout
    assert json.loads((tiny_corpus / "seed" / "beta.jsonl").read_text().splitlines()[0])["stance"] == "none"
    again = invoke("dataset", "correct", fixes, "--labels", tiny_corpus)
    assert (
        again.exit_code == 0 and "0 label(s) changed" in again.stdout and "1 already applied" in again.stdout
    )
    stale = json.dumps(
        {"doc": "beta", "index": 0, "text": "Escape from the logging camp", "old": old, "new": new}
    )
    fixes.write_text(stale.replace('"none"', '"favor"') + "\n")
    one_line_error(
        invoke("dataset", "correct", fixes, "--labels", tiny_corpus), 1, "not the correction's old"
    )


def test_jobs_write_the_bytes_and_warnings_of_one_job(seed_model, tmp_path):
    """Workers format and encode their rows; the command passes the bytes on. Output, warnings and
    exit code must not depend on --jobs, in each format, to stdout or --out, from a path or stdin."""
    lines = [f"Line {i}: the workers \u2019fled\u2019 R\u00e1son.\r\n".encode() for i in range(5000)]
    lines[0] = b"\xef\xbb\xbf" + lines[0]
    lines[3000] = b"caf\xe9 workers\n"
    lines[4500] = b"bad\0line\n"
    data = b"".join(lines) + b"no line break at the end"
    path = tmp_path / "lines.txt"
    path.write_bytes(data)
    for fmt, where, to_file in (("jsonl", [path], False), ("jsonl", [], True), ("csv", [path], True)):
        runs = []
        for jobs in ("1", "2"):
            out = tmp_path / f"out{jobs}.{fmt}"
            args = ["tag", "--lines", "--model", seed_model, "-q", "--format", fmt, "-j", jobs, *where]
            result = invoke(*args, *(["--out", out] if to_file else []), stdin=data)
            runs.append(
                (result.exit_code, out.read_bytes() if to_file else result.stdout.encode(), result.stderr)
            )
        assert runs[0] == runs[1]
        code, written, stderr = runs[0]
        assert code == 3 and written.count(b"\n") == 5000 + (fmt == "csv")  # 5,001 lines, one skipped
        assert "line 3001: not UTF-8" in stderr and "line 4501: binary data" in stderr


def test_the_progress_bar_starts_no_thread(monkeypatch):
    """A second thread could take SIGINT/SIGTERM while the --jobs pool holds them in the main one."""
    import io
    import threading

    from nkclassify.cli import _progress_bar

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stderr", Terminal())
    before = threading.active_count()
    bar = _progress_bar(True, unit="unit")
    assert bar is not None
    bar.update(3)
    assert threading.active_count() == before
    bar.close()
