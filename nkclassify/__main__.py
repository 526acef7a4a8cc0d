"""``python -m nkclassify`` runs the command line."""

import sys

from .cli import main

sys.argv[0] = "nkclassify"
main()
