"""nkclassify: tag news sentences about North Korea's overseas workers and troops.

Heavy libraries (scikit-learn, datasets) are imported only by the functions that use them, so
``import nkclassify`` and ``nkclassify --help`` stay fast; ``Tagger`` is resolved on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"  # the one place the version lives (pyproject reads it)
__all__ = ["__version__", "Tagger"]

if TYPE_CHECKING:
    from .tag import Tagger


def __getattr__(name: str) -> Any:
    if name == "Tagger":
        from .tag import Tagger

        return Tagger
    raise AttributeError(f"module 'nkclassify' has no attribute {name!r}")
