"""User-facing errors. The CLI catches only these; anything else is a bug and keeps its traceback."""

from __future__ import annotations

import reprlib
from pathlib import Path
from typing import Any

_REPR = reprlib.Repr()                                            # keyword arguments only from Python 3.12
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxstring, _REPR.maxother, _REPR.maxlong = 2, 4, 4, 40, 40, 40


def excerpt(value: Any, limit: int = 80) -> str:
    """A short repr for error messages: never the whole of a huge or deeply nested value (R1)."""
    try:
        text = _REPR.repr(value)
    except (ValueError, RecursionError):                          # ints past Python's 4300-digit str limit
        text = f"<{type(value).__name__} too large to show>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


class NerError(Exception):
    """An error the user can fix. `exit_code` is what the CLI exits with; `hint` says what to do.

    Exit codes (the README's table): 2 for bad input data, configs, model files and usage (as typer's own
    usage errors); 1 for faults of the environment (EnvironmentFault, and in the CLI OSError, MemoryError).
    """

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its attributes, whatever its __init__ takes: an error raised in a worker process of
        `ner tag --workers` reaches the parent whole (DataError's five arguments included)."""
        return _restore, (type(self), self.args, self.__dict__)


def _restore(cls: type[NerError], args: tuple[Any, ...], state: dict[str, Any]) -> NerError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class DataError(NerError):
    """Bad input data: names the file, the 1-based line, what was expected and what was found."""

    exit_code = 2

    def __init__(
        self,
        path: str | Path | None,
        line: int | None,
        expected: str,
        got: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = str(path) if path is not None else "<input>"
        if line is not None:
            where += f":{line}"
        message = f"{where}: expected {expected}"
        if got is not None:
            message += f", got {got}"
        super().__init__(message, hint)
        self.path = path
        self.line = line
        self.expected = expected
        self.got = got


class ConfigError(NerError):
    """A bad config file or override. `problems` lists every problem found, one line each."""

    exit_code = 2

    def __init__(self, problems: list[str] | str, hint: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems), hint)


class ModelFileError(NerError):
    """A model file that is missing, truncated, from a newer format, or otherwise not a valid ner model."""

    exit_code = 2


class TrainingDiverged(NerError):
    """The loss or a gradient became NaN or infinite during training: a config (or data) to change."""

    exit_code = 2


class EnvironmentFault(NerError):
    """Not the input's fault: a closed stdin, an output another run holds, a resource limit."""

    exit_code = 1


class UsageError(NerError, ValueError):
    """A bad argument to a library function or a command (an unknown output format, say)."""

    exit_code = 2


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised by the CLI's handler: stops like Ctrl-C (cleanly, keeping what is saved), exit 143."""
