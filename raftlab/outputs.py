"""Where commands may write, and how they write there.

A command writes only to paths it was given or to its own run directory,
never beside an input unless asked. Before any work starts, each output path
is checked: it must be a regular file (to be replaced) or a new path in a
directory that exists or can be made. Symbolic links, devices, pipes and
directories are refused, so ``--out /dev/stdout`` run as root cannot replace
the device link; ``-`` means standard output where a command can stream.

Files are written under a temporary name unique to the writer and renamed
into place, so two runs never interleave their bytes in one file and a
reader never sees half a file. Every I/O error becomes ``OutputError``: one
line naming the path and the reason.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from traces.recorder import STDOUT, unique_partial


class OutputError(Exception):
    """An output path that cannot be used or written; the message is one line."""


def describe_os_error(error: OSError, what: str = "cannot write") -> str:
    """``path: cannot write: reason`` from an ``OSError``."""
    where = error.filename if error.filename is not None else "?"
    return f"{where}: {what}: {error.strerror or error}"


def check_output_file(path: Path, option: str, stream: bool = False) -> Path:
    """``path`` if it may be written; else ``OutputError`` naming ``option``.
    ``stream``: ``-`` (standard output) is allowed."""
    if str(path) == STDOUT:
        if stream:
            return path
        raise OutputError(f"{option}: '-' (standard output) is not supported here; give a file")
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        _check_parent(path, option)
        return path
    except OSError as error:
        raise OutputError(f"{option}: {describe_os_error(error, 'cannot use')}") from None
    if stat.S_ISDIR(mode):
        raise OutputError(f"{option}: {path} is a directory; give a file's path")
    if stat.S_ISLNK(mode):
        raise OutputError(
            f"{option}: {path} is a symbolic link; give a regular file or a new path "
            "(raftlab replaces files, it does not write through links)"
        )
    if not stat.S_ISREG(mode):
        raise OutputError(
            f"{option}: {path} is not a regular file (a device, pipe or socket); "
            "give a regular file or a new path"
        )
    _check_parent(path, option)
    return path


def _check_parent(path: Path, option: str) -> None:
    """The nearest existing ancestor must be a directory we may write in."""
    parent = path.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"{option}: {parent} is not a directory, so {path} cannot be made")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{option}: cannot write in {parent}: permission denied")


def check_output_dir(path: Path, option: str) -> Path:
    """A directory to create (or reuse, if empty)."""
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        _check_parent(path / "x", option)
        return path
    except OSError as error:
        raise OutputError(f"{option}: {describe_os_error(error, 'cannot use')}") from None
    if not stat.S_ISDIR(mode):
        raise OutputError(f"{option}: {path} exists and is not a directory")
    _check_parent(path / "x", option)
    return path


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a unique temporary file and a
    rename; an ``OSError`` leaves no temporary file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = unique_partial(path)
    try:
        with open(temporary, "xb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path
