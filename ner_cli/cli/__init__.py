"""The `ner` command line: option parsing and display only; the work is done by library functions.

`main` is the console script. It imports the commands (typer, rich) only once it can handle Ctrl-C, so an
interrupt during start-up ends like any other: "interrupted" and exit 130 (SIGTERM: "terminated", 143), never an
import traceback.
"""

from __future__ import annotations

import contextlib
import os
import sys


def main() -> None:
    try:
        from .commands import main as run

        run()
    except KeyboardInterrupt as e:                   # before the command's own handler (Terminated: SIGTERM)
        from ..errors import Terminated

        _interrupted(isinstance(e, Terminated))


def _interrupted(terminated: bool) -> None:
    with contextlib.suppress(OSError):
        os.write(2, b"terminated\n" if terminated else b"interrupted\n")
    sys.exit(143 if terminated else 130)


def __getattr__(name: str):
    if name == "app":                                            # `from ner_cli.cli import app`, imported lazily
        from .commands import app

        return app
    raise AttributeError(name)


__all__ = ["app", "main"]
