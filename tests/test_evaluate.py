import json

import numpy as np
import pytest
from sklearn.metrics import f1_score

from nkclassify.dataset import load_corpus
from nkclassify.evaluate import (
    EvaluationError,
    cross_validate,
    evaluate,
    label_matrix,
    stance_metrics,
    topic_metrics,
)
from nkclassify.report import PLOT_FILES, write_report


def test_topic_metrics_match_sklearn():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 2, (50, 3)), rng.integers(0, 2, (50, 3))
    metrics = topic_metrics(y_true, y_pred, ["a", "b", "c"])
    assert metrics["micro_f1"] == pytest.approx(f1_score(y_true, y_pred, average="micro"))
    assert metrics["macro_f1"] == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    assert metrics["per_topic"]["b"]["support"] == int(y_true[:, 1].sum())


def test_stance_metrics_and_f_avg():
    names = ["against", "favor", "none"]
    y_true = np.array([0, 0, 1, 1, 2, 2, 2])
    y_pred = np.array([0, 2, 1, 0, 2, 2, 1])
    metrics = stance_metrics(y_true, y_pred, names)
    per_class = f1_score(y_true, y_pred, average=None)
    assert metrics["macro_f1"] == pytest.approx(per_class.mean())
    assert metrics["f_avg"] == pytest.approx((per_class[0] + per_class[1]) / 2)
    assert metrics["confusion"][0] == [1, 0, 1]


def test_cross_validation_is_grouped_and_reproducible(seed_labels):
    data = label_matrix(load_corpus(seed_labels))
    first = cross_validate(data, folds=5, seed=3)
    assert first["scheme"] == "leave-one-article-out"
    folds = [set(docs) for docs in first["test_articles_per_fold"]]
    assert all(len(f) == 1 for f in folds) and set.union(*folds) == set(data.groups)
    second = cross_validate(data, folds=5, seed=3)
    assert first["summary"] == second["summary"] and first["fold_scores"] == second["fold_scores"]
    assert set(first["baselines"]) == {"majority", "stratified"}
    assert first["baselines"]["majority"]["topics_micro_f1"]["mean"] == 0.0  # predicts "no topic" always


def test_errors_for_impossible_evaluations(seed_labels, tiny_corpus):
    data = label_matrix(load_corpus(seed_labels))
    with pytest.raises(EvaluationError, match="at least 2"):
        cross_validate(data, folds=1)
    one_article = data.subset(np.flatnonzero(data.groups == data.groups[0]))
    with pytest.raises(EvaluationError, match="at least 2 articles"):
        cross_validate(one_article, folds=5)
    with pytest.raises(EvaluationError, match="repeats"):
        evaluate(load_corpus(tiny_corpus), repeats=0)


def test_full_report_is_written(seed_labels, tmp_path):
    report = evaluate(load_corpus(seed_labels), folds=5, seed=0)
    assert report["learning_curve"][-1]["train_articles"] == 4
    written = write_report(report, tmp_path / "report")
    names = sorted(p.name for p in written)
    assert names == sorted(["report.md", "report.json", *PLOT_FILES])
    for path in written:
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    markdown = (tmp_path / "report" / "report.md").read_text()
    assert "majority baseline" in markdown and "F_avg" in markdown
    assert json.loads((tmp_path / "report" / "report.json").read_text())["data_hash"] == report["data_hash"]


def test_report_failure_writes_nothing(seed_labels, tmp_path, monkeypatch):
    import nkclassify.report as report_module

    report = evaluate(load_corpus(seed_labels), folds=5, with_learning_curve=False)

    def broken(_report):
        raise RuntimeError("plotting failed")

    monkeypatch.setattr(report_module, "render_plots", broken)
    out = tmp_path / "report"
    with pytest.raises(RuntimeError):
        write_report(report, out)
    assert not out.exists() or not any(out.iterdir())
