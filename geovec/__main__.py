"""``python -m geovec`` runs the command line."""

from geovec.cli import app

app()
