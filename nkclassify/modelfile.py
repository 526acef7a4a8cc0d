"""The model file: plain arrays plus JSON in one zip, which loading can never turn into code.

Layout (format version 3; a file without a vector block is written as version 2, which it
equals, so older releases still read it), members in this order, each written with a fixed
timestamp so the same model gives the same bytes:

- ``meta.json``: format name and version, the label schema, the model card (training data,
  versions, scores), the feature blocks (analyzer settings or ``"kind": "vectors"``, weights),
  the SHA-256 of every array member;
- ``vocabulary.json``: one token list per feature block, in column order (for a vector block,
  its word pieces);
- ``words.json`` and ``words.<block>.*.npy`` (optional): the engine's word ids and each word's
  columns, derived from the vocabulary at training so that loading need not work them out;
- ``<name>.npy``: the arrays (idf per TF-IDF block, float16 piece vectors per vector block,
  coefficients, intercepts, thresholds), read with ``allow_pickle=False``;
- ``SHA256``: the SHA-256 of ``meta.json``, so no part of the file can change unnoticed.

Every member is stored, starting on a 64-byte boundary (padding in the zip extra field, as
Android's zipalign does), so reading maps the file and takes the arrays in place, aligned, without
a copy, and inflates nothing. Readers that ignore the padding read the file as any zip. Files from
earlier releases have deflated members (text and sparse arrays); those are inflated as they load.

A hash inside the file catches corruption and accidents, not a determined forger; but a forged
file can only change scores, never run code: nothing here is unpickled. Format 1 (a joblib pickle
beside a JSON card) is refused with a message saying how to retrain.
"""

from __future__ import annotations

import hashlib
import io
import json
import mmap
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .errors import ModelError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "READABLE_VERSIONS",
    "SUFFIX",
    "ARRAYS",
    "write_model_file",
    "read_model_file",
]

