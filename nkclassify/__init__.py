"""nkclassify: tag news sentences about North Korea's overseas workers and troops.

Heavy libraries (scikit-learn, datasets) are imported only by the functions that use them, so
``import nkclassify`` and ``nkclassify --help`` stay fast.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
