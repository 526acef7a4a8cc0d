"""Small file helpers shared by every module that writes: nothing is ever half-written.

Writes go to a temporary file beside the target and are renamed into place only when complete;
the new file gets the mode an ordinary ``open`` would give it (0666 less the umask), or keeps the
mode of the file it replaces. A symbolic link given as the target is followed (the file it points
to is replaced, the link stays); a device, FIFO or folder is refused.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from .errors import NKError

__all__ = ["atomic_write", "atomic_write_text", "open_atomic", "AtomicFile", "sha256_file", "sha256_files"]


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _target(path: Path) -> tuple[Path, int]:
    """The real file to replace (symlinks followed) and the mode the new file should get."""
    path = Path(path)
    real = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        info = os.stat(real)
    except FileNotFoundError:
        return real, 0o666 & ~_umask()
    if stat.S_ISDIR(info.st_mode):
        raise NKError(f"{path}: is a folder; name a file to write")
    if not stat.S_ISREG(info.st_mode):
        raise NKError(f"{path}: not a regular file (a device, FIFO or socket); refusing to replace it")
    return real, stat.S_IMODE(info.st_mode)


class AtomicFile:
    """A text file being written: ``handle`` to write, ``commit()`` to put it in place, else discarded."""

    def __init__(self, path: Path, binary: bool = False) -> None:
        self.path, self.mode = _target(Path(path))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        self.tmp = Path(name)
        self.handle: IO = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")
        self.done = False

    def commit(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        os.chmod(self.tmp, self.mode)
        os.replace(self.tmp, self.path)
        self.done = True

    def discard(self) -> None:
        if not self.handle.closed:
            self.handle.close()
        if not self.done and self.tmp.exists():
            self.tmp.unlink()


def open_atomic(path: Path, binary: bool = False) -> AtomicFile:
    """Start an atomic write to ``path``; call ``commit()`` when complete, ``discard()`` always."""
    return AtomicFile(path, binary)


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Let ``write`` fill a temporary file beside ``path``, then rename it into place.

    A crash or an exception inside ``write`` leaves the old file (or no file) behind, never a
    truncated one.
    """
    sink = AtomicFile(Path(path), binary=True)
    sink.handle.close()
    try:
        write(sink.tmp)
        os.chmod(sink.tmp, sink.mode)
        os.replace(sink.tmp, sink.path)
        sink.done = True
    finally:
        sink.discard()


def atomic_write_text(path: Path, text: str) -> None:
    """Write a UTF-8 text file atomically."""
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_files(paths: Iterable[Path], root: Path) -> str:
    """One hash over many files, names (relative to ``root``) included, in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()
