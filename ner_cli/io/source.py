"""Where input comes from: a file, `-` for standard input, either possibly gzip-compressed; lines in chunks.

- `open_binary(path)`: a binary stream, gunzipped when it starts with gzip's magic bytes (1f 8b), whatever
  the file's name. `open_text(path)` wraps it as UTF-8 text (a BOM dropped, undecodable bytes replaced).
- `LineChunks(path, size, chunker)`: lists of lines (without line ends) for the tagger. A
  regular file is cut by `chunker` (the pipeline's: full chunks that keep documents whole): throughput first. A
  terminal or a pipe is read as it arrives: a chunk also ends when no further line is waiting, so
  `tail -f log | ner tag` shows each line's result once it is complete.
"""

from __future__ import annotations

import codecs
import gzip
import io
import itertools
import os
import re
import select
import stat
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from ..errors import EnvironmentFault

GZIP_MAGIC = b"\x1f\x8b"
_LINE_END = re.compile(r"\r\n|\r|\n")


def _stdin_buffer() -> BinaryIO:
    if sys.stdin is None:                                  # started with stdin closed (`ner tag - <&-`)
        raise EnvironmentFault("-: standard input is closed", hint="give a file, or pipe text in")
    return open(sys.stdin.fileno(), "rb", closefd=False)


def open_binary(path: str | Path) -> BinaryIO:
    """A readable binary stream of `path` (`-`: standard input), decompressed if it is gzip data.

    A missing or unreadable file raises OSError, for the caller to report with its own wording."""
    if str(path) == "-":
        raw: io.BufferedReader = _stdin_buffer()            # type: ignore[assignment]
    else:                                                   # OSError (missing, a directory) is the caller's
        raw = open(path, "rb")                              # noqa: SIM115 -- returned to the caller
    if raw.peek(2)[:2] == GZIP_MAGIC:
        return _Gunzip(raw)                                 # type: ignore[return-value]
    return raw


class _Gunzip(gzip.GzipFile):
    """A GzipFile that closes the stream under it too (GzipFile leaves a given fileobj open)."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__(fileobj=raw, mode="rb")
        self._raw = raw

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


def is_gzip(path: str | Path) -> bool:
    """True if the file starts with gzip's magic bytes."""
    try:
        with open(path, "rb") as f:
            return f.read(2) == GZIP_MAGIC
    except OSError:
        return False


def open_text(path: str | Path) -> io.TextIOWrapper:
    """UTF-8 text of a file or stdin (gzip or not), undecodable bytes replaced, line ends kept as they are."""
    return io.TextIOWrapper(open_binary(path), encoding="utf-8-sig", errors="replace", newline="")


def arrives_slowly(path: str | Path) -> bool:
    """True for input that may pause between lines: standard input from a terminal, a pipe or a socket."""
    if str(path) != "-" or sys.stdin is None:
        return False
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode)


def stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


class LiveLines:
    """Lines of a file descriptor as soon as each is complete (`readline`), and whether one is waiting now.

    Reads with os.read (whatever the pipe holds, up to 64 KiB), decodes UTF-8 incrementally (a character split
    across two reads stays whole) and splits each read into lines at once. A line ends at \\n, \\r\\n or a
    lone \\r.
    """

    def __init__(self, fd: int, head: bytes | None = None) -> None:
        self.fd = fd
        self.rest = ""                                      # text after the last complete line
        self.lines: deque[str] = deque()
        self.eof = False
        self.first = True
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        if head is not None:
            self._fill(head)

    def _fill(self, data: bytes | None = None) -> None:
        if data is None:
            data = os.read(self.fd, 1 << 16)
        self.eof = not data
        text = self.decoder.decode(data, final=self.eof)
        if self.first and text:
            text, self.first = text.removeprefix("\ufeff"), False
        text = self.rest + text
        hold = "\r" if text.endswith("\r") and not self.eof else ""   # maybe half of a \r\n
        parts = _LINE_END.split(text[:-1] if hold else text)
        self.lines.extend(parts[:-1])
        self.rest = parts[-1] + hold
        if self.eof and self.rest:
            self.lines.append(self.rest)
            self.rest = ""

    def waiting(self) -> bool:
        """A whole line (or the end of input) can be returned without blocking. Bytes that are there are read
        (os.read returns what a ready pipe holds), so half a line does not count as a line."""
        while not self.lines and not self.eof:
            try:
                ready, _, _ = select.select([self.fd], [], [], 0)
            except (OSError, ValueError):
                return True
            if not ready:
                return False
            self._fill()
        return True

    def readline(self) -> str | None:
        """The next line without its line end, blocking until it is complete; None at the end of input."""
        while not self.lines and not self.eof:
            self._fill()
        return self.lines.popleft() if self.lines else None


