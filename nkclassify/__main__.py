"""``python -m nkclassify`` runs the command line."""

from .cli import app

app(prog_name="nkclassify")
