"""The package's own exception types: the CLI turns each into one line and an exit code."""

from __future__ import annotations

__all__ = ["NKError", "LabelError", "ModelError", "InputError", "WorkerError"]


class NKError(Exception):
    """Base of every error the package raises on purpose (bad data, bad model, bad input)."""


class LabelError(NKError):
    """A label file, the schema or an article does not validate; the message names file:line."""


class ModelError(NKError):
    """A model file is missing, tampered with, or was built by an incompatible version."""


class InputError(NKError):
    """Text handed in for tagging cannot be read."""


class WorkerError(NKError):
    """A ``--jobs`` worker process died (killed, out of memory) before it sent back its work."""
