"""kpi/fileio.py: files written whole or not at all, OS errors as one line, the error log."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from kpi.fileio import (
    ERROR_LOG,
    append_error_log,
    atomic_open,
    atomic_path,
    atomic_write_bytes,
    atomic_write_text,
    os_error_line,
)


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_written_whole(tmp_path):
    target = tmp_path / "report.html"
    assert atomic_write_text(target, "<p>é</p>\r\n") == target
    assert target.read_bytes() == "<p>é</p>\r\n".encode()  # newlines as given
    atomic_write_bytes(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert _leftovers(tmp_path) == []


def test_an_error_while_writing_leaves_the_previous_file(tmp_path):
    target = tmp_path / "roi.csv"
    target.write_text("month,roi\n2025-01,1.0\n")
    with pytest.raises(OSError, match="No space left"):
        with atomic_open(target, "w", encoding="utf-8") as handle:
            handle.write("month,roi\n")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert target.read_text() == "month,roi\n2025-01,1.0\n"
    assert _leftovers(tmp_path) == []


def test_an_error_leaves_no_file_where_there_was_none(tmp_path):
    target = tmp_path / "new.xlsx"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as temporary:
            temporary.write_bytes(b"half")
            raise RuntimeError("writer failed")
    assert list(tmp_path.iterdir()) == []


def test_permissions_as_a_plain_write_would_give(tmp_path):
    umask = os.umask(0o022)
    try:
        fresh = atomic_write_text(tmp_path / "a.txt", "x")
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o644  # not mkstemp's 0o600
        kept = tmp_path / "b.txt"
        kept.write_text("old")
        kept.chmod(0o640)
        atomic_write_text(kept, "new")
        assert stat.S_IMODE(kept.stat().st_mode) == 0o640 and kept.read_text() == "new"
    finally:
        os.umask(umask)


def test_atomic_open_refuses_to_append(tmp_path):
    with pytest.raises(ValueError):
        with atomic_open(tmp_path / "x", "a"):
            pass


def test_os_errors_the_user_fixes_are_one_line():
    full = OSError(errno.ENOSPC, "No space left on device", "/data/out/report.html")
    assert os_error_line(full) == ("/data/out/report.html: No space left on device (the disk is full; free some "
                                   "space and try again)")
    assert os_error_line(OSError(errno.EROFS, "Read-only file system", "/mnt/x")) == (
        "/mnt/x: Read-only file system (read-only file system; choose a folder you can write to)")
    assert os_error_line(PermissionError(errno.EACCES, "Permission denied")) == (
        "a file: Permission denied (no permission; choose a folder you can write to)")
    assert os_error_line(FileNotFoundError(errno.ENOENT, "No such file or directory", "x")) is None  # maybe a bug
    assert os_error_line(ValueError("x")) is None


def test_error_log_appends_the_line_the_trace_and_the_detail(tmp_path):
    def fail():
        raise ValueError("inner")

    try:
        fail()
    except ValueError as exc:
        first = exc
    second = RuntimeError("outer")
    second.detail = "Stack Trace of the failed step"
    log = append_error_log(tmp_path, "first line", first)
    assert log == tmp_path / ERROR_LOG
    assert append_error_log(tmp_path, "second line", second) == log
    text = log.read_text()
    assert text.count("=== ") == 2
    assert "error: first line" in text and "in fail" in text and "ValueError: inner" in text
    assert text.index("error: first line") < text.index("error: second line")
    assert "Stack Trace of the failed step" in text


def test_no_log_without_a_folder(tmp_path):
    assert append_error_log(None, "x", ValueError()) is None
    assert append_error_log(tmp_path / "missing", "x", ValueError()) is None
    assert not (tmp_path / "missing").exists()
