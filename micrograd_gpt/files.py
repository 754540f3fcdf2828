"""Reading and writing files: clear errors for bad paths, and no half-written file ever.

Every file this library writes (checkpoints, pictures, traces, loss curves) goes through
`atomic_write`: the bytes go to a temporary file in the same folder, which then replaces
the target in one `os.replace`, a single step for the file system. Whoever reads the file
sees the old version or the new one, never a mix, even if the process is killed midway.

Every file it reads (data, checkpoints) goes through `read_text`, which turns each way a
path can be wrong (missing, a folder, a device, too big, not text) into one ValueError
that names the file and what is wrong with it.
"""
from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

__all__ = ["atomic_write", "atomic_write_text", "atomic_write_bytes", "read_text",
           "MAX_READ_BYTES"]

MAX_READ_BYTES = 512 * 1024 * 1024  # larger inputs than this are refused, not read


def read_text(path, what, max_bytes=MAX_READ_BYTES):
    """The text of the UTF-8 file at `path` (a leading byte-order mark dropped).

    `what` names the file in errors ("data file", "checkpoint"). Only regular files are
    read: a device such as /dev/zero or a named pipe would never end or never answer.
    """
    raw = _read_bytes(Path(path), what, max_bytes)
    if b"\x00" in raw:
        raise ValueError(f"{what} {str(path)!r} is not a text file (it contains NUL bytes, as binary files do)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{what} {str(path)!r} is not a text file: not valid UTF-8 (bad "
                         f"byte at offset {e.start}); save it as UTF-8 text") from None
    return text.removeprefix("\ufeff")


def _read_bytes(path, what, max_bytes):
    name = repr(str(path))
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise ValueError(f"{what} {name} is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{what} {name} is not a regular file (a device, pipe or "
                             "socket); give the path of a file")
        if info.st_size > max_bytes:
            raise ValueError(f"{what} {name} is {info.st_size:,} bytes; at most "
                             f"{max_bytes:,} are read")
        with open(path, "rb") as f:
            raw = f.read(max_bytes + 1)  # one byte more tells a file that grew meanwhile
        if len(raw) > max_bytes:
            raise ValueError(f"{what} {name} is larger than {max_bytes:,} bytes, the most "
                             "that is read")
        return raw
    except FileNotFoundError:
        raise ValueError(f"{what} {name} does not exist") from None
    except OSError as e:
        raise ValueError(f"{what} {name} cannot be read: {e.strerror}") from None


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