class LineChunks:
    """The input's lines, without line ends, in lists (an iterator); see the module docstring. `waiting()` says
    whether the next list can come without waiting for input: False only when a pipe or a terminal has paused,
    so `ner tag --workers` writes what is tagged before it waits.

    Input is cut by `chunker` (lines with their line ends in, lists out; default: lists of `size`), e.g.
    `pipeline.chunks`, which also keeps documents whole and bounds lines and characters. Input that arrives
    slowly is cut as well whenever no further line is waiting: given to `chunker` with ``pause=`` (without a
    chunker, into lists of at most `size` lines).
    """

    def __init__(self, path: str | Path, size: int,
                 chunker: Callable[..., Iterator[list[str]]] | None = None) -> None:
        self.live: LiveLines | None = None
        self._lists = self._read(path, size, chunker)

    def __iter__(self) -> Iterator[list[str]]:
        return self

    def __next__(self) -> list[str]:
        return next(self._lists)

    def waiting(self) -> bool:
        return self.live is None or self.live.waiting()

    def _read(self, path: str | Path, size: int,
              chunker: Callable[..., Iterator[list[str]]] | None) -> Iterator[list[str]]:
        given = chunker
        if chunker is None:
            def chunker(lines: Iterable[str]) -> Iterator[list[str]]:
                it = (line.rstrip("\r\n") for line in lines)
                while batch := list(itertools.islice(it, size)):
                    yield batch

        if arrives_slowly(path):
            fd = sys.stdin.fileno()
            head = os.read(fd, 1 << 16)
            if not head.startswith(GZIP_MAGIC):
                src = self.live = LiveLines(fd, head)
                if given is None:
                    yield from live_chunks(src, size)
                else:                                       # the chunker's bounds, and an end at every pause
                    yield from given(iter(src.readline, None), pause=lambda: not src.waiting())
                return
            raw = io.BufferedReader(_Prefixed(head, fd))
            stream = io.TextIOWrapper(_Gunzip(raw), encoding="utf-8-sig", errors="replace", newline="")
        else:
            stream = open_text(path)
        with stream:
            yield from chunker(stream)



def live_chunks(src: LiveLines, size: int) -> Iterator[list[str]]:
    """Chunks of at most `size` lines that end early whenever no further line is waiting."""
    batch: list[str] = []
    while True:
        if batch and (len(batch) >= size or not src.waiting()):
            yield batch
            batch = []
        line = src.readline()
        if line is None:
            break
        batch.append(line)
    if batch:
        yield batch


class _Prefixed(io.RawIOBase):
    """A raw stream that gives back `head` (bytes already read from `fd`), then the rest of `fd`."""

    def __init__(self, head: bytes, fd: int) -> None:
        self.head, self.fd = head, fd

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:                           # type: ignore[override]
        if self.head:
            n = min(len(b), len(self.head))
            b[:n], self.head = self.head[:n], self.head[n:]
            return n
        data = os.read(self.fd, len(b))
        b[:len(data)] = data
        return len(data)
