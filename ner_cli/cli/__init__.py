"""The `ner` command line: option parsing and display only; the work is done by library functions.

`main` is the console script. It imports the commands (typer, rich) only once it can handle Ctrl-C, so an
interrupt during start-up ends like any other: "interrupted" and exit 130, never an import traceback.
"""

from __future__ import annotations

import contextlib
import os
import sys


def main() -> None:
    try:
        from .commands import main as run

        run()
    except KeyboardInterrupt:
        _interrupted()


def _interrupted() -> None:
    with contextlib.suppress(OSError):
        os.write(2, b"interrupted\n")
    sys.exit(130)


def __getattr__(name: str):
    if name == "app":                                            # `from ner_cli.cli import app`, imported lazily
        from .commands import app

        return app
    raise AttributeError(name)


__all__ = ["app", "main"]
