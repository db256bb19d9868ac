"""``python -m arabictopics``: the command line."""

from .cli import run

run()
