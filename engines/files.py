"""Writing files safely: checks before long work, atomic writes, one-line errors for every I/O fault.

Every file actinr writes goes through :func:`write_atomic`: a temp file beside
the target, renamed over it only once complete, removed on any error or signal
(so a full disk, a read-only folder or Ctrl-C never leaves a half-written
file). Commands call :func:`check_output` on their output paths before the
long work starts, so a path that cannot be written fails in a second, not
after an hour of training. Missing parent folders are created when the file
is written (the check only makes sure they can be).
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import ActinrError

# What a user should read for the errors a write meets most, instead of the C library's wording.
_REASONS = {
    errno.ENOSPC: "the disk is full (no space left on device)",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EFBIG: "the file is too large for this file system",
}


def os_reason(exc: OSError) -> str:
    """A short reason for an :class:`OSError`, in words a user acts on."""
    return _REASONS.get(exc.errno) or (exc.strerror or str(exc)).rstrip(".").lower() or type(exc).__name__


class WriteError(ActinrError):
    """A file could not be written (disk full, read-only, permission); nothing half-written was left."""


def write_error(path, exc: OSError) -> WriteError:
    """The one-line error for a failed write of ``path``."""
    return WriteError(f"{path}: cannot write: {os_reason(exc)}")


def _existing_ancestor(path: Path) -> Path:
    """The nearest folder above ``path`` that exists (the one a missing parent would be created in)."""
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def check_output(path, folder: bool = False, what: str = "") -> Path:
    """Check that the output ``path`` (a file, or with ``folder`` a folder) can be written; returns it.

    Refuses, on one line naming ``what`` (e.g. ``-o``), a file output that is a
    folder and a folder output that is a file, and a path under a file or in a
    folder where no file can be created (probed with a temporary file, which
    also catches a read-only or full file system that permission bits do not
    show). Missing parent folders are not created here: the write creates them.
    """
    path = Path(path)
    label = f"{what} {path}" if what else str(path)
    if folder and path.exists() and not path.is_dir():
        raise ActinrError(f"{label}: is a file, not a folder; choose a folder name")
    if not folder and path.is_dir():
        raise ActinrError(f"{label}: is a folder; give a file name inside it")
    probe = path if folder and path.is_dir() else _existing_ancestor(path)
    if not probe.is_dir():
        raise ActinrError(f"{label}: {probe} is a file, not a folder")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".actinr-check.", dir=probe)
    except OSError as exc:
        raise ActinrError(f"{label}: cannot write in {probe}: {os_reason(exc)}") from None
    os.close(fd)
    os.unlink(tmp)
    return path


def make_folder(path) -> bool:
    """Create folder ``path`` (and its parents) if missing; True if it was created. One-line errors."""
    path = Path(path)
    if path.is_dir():
        return False
    try:
        path.mkdir(parents=True)
    except FileExistsError:
        raise ActinrError(f"{path}: is a file, not a folder; choose a folder name") from None
    except OSError as exc:
        raise ActinrError(f"{path}: cannot create this folder: {os_reason(exc)}") from None
    return True


def write_atomic(path, write: Callable[[str], None]) -> None:
    """Call ``write(tmp_path)`` on a temp file in ``path``'s folder, then rename it to ``path``.

    The temp name keeps ``path``'s suffix (some writers pick a format from it). On any
    error or interruption the temp file is removed and ``path`` is left as it was; an
    :class:`OSError` (disk full, read-only, permission) becomes a one-line
    :class:`ActinrError`. Missing parent folders are created.
    """
    path = Path(path)
    if path.is_dir():
        raise ActinrError(f"{path}: is a folder; give a file name inside it")
    make_folder(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    except OSError as exc:
        raise write_error(path, exc) from None
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; the result gets an ordinary file's mode
        os.replace(tmp, path)
    except OSError as exc:
        raise write_error(path, exc) from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    write_atomic(path, lambda tmp: Path(tmp).write_bytes(data))


def write_text(path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    write_atomic(path, lambda tmp: Path(tmp).write_text(text))


def _umask() -> int:
    mask = os.umask(0)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask
