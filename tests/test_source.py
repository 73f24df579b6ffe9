"""Input sources: gzip by magic bytes, and lines of a pipe as they arrive."""

from __future__ import annotations

import gzip
import os

from ner_cli.io.source import LiveLines, is_gzip, live_chunks, open_text


def test_gzip_is_recognised_by_its_bytes_not_its_name(tmp_path):
    plain, packed = tmp_path / "a.gz", tmp_path / "b.txt"
    plain.write_text("Ana\nLisbon\n", encoding="utf-8")
    packed.write_bytes(gzip.compress(b"Ana\nLisbon\n"))
    assert not is_gzip(plain) and is_gzip(packed)
    with open_text(plain) as a, open_text(packed) as b:
        assert a.read() == b.read() == "Ana\nLisbon\n"


def test_live_lines_split_like_universal_newlines_across_reads():
    r, w = os.pipe()
    src = LiveLines(r, "\ufeffone\r".encode())
    assert src.lines == deque_of() and src.rest == "one\r"     # a \r at the end may be half of \r\n
    os.write(w, b"\ntwo\rthr" + "é".encode()[:1])
    assert src.readline() == "one"
    assert src.readline() == "two"
    assert not src.waiting()                                   # "thr" and half a character: nothing whole yet
    os.write(w, "é".encode()[1:] + b"ee\n")
    os.close(w)
    assert src.waiting() and src.readline() == "thréee"
    assert src.readline() is None


def test_live_chunks_end_when_input_pauses():
    r, w = os.pipe()
    os.write(w, b"a\nb\n")
    chunks = live_chunks(LiveLines(r), size=100)
    assert next(chunks) == ["a", "b"]                          # not waiting for 100 lines
    os.write(w, b"c\nd")
    os.close(w)
    assert next(chunks) == ["c", "d"]


def test_half_a_line_is_not_a_line_waiting():
    """A complete line, then half of the next: no line is waiting (the complete one's chunk ends there, and its
    result is not held back until the next line is finished)."""
    r, w = os.pipe()
    os.write(w, b"a\n")
    src = LiveLines(r)
    assert src.readline() == "a"
    os.write(w, b"half of b")
    assert not src.waiting()                                   # bytes are there, but only half a line
    os.write(w, b" and the rest\n")
    assert src.waiting() and src.readline() == "half of b and the rest"
    os.close(w)
    assert src.waiting() and src.readline() is None


def deque_of():
    from collections import deque

    return deque()
