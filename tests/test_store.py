import os
import stat
from pathlib import Path

import pytest

from nkclassify.dataset import load_corpus
from nkclassify.engine import Engine
from nkclassify.errors import ModelError, NKError
from nkclassify.fileio import atomic_write_text, open_atomic
from nkclassify.modelfile import read_model_file
from nkclassify.store import DEFAULT_MODEL_PATH, markdown_card_path, save_model

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def exported(seed_model):
    content = read_model_file(seed_model)
    engine = Engine.load(seed_model)
    return content, engine


def _save(seed_labels, path):
    from nkclassify.train import fit_model

    corpus = load_corpus(seed_labels)
    model = fit_model(corpus, "tfidf")
    return save_model(model.export(), corpus.schema.to_dict(), {"features": "tfidf"}, path)


def test_out_must_be_a_model_name_never_the_card_a_folder_or_a_device(seed_labels, tmp_path):
    with pytest.raises(ModelError, match="must end in .nkmodel"):
        _save(seed_labels, tmp_path / "m.json")
    with pytest.raises(ModelError, match="must end in .nkmodel"):
        _save(seed_labels, markdown_card_path(tmp_path / "m.nkmodel"))
    (tmp_path / "dir.nkmodel").mkdir()
    with pytest.raises(ModelError, match="folder"):
        _save(seed_labels, tmp_path / "dir.nkmodel")
    os.mkfifo(tmp_path / "fifo.nkmodel")
    with pytest.raises(ModelError, match="not a regular file"):
        _save(seed_labels, tmp_path / "fifo.nkmodel")


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_new_files_follow_the_umask_and_old_ones_keep_their_mode(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "new.txt", "x")
        kept = tmp_path / "kept.txt"
        kept.write_text("old")
        os.chmod(kept, 0o664)
        atomic_write_text(kept, "new")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == mode
    assert stat.S_IMODE(kept.stat().st_mode) == 0o664 and kept.read_text() == "new"


def test_atomic_writes_follow_links_refuse_devices_and_leave_no_temp_file(tmp_path):
    target = tmp_path / "real.txt"
    target.write_text("old")
    (tmp_path / "link.txt").symlink_to(target)
    atomic_write_text(tmp_path / "link.txt", "new")
    assert (tmp_path / "link.txt").is_symlink() and target.read_text() == "new"
    with pytest.raises(NKError, match="not a regular file"):
        open_atomic("/dev/null")
    sink = open_atomic(tmp_path / "half.txt")
    sink.handle.write("partial")
    sink.discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.txt", "real.txt"]


def test_shipped_model_is_inside_the_package_and_matches_the_shipped_data():
    """Fails when labels/ or seeds/ change without retraining the committed model."""
    assert DEFAULT_MODEL_PATH.parent.parent.name == "nkclassify"
    card = read_model_file(DEFAULT_MODEL_PATH)["meta"]["card"]
    corpus = load_corpus(REPO / "labels")
    assert card["data_hash"] == corpus.data_hash, (
        "retrain: nkclassify train --out nkclassify/resources/nkclassify.nkmodel"
    )
    assert card["n_units"] == len(corpus.units) and "cv_events" in card and "cv" in card


def test_the_model_file_stands_alone_and_concurrent_saves_leave_one_whole_model(seed_labels, tmp_path):
    import threading

    path = tmp_path / "m.nkmodel"
    _save(seed_labels, path)
    markdown_card_path(path).unlink()  # a crash after the model and before its card
    assert Engine.load(path).topic_names
    threads = [threading.Thread(target=_save, args=(seed_labels, path)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Engine.load(path).card["features"] == "tfidf"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.md", "m.nkmodel"]
