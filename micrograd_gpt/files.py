"""Writing files so that a crash never leaves a half-written one.

Every file this library writes (checkpoints, pictures, traces, loss curves) goes through
`atomic_write`: the bytes go to a temporary file in the same folder, which then replaces
the target in one `os.replace`, a single step for the file system. Whoever reads the file
sees the old version or the new one, never a mix, even if the process is killed midway.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write", "atomic_write_text", "atomic_write_bytes"]


def atomic_write(path, write, binary=False):
    """Create or replace the file `path` all at once: `write(f)` fills a temporary file
    (text mode, UTF-8; bytes if `binary`) in the same directory, which then replaces
    `path` in one `os.replace`. If anything fails before that, the temporary file is
    removed and `path` is untouched. Returns `path` as a Path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); give it the permissions a plain open()
        # would have: those of the file it replaces, or the default for new files
        os.chmod(tmp_name, _file_mode(path))
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8")) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the rename makes them visible
        os.replace(tmp_name, path)
    except BaseException:  # includes KeyboardInterrupt: never leave a half-written file
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    return path


def atomic_write_text(path, text):
    """`atomic_write` for a string (UTF-8)."""
    return atomic_write(path, lambda f: f.write(text))


def atomic_write_bytes(path, data):
    """`atomic_write` for bytes."""
    return atomic_write(path, lambda f: f.write(data), binary=True)


def _file_mode(path):
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)  # the only way to read the umask is to set it...
        os.umask(umask)      # ...and put it back at once
        return 0o666 & ~umask
