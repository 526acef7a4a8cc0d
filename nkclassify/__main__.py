"""``python -m nkclassify`` runs the command line."""

import sys

from .cli import entry

sys.argv[0] = "nkclassify"
entry()
