"""``python -m geovec`` runs the command line."""

from geovec.cli import app

if __name__ == "__main__":
    app()