FORMAT = "nkclassify-model"
FORMAT_VERSION = 3  # 3 added vector blocks (static word-piece vectors)
READABLE_VERSIONS = (2, 3)
_WITHOUT_VECTORS = 2  # a file without vector blocks is exactly a version-2 file: older releases read it
SUFFIX = ".nkmodel"
ARRAYS = (
    "topic_coef",
    "topic_intercept",
    "thresholds",
    "stance_coef",
    "stance_topic_coef",
    "stance_intercept",
)
_EPOCH = (1980, 1, 1, 0, 0, 0)
_ALIGN = 64  # stored members' data start here; numpy pads a .npy header to 64 bytes too
_PADDING = 0xD935  # the extra-field id zipalign uses for padding (readers skip unknown ids)
_NPY_HEADER = 12 + 65535  # the longest header numpy's format 1.0 can hold (we write 1.0)
_MAX_MEMBER = 1 << 30  # no honest member is near 1 GiB; a bigger one is a zip bomb or not ours


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def _json_bytes(value: Any) -> bytes:
    # Key order is kept, never sorted: the schema's topic order is the order of the model's columns.
    return (json.dumps(value, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _member(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    """One member, stored: loading reads every member, and inflating the ones that compress (text
    and sparse arrays, 3.5 MB of the shipped model) took 19 ms of every start, for a file 16%
    smaller. Its data starts on a 64-byte boundary (padding in its extra field, as Android's
    zipalign does), so the arrays read in place are aligned: numpy copies an unaligned array whole
    before every gather."""
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    at = archive.start_dir + 30 + len(name.encode("utf-8"))
    pad = -(at + 4) % _ALIGN
    info.extra = _PADDING.to_bytes(2, "little") + pad.to_bytes(2, "little") + bytes(pad)
    archive.writestr(info, data)


def write_model_file(
    handle: io.BufferedIOBase, exported: Mapping[str, Any], schema: dict, card: dict
) -> None:
    """Write an exported model (``TopicStanceModel.export()``) with its schema and card to ``handle``."""
    blocks = exported["blocks"]
    vectors = [b for b in blocks if b.get("kind") == "vectors"]
    arrays = {f"{b['name']}.idf": b["idf"] for b in blocks if b.get("kind") != "vectors"}
    arrays.update({name: exported[name] for name in ARRAYS})
    payload = {name: _npy_bytes(np.asarray(value, dtype=np.float64)) for name, value in arrays.items()}
    for b in vectors:  # kept float16, as the source table is: both sides compute from these values
        payload[f"{b['name']}.vectors"] = _npy_bytes(np.asarray(b["vectors"], dtype=np.float16))
    table = exported.get("word_table")
    extra: dict[str, bytes] = {}
    if table is not None:  # the engine's word ids, worked out once here rather than at every start
        extra["words.json"] = _json_bytes(table["words"])
        for block in (k for k in table if k != "words"):
            for name, value in table[block].items():
                payload[f"words.{block}.{name}"] = _npy_bytes(np.asarray(value, dtype=np.int64))
    vocabulary = _json_bytes({b["name"]: list(b["vocabulary"]) for b in exported["blocks"]})
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION if vectors else _WITHOUT_VECTORS,
        "schema": schema,
        "card": card,
        "features": exported["features"],
        "params": exported["params"],
        "blocks": [{k: b[k] for k in ("name", "kind", "analyzer", "weight") if k in b} for b in blocks],
        "sha256": {
            "vocabulary.json": hashlib.sha256(vocabulary).hexdigest(),
            **{name: hashlib.sha256(data).hexdigest() for name, data in extra.items()},
            **{f"{name}.npy": hashlib.sha256(data).hexdigest() for name, data in payload.items()},
        },
    }
    meta_bytes = _json_bytes(meta)
    with zipfile.ZipFile(handle, "w") as archive:
        _member(archive, "meta.json", meta_bytes)
        _member(archive, "vocabulary.json", vocabulary)
        for name, data in extra.items():
            _member(archive, name, data)
        for name, data in payload.items():
            _member(archive, f"{name}.npy", data)
        _member(archive, "SHA256", hashlib.sha256(meta_bytes).hexdigest().encode() + b"\n")


def _array(data: memoryview | bytes) -> np.ndarray:
    """A ``.npy`` member as a read-only view of its bytes (no copy: the vectors are most of a model).

    Only plain numeric dtypes are accepted, so nothing can ask for unpickling.
    """
    stream = io.BytesIO(bytes(data[:_NPY_HEADER]))  # the header alone: BytesIO would copy it all
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise ValueError(f"npy format {version} not supported")
    if dtype.hasobject or dtype.kind not in "biuf":
        raise ValueError(f"dtype {dtype} is not a plain number")
    count = int(np.prod(shape, dtype=np.int64))
    array = np.frombuffer(data, dtype=dtype, count=count, offset=stream.tell())
    if not array.flags.aligned:  # a file written before members were aligned: one copy, now
        array = array.copy()
        array.flags.writeable = False
    return array.reshape(shape, order="F" if fortran else "C")


def _open(handle: BinaryIO) -> Any:
    """The file's bytes without copying them: a read-only map shared with the page cache (and with
    ``--jobs`` workers), or the bytes read when the file cannot be mapped."""
    try:
        return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError, io.UnsupportedOperation):
        handle.seek(0)
        return handle.read()


def _read(content: Any, archive: zipfile.ZipFile, name: str, where: str) -> memoryview | bytes:
    """One member, found through the zip's directory: a stored member is a view of ``content`` (no
    copy, no second pass: the SHA-256 is the check), a deflated one is inflated."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise ModelError(f"{where}: not an nkclassify model (no {name})") from None
    if info.file_size > _MAX_MEMBER:
        raise ModelError(f"{where}: member {name} is implausibly large; not an nkclassify model")
    at = info.header_offset
    header = bytes(content[at : at + 30])
    if len(header) < 30 or header[:4] != b"PK\x03\x04" or info.flag_bits & 0x1:
        raise ModelError(f"{where}: damaged model file (member {name})")
    start = at + 30 + int.from_bytes(header[26:28], "little") + int.from_bytes(header[28:30], "little")
    raw = memoryview(content)[start : start + info.compress_size]
    if len(raw) != info.compress_size:
        raise ModelError(f"{where}: damaged model file (member {name} is cut short)")
    if info.compress_type == zipfile.ZIP_STORED and info.file_size == info.compress_size:
        return raw
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise ModelError(f"{where}: damaged model file (member {name})")
    inflate = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        data = inflate.decompress(raw, info.file_size + 1)  # never more than the directory promises
    except zlib.error as exc:
        raise ModelError(f"{where}: damaged model file ({name}: {exc})") from None
    if len(data) != info.file_size:
        raise ModelError(f"{where}: damaged model file (member {name} has the wrong size)")
    return data


def read_model_file(path: Path) -> dict[str, Any]:
    """Read and verify a model file: meta (schema, card, blocks), vocabularies and arrays.

    The file is mapped, not read: arrays are views of it, and after the hashes are checked its
    pages are handed back to the page cache, so the vector rows no sentence uses are never part of
    this process's memory. Raises ``ModelError`` with one line for anything that is not an intact
    model of ours.
    """
    where = str(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
            if head[:2] == b"\x80\x04" or head[:1] == b"\x78" or path.suffix == ".joblib":
                raise ModelError(
                    f"{where}: a pickled model of format 1 (nkclassify 0.1); it is not loaded because "
                    "unpickling can run code: retrain it with this release"
                )
            if head != b"PK\x03\x04":
                raise ModelError(f"{where}: not an nkclassify model file (expected a {SUFFIX} zip)")
            content = _open(handle)
            handle.seek(0)
            with zipfile.ZipFile(handle) as archive:  # the directory; members are read from content
                meta_bytes = _read(content, archive, "meta.json", where)
                expected = bytes(_read(content, archive, "SHA256", where)).decode("ascii", "replace").strip()
                if hashlib.sha256(meta_bytes).hexdigest() != expected:
                    raise ModelError(f"{where}: meta.json does not match its SHA-256; the file was changed")
                try:
                    meta = json.loads(bytes(meta_bytes))
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    raise ModelError(f"{where}: unreadable meta.json ({exc})") from None
                if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                    raise ModelError(f"{where}: not an nkclassify model file")
                version = meta.get("format_version")
                if version not in READABLE_VERSIONS:
                    raise ModelError(
                        f"{where}: model format version {version!r}; this nkclassify reads versions "
                        f"{', '.join(map(str, READABLE_VERSIONS))} (retrain it, or install the release "
                        "that wrote it)"
                    )
                hashes = meta.get("sha256", {})
                members: dict[str, memoryview | bytes] = {}
                for name, digest in sorted(hashes.items()):
                    data = _read(content, archive, name, where)
                    if hashlib.sha256(data).hexdigest() != digest:
                        raise ModelError(f"{where}: {name} does not match its SHA-256; the file was changed")
                    members[name] = data
    except (zipfile.BadZipFile, EOFError) as exc:
        raise ModelError(f"{where}: damaged model file ({exc})") from None
    except IsADirectoryError:
        raise ModelError(f"{where}: is a folder, not a model file") from None
    except FileNotFoundError:
        raise ModelError(f"{where}: model file not found") from None
    except io.UnsupportedOperation:  # a pipe (``--model <(...)``): a zip is read from its end
        raise ModelError(
            f"{where}: not a file that can be read at random (a pipe?); give a model file"
        ) from None
    if hasattr(content, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
        content.madvise(mmap.MADV_DONTNEED)  # hashing touched every page; let the unused ones go
    arrays = {}
    for name, data in members.items():
        if name.endswith(".npy"):
            try:
                arrays[name[:-4]] = _array(data)
            except ValueError as exc:
                raise ModelError(f"{where}: array {name} unreadable ({exc})") from None
    try:
        vocabulary = json.loads(bytes(members["vocabulary.json"]))
        words = json.loads(bytes(members["words.json"])) if "words.json" in members else None
    except (KeyError, UnicodeDecodeError, json.JSONDecodeError):
        raise ModelError(f"{where}: vocabulary missing or unreadable") from None
    return {
        "meta": meta,
        "vocabulary": vocabulary,
        "arrays": arrays,
        "word_table": _word_table(words, arrays),
    }


def _word_table(words: list | None, arrays: dict[str, np.ndarray]) -> dict[str, Any] | None:
    """The stored word tables (``words.<block>.<name>`` arrays beside ``words.json``), if the file has them."""
    if words is None:
        return None
    table: dict[str, Any] = {"words": words}
    for key in [k for k in arrays if k.startswith("words.")]:
        _, block, name = key.split(".", 2)
        table.setdefault(block, {})[name] = arrays.pop(key)
    return table
