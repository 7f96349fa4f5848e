"""Files written whole or not at all, and operating-system errors as one line.

Reports and exports are written to a temporary name in the destination folder and moved into
place with `os.replace` (atomic on one file system): a full disk, a killed process or a write
error leaves the previous file (or none), never a truncated one. Light: imports nothing heavy.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: The log of errors beside the warehouse: one entry per failed command, appended.
ERROR_LOG = "kpi-errors.log"


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path in `path`'s folder to write to (for writers that want a file name, such as
    xlsxwriter); moved to `path` when the block ends without an error, removed otherwise."""
    import tempfile

    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        _sync(temporary)
        os.chmod(temporary, _mode_for(path))
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs) -> Iterator:
    """`open(path, mode, **kwargs)` for writing, into a temporary file moved into place at the end."""
    if not any(flag in mode for flag in "wx"):
        raise ValueError(f"atomic_open writes a new file: mode {mode!r}")
    with atomic_path(path) as temporary:
        with open(temporary, mode.replace("x", "w"), **kwargs) as handle:
            yield handle


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` whole or not at all; returns the path."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write `text` to `path` whole or not at all (newlines as given); returns the path."""
    with atomic_open(path, "w", encoding=encoding, newline="") as handle:
        handle.write(text)
    return Path(path)


def _sync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _mode_for(path: Path) -> int:
    """The permissions a plain `open(path, "w")` would give: those of the file replaced, else
    0o666 less the umask (mkstemp creates 0o600)."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


# --------------------------------------------------------------------------------------------
# Operating-system errors as one line
# --------------------------------------------------------------------------------------------

_FIXES = {
    errno.ENOSPC: "the disk is full; free some space and try again",
    errno.EDQUOT: "the disk quota is used up; free some space and try again",
    errno.EROFS: "read-only file system; choose a folder you can write to",
    errno.EACCES: "no permission; choose a folder you can write to",
    errno.EPERM: "no permission; choose a folder you can write to",
    errno.EISDIR: "a folder is in the way; choose another path",
    errno.ENOTDIR: "a file is in the way where a folder should be; choose another path",
    errno.EEXIST: "a file is in the way; choose another path",
}


def os_error_line(exc: BaseException) -> str | None:
    """One line for an operating-system error the user fixes on the machine (disk full, read-only
    folder, no permission, a file where a folder should be); None for any other error."""
    if not isinstance(exc, OSError) or exc.errno not in _FIXES:
        return None
    what = exc.filename if exc.filename is not None else "a file"
    return f"{what}: {exc.strerror or os.strerror(exc.errno)} ({_FIXES[exc.errno]})"


def append_error_log(folder: str | os.PathLike | None, line: str, exc: BaseException) -> Path | None:
    """Append the error's full text (the line, the traceback, and `exc.detail` when a step inside
    Dagster failed) to `folder/kpi-errors.log`; returns its path, or None when the folder does not
    exist or cannot be written (a full disk, say): the log never hides the error itself."""
    import traceback
    from datetime import datetime

    if folder is None or not Path(folder).is_dir():
        return None
    log = Path(folder).resolve() / ERROR_LOG
    entry = [f"=== {datetime.now().isoformat(timespec='seconds')} (pid {os.getpid()}): {' '.join(sys.argv)}",
             f"error: {line}", "".join(traceback.format_exception(exc)).rstrip()]
    detail = getattr(exc, "detail", None)
    if detail:
        entry += ["--- the failed step inside the Dagster run:", str(detail).rstrip()]
    existed = log.exists()
    try:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write("\n".join(entry) + "\n\n")
    except OSError:
        if not existed:  # no empty log left behind on a full disk
            try:
                log.unlink(missing_ok=True)
            except OSError:
                pass
        return None
    return log
