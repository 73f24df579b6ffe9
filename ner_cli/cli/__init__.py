"""The `ner` command line: option parsing and display only; the work is done by library functions."""

from .commands import app, main

__all__ = ["app", "main"]
