import json
from pathlib import Path

import pytest

from nkclassify.dataset import (
    apply_corrections,
    build_dataset,
    export,
    label_counts,
    load_corpus,
    scaffold,
    validate,
)
from nkclassify.errors import LabelError
from nkclassify.segment import split_sentences

REPO = Path(__file__).resolve().parent.parent


def rewrite(path: Path, line_number: int, **changes) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[line_number - 1])
    record.update(changes)
    lines[line_number - 1] = json.dumps(record, ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def only_error(labels: Path) -> str:
    corpus, errors = validate(labels)
    assert corpus is None
    return "\n".join(errors)


def test_tiny_corpus_validates(tiny_corpus):
    corpus = load_corpus(tiny_corpus)
    assert len(corpus.units) == 8 and corpus.docs == ["alpha", "beta"]
    assert corpus.units[2].topics == ("repatriation",)


def test_every_shipped_article_is_fully_labelled():
    """Each non-blank sentence of every article (seed and written) has exactly one label line."""
    corpus, errors = validate(REPO / "labels")
    assert errors == []
    by_doc = {}
    for unit in corpus.units:
        by_doc.setdefault((unit.source, unit.doc), []).append((unit.start, unit.end))
    seeds = sorted((REPO / "seeds").glob("*.txt"))
    assert len(seeds) == 5
    for article in seeds:
        expected = [(u.start, u.end) for u in split_sentences(article.read_text(encoding="utf-8"))]
        assert by_doc[("seed", article.stem)] == expected


def test_offsets_that_do_not_match(tiny_corpus):
    rewrite(tiny_corpus / "seed" / "alpha.jsonl", 2, start=3)
    assert "alpha.jsonl:2: offsets 3-" in only_error(tiny_corpus)


def test_unknown_topic_and_stance(tiny_corpus):
    rewrite(tiny_corpus / "seed" / "alpha.jsonl", 1, topics=["repatriaton"])
    rewrite(tiny_corpus / "seed" / "beta.jsonl", 3, stance="neutral")
    errors = only_error(tiny_corpus)
    assert "alpha.jsonl:1: unknown topic 'repatriaton'" in errors
    assert "beta.jsonl:3: unknown stance 'neutral'" in errors


def test_duplicate_unit(tiny_corpus):
    path = tiny_corpus / "seed" / "beta.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines + [lines[1]]) + "\n", encoding="utf-8")
    assert "beta.jsonl:4: duplicate unit (same span as" in only_error(tiny_corpus)


def test_missing_article(tiny_corpus):
    (tiny_corpus.parent / "seeds" / "beta.txt").unlink()
    assert "beta.jsonl:1: article" in only_error(tiny_corpus)
    assert "not found" in only_error(tiny_corpus)


def test_article_without_labels(tiny_corpus):
    (tiny_corpus.parent / "seeds" / "gamma.txt").write_text("A new story.\n", encoding="utf-8")
    assert "gamma.txt:1: article has no label file" in only_error(tiny_corpus)


def test_malformed_json(tiny_corpus):
    path = tiny_corpus / "seed" / "alpha.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3][:-5]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert "alpha.jsonl:4: malformed JSON" in only_error(tiny_corpus)


def test_unlabelled_and_missing_units(tiny_corpus):
    rewrite(tiny_corpus / "seed" / "alpha.jsonl", 5, topics=None, stance=None)
    path = tiny_corpus / "seed" / "beta.jsonl"
    path.write_text("\n".join(path.read_text(encoding="utf-8").splitlines()[:2]) + "\n", encoding="utf-8")
    errors = only_error(tiny_corpus)
    assert "alpha.jsonl:5: unit not labelled yet" in errors
    assert "beta.jsonl:3: article unit 2" in errors and "has no label" in errors


def test_load_corpus_raises_first_error_with_count(tiny_corpus):
    rewrite(tiny_corpus / "seed" / "alpha.jsonl", 1, stance="x")
    rewrite(tiny_corpus / "seed" / "alpha.jsonl", 2, stance="y")
    with pytest.raises(LabelError, match=r"alpha.jsonl:1: .* \(and 1 more errors\)"):
        load_corpus(tiny_corpus)


def test_dataset_features(tiny_corpus):
    dataset = build_dataset(load_corpus(tiny_corpus))
    assert dataset.features["stance"].names == ["against", "favor", "none"]
    assert dataset.features["topics"].feature.names[0] == "repatriation"
    assert dataset.features["source"].names == ["seed"]
    row = dataset[2]
    assert row["doc"] == "alpha" and row["topics"] == [0] and row["stance"] == 2


def test_jsonl_export_round_trip(tiny_corpus, tmp_path):
    corpus = load_corpus(tiny_corpus)
    out = tmp_path / "out.jsonl"
    export(corpus, "jsonl", out)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in rows] == [u.text for u in corpus.units]
    assert [(r["doc"], r["index"], tuple(r["topics"]), r["stance"]) for r in rows] == [
        (u.doc, u.index, u.topics, u.stance) for u in corpus.units
    ]
    assert export(corpus, "jsonl", None) == out.read_text(encoding="utf-8")


def test_parquet_export_round_trip(tiny_corpus, tmp_path):
    import datasets

    corpus = load_corpus(tiny_corpus)
    out = tmp_path / "out.parquet"
    export(corpus, "parquet", out)
    loaded = datasets.Dataset.from_parquet(str(out))
    assert loaded.to_list() == build_dataset(corpus).to_list()
    assert loaded.features["stance"].names == ["against", "favor", "none"]


