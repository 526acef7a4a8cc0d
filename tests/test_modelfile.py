"""The model file: one zip of arrays and JSON, verified on load, never unpickled, same bytes each time."""

import hashlib
import io
import json
import os
import pickle
import shutil
import threading
import zipfile
from contextlib import suppress
from pathlib import Path

import numpy as np
import pytest

from nkclassify.engine import Engine
from nkclassify.errors import ModelError
from nkclassify.modelfile import FORMAT_VERSION, read_model_file

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _rewrite(src: Path, dst: Path, change) -> None:
    """Copy a model zip, letting ``change(name, data)`` return new bytes for a member."""
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w") as new:
        for info in old.infolist():
            new.writestr(info, change(info.filename, old.read(info.filename)))


class Planted:
    """A pickle that touches a file when unpickled: what a planted model would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_same_data_and_seed_give_the_same_bytes(seed_labels, seed_model, tmp_path):
    from nkclassify.dataset import load_corpus
    from nkclassify.train import train

    again = train(load_corpus(seed_labels), tmp_path / "again.nkmodel")  # seed_model is the first
    assert (tmp_path / "again.nkmodel").read_bytes() == seed_model.read_bytes()
    assert again["model_sha256"] == hashlib.sha256(seed_model.read_bytes()).hexdigest()


def test_model_file_holds_schema_card_and_arrays_without_pickle(seed_model):
    content = read_model_file(seed_model)
    meta = content["meta"]
    assert meta["format_version"] == FORMAT_VERSION and meta["schema"]["topics"]
    assert meta["card"]["features"] and "versions" in meta["card"]
    with zipfile.ZipFile(seed_model) as archive:
        names = archive.namelist()
        assert names[0] == "meta.json" and names[-1] == "SHA256"
        for name in names:
            if name.endswith(".npy"):
                expected = np.lib.format.read_array(io.BytesIO(archive.read(name)), allow_pickle=False)
                if not name.startswith("words."):
                    # stored and deflated members alike: read-only arrays with zipfile's values
                    got = content["arrays"][name[:-4]]
                    assert not got.flags.writeable and np.array_equal(got, expected)
                    assert got.flags.aligned  # numpy would copy an unaligned array at every gather
                    if archive.getinfo(name).compress_type == zipfile.ZIP_STORED:
                        assert not got.flags.owndata  # read in place from the mapped file


def _deflated(src: Path, dst: Path) -> None:
    """The same members deflated, as releases before this one packed text and sparse arrays."""
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info.filename, old.read(info.filename))


def test_every_member_is_stored_and_starts_aligned(seed_model):
    """Nothing to inflate at loading, and every array can be read in place."""
    with zipfile.ZipFile(seed_model) as archive:
        infos = archive.infolist()
    assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)
    raw = seed_model.read_bytes()
    for info in infos:
        name_size, extra_size = (
            int.from_bytes(raw[info.header_offset + k : info.header_offset + k + 2], "little")
            for k in (26, 28)
        )
        assert (info.header_offset + 30 + name_size + extra_size) % 64 == 0, info.filename


def test_a_file_with_deflated_members_loads_the_same(seed_model, tmp_path):
    deflated = tmp_path / "deflated.nkmodel"
    _deflated(seed_model, deflated)
    with zipfile.ZipFile(deflated) as archive:
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_DEFLATED}
    texts = ["Nine workers defected to South Korea.", "Wages went to the state.", ""]
    for got, expected in zip(Engine.load(deflated).predict(texts), Engine.load(seed_model).predict(texts)):
        assert np.array_equal(got, expected)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_model_from_a_pipe_is_one_error(tmp_path):
    """``--model <(...)`` hands over a pipe, and a zip is read from its end."""
    pipe = tmp_path / "model.nkmodel"
    os.mkfifo(pipe)

    def feed() -> None:
        with suppress(BrokenPipeError), open(pipe, "wb") as writer:
            writer.write(b"PK\x03\x04" + bytes(4096))

    feeder = threading.Thread(target=feed)
    feeder.start()
    try:
        with pytest.raises(ModelError, match="read at random"):
            Engine.load(pipe)
    finally:
        feeder.join(5)


def test_a_member_damaged_inside_the_zip_is_one_error(seed_model, tmp_path):
    # the member hashes sit in meta.json; a deflated member whose stream is broken fails to inflate
    packed = tmp_path / "deflated.nkmodel"
    _deflated(seed_model, packed)
    data = bytearray(packed.read_bytes())
    with zipfile.ZipFile(packed) as archive:
        info = next(
            i for i in archive.infolist() if i.compress_type == zipfile.ZIP_DEFLATED and i.file_size > 1000
        )
    at = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[at : at + 64] = bytes(64)
    bad = tmp_path / "bad.nkmodel"
    bad.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="damaged model file|does not match its SHA-256"):
        Engine.load(bad)


def test_label_names_keep_the_schema_order_of_the_model_columns(seed_labels, seed_model):
    from nkclassify.dataset import load_corpus

    schema = load_corpus(seed_labels).schema
    engine = Engine.load(seed_model)
    assert engine.topic_names == schema.topic_names and engine.stance_names == schema.stance_names
    assert schema.topic_names != sorted(schema.topic_names)  # the order is not alphabetical: it must survive


def test_a_file_of_the_previous_release_of_this_format_still_loads():
    engine = Engine.load(FIXTURES / "model_v2.nkmodel")
    assert engine.topic_names and engine.predict(["Workers fled."])[0].shape == (1, len(engine.topic_names))


def test_swapped_labels_or_changed_arrays_are_refused(seed_model, tmp_path):
    swapped = tmp_path / "swapped.nkmodel"

    def swap(name, data):
        if name != "meta.json":
            return data
        meta = json.loads(data)
        topics = list(meta["schema"]["topics"].items())
        topics[0], topics[1] = topics[1], topics[0]
        meta["schema"]["topics"] = dict(topics)
        return json.dumps(meta).encode()

    _rewrite(seed_model, swapped, swap)
    with pytest.raises(ModelError, match="meta.json does not match its SHA-256"):
        Engine.load(swapped)
    changed = tmp_path / "changed.nkmodel"
    _rewrite(seed_model, changed, lambda n, d: d[:-8] + b"\0" * 8 if n == "topic_coef.npy" else d)
    with pytest.raises(ModelError, match="topic_coef.npy does not match"):
        Engine.load(changed)


def test_consistent_hashes_but_wrong_shapes_are_one_error(seed_model, tmp_path):
    bad = tmp_path / "bad.nkmodel"
    content = read_model_file(seed_model)
    arrays = dict(content["arrays"])
    arrays["thresholds"] = np.zeros(2)
    meta = content["meta"]
    engine_args = (meta, content["vocabulary"], arrays, str(bad))
    with pytest.raises(ModelError, match="thresholds has shape"):
        Engine(*engine_args)
    meta = {**meta, "schema": {**meta["schema"], "stance": {"labels": {"a": "", "b": ""}}}}
    with pytest.raises(ModelError, match="inconsistent"):
        Engine(meta, content["vocabulary"], content["arrays"], str(bad))


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "not an nkclassify model file"),
        (b"garbage bytes", "not an nkclassify model file"),
        (b"PK\x03\x04 truncated zip", "damaged model file"),
    ],
)
def test_files_that_are_not_models(tmp_path, content, message):
    path = tmp_path / "m.nkmodel"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=message):
        Engine.load(path)


def test_a_zip_that_is_not_ours(tmp_path):
    path = tmp_path / "other.nkmodel"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("meta.json", b"{}")
        archive.writestr("SHA256", hashlib.sha256(b"{}").hexdigest())
    with pytest.raises(ModelError, match="not an nkclassify model file"):
        Engine.load(path)
    with pytest.raises(ModelError, match="folder"):
        Engine.load(tmp_path)


@pytest.mark.parametrize("name", ["evil.joblib", "evil.nkmodel", "evil.pkl"])
def test_a_planted_pickle_never_runs(tmp_path, name):
    marker = tmp_path / "ran"
    path = tmp_path / name
    path.write_bytes(pickle.dumps({"format_version": 1, "model": Planted(marker)}, protocol=4))
    with pytest.raises(ModelError):
        Engine.load(path)
    assert not marker.exists()
    shutil.copy(path, tmp_path / "copy")  # the file is intact: loading refused it, nothing ran


def test_vector_blocks_make_format_3_and_other_files_stay_readable_by_older_releases(
    seed_labels, seed_model, tmp_path
):
    """A file without a vector block is written as format 2 (all an older release needs to read);
    one with vectors as 3, its piece vectors kept float16; a version this release does not know is
    refused with the versions it reads."""
    from nkclassify.dataset import load_corpus
    from nkclassify.train import train

    train(load_corpus(seed_labels), tmp_path / "lex.nkmodel", features="lex")
    shutil.copy(seed_model, tmp_path / "static.nkmodel")  # the default feature set has the vectors
    lex, static = read_model_file(tmp_path / "lex.nkmodel"), read_model_file(tmp_path / "static.nkmodel")
    assert static["meta"]["features"] == "lex+static"
    assert lex["meta"]["format_version"] == 2 and static["meta"]["format_version"] == FORMAT_VERSION == 3
    assert static["arrays"]["static.vectors"].dtype == np.float16
    assert [b.get("kind") for b in static["meta"]["blocks"]] == [None, None, "vectors"]

    def bump(name, data):
        if name == "meta.json":
            return json.dumps({**json.loads(data), "format_version": 4}).encode()
        if name == "SHA256":
            return b""
        return data

    future = tmp_path / "future.nkmodel"
    _rewrite(tmp_path / "static.nkmodel", future, bump)
    with zipfile.ZipFile(future) as archive:  # re-sign, so only the version is wrong
        meta = archive.read("meta.json")
    _rewrite(
        future,
        tmp_path / "future2.nkmodel",
        lambda n, d: hashlib.sha256(meta).hexdigest().encode() if n == "SHA256" else d,
    )
    with pytest.raises(ModelError, match="format version 4; this nkclassify reads versions 2, 3"):
        Engine.load(tmp_path / "future2.nkmodel")