def test_failed_export_leaves_old_file(tiny_corpus, tmp_path, monkeypatch):
    import datasets

    (tmp_path / "exports").mkdir()
    out = tmp_path / "exports" / "out.parquet"
    out.write_bytes(b"old")

    def broken(self, path, **kwargs):
        Path(path).write_bytes(b"half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(datasets.Dataset, "to_parquet", broken)
    with pytest.raises(RuntimeError):
        export(load_corpus(tiny_corpus), "parquet", out)
    assert out.read_bytes() == b"old"
    assert [p.name for p in out.parent.iterdir()] == ["out.parquet"]


def test_unknown_export_format(tiny_corpus):
    with pytest.raises(LabelError, match="unknown export format 'xml'"):
        export(load_corpus(tiny_corpus), "xml", None)


def test_label_counts(tiny_corpus):
    counts = label_counts(load_corpus(tiny_corpus))
    assert counts["topics"]["defection"] == 3 and counts["topics"]["finances"] == 0
    assert counts["stance"] == {"against": 3, "favor": 0, "none": 5}
    assert counts["no topic"]["(none)"] == 2


def test_scaffold_keeps_labels_of_unchanged_units(tiny_corpus):
    article = tiny_corpus.parent / "seeds" / "beta.txt"
    article.write_text(article.read_text(encoding="utf-8") + "A new closing line.\n", encoding="utf-8")
    out = scaffold(article, tiny_corpus, "seed")
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert records[0]["topics"] == ["defection"] and records[0]["stance"] == "against"
    assert records[-1]["text"] == "A new closing line." and records[-1]["stance"] is None
    assert "beta.jsonl:4: unit not labelled yet" in only_error(tiny_corpus)


def _correction(doc, index, text, old, new, rule="rule 6", why="test") -> str:
    return json.dumps(
        {"doc": doc, "index": index, "text": text, "old": old, "new": new, "rule": rule, "why": why}
    )


def test_corrections_apply_all_or_nothing(tiny_corpus, tmp_path):
    alpha = tiny_corpus / "seed" / "alpha.jsonl"
    before = {p: p.read_bytes() for p in (tiny_corpus / "seed").glob("*.jsonl")}
    good = _correction(
        "alpha",
        1,
        "The U.S. Treasury named two firms on Tuesday.",
        {"topics": ["sanctions"], "stance": "none"},
        {"topics": ["finances", "sanctions"], "stance": "none"},
    )
    stale = _correction(
        "beta",
        0,
        "Escape from the logging camp",
        {"topics": [], "stance": "none"},
        {"topics": ["defection"], "stance": "none"},
    )
    fixes = tmp_path / "fixes.jsonl"
    fixes.write_text(good + "\n" + stale + "\n", encoding="utf-8")
    with pytest.raises(LabelError, match="beta.jsonl: unit 0 is labelled"):
        apply_corrections(fixes, tiny_corpus)
    assert {p: p.read_bytes() for p in before} == before  # nothing written

    fixes.write_text(good + "\n", encoding="utf-8")
    assert apply_corrections(fixes, tiny_corpus, dry_run=True) == {"changed": 1, "already": 0, "files": 1}
    assert {p: p.read_bytes() for p in before} == before
    assert apply_corrections(fixes, tiny_corpus) == {"changed": 1, "already": 0, "files": 1}
    rows = [json.loads(line) for line in alpha.read_text(encoding="utf-8").splitlines()]
    assert rows[1]["topics"] == ["sanctions", "finances"]  # schema order
    assert [r["topics"] for i, r in enumerate(rows) if i != 1] == [
        json.loads(line)["topics"] for i, line in enumerate(before[alpha].decode().splitlines()) if i != 1
    ]
    assert load_corpus(tiny_corpus).units[1].topics == ("sanctions", "finances")
    assert apply_corrections(fixes, tiny_corpus) == {"changed": 0, "already": 1, "files": 0}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not a correction line"),
        (
            _correction(
                "nowhere", 0, "x", {"topics": [], "stance": "none"}, {"topics": [], "stance": "none"}
            ),
            "no label file",
        ),
        (
            _correction(
                "alpha", 0, "x", {"topics": [], "stance": "none"}, {"topics": ["war"], "stance": "none"}
            ),
            "do not fit",
        ),
        (
            _correction(
                "alpha",
                0,
                "Another text",
                {"topics": [], "stance": "none"},
                {"topics": [], "stance": "favor"},
            ),
            "is not 'Another text'",
        ),
    ],
)
def test_bad_correction_lines_are_refused(tiny_corpus, tmp_path, line, message):
    fixes = tmp_path / "fixes.jsonl"
    fixes.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(LabelError, match=message):
        apply_corrections(fixes, tiny_corpus)


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in (REPO / "labels" / "agreement").glob("*correction*.jsonl"))
    + sorted(p.name for p in (REPO / "labels" / "agreement").glob("*changes*.jsonl")),
)
def test_every_kept_correction_is_in_the_label_files(name):
    """A later edit that silently undid an adjudicated correction would show up here."""
    counts = apply_corrections(REPO / "labels" / "agreement" / name, REPO / "labels", dry_run=True)
    assert counts["changed"] == 0 and counts["already"] > 0
