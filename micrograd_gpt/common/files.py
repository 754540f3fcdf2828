"""Reading and writing files: clear errors for bad paths, and no half-written file ever.

Every file this library writes (checkpoints, pictures, traces, loss curves) goes through
`atomic_write`: the bytes go to a temporary file in the same folder, which then replaces
the target in one `os.replace`, a single step for the file system. Whoever reads the file
sees the old version or the new one, never a mix, even if the process is killed midway.

Every output path is checked by `check_output_path` first (commands call it before any
work starts, so a long training run cannot end in "cannot write there"): the folder must
be writable, the path must not be a folder, a special file (/dev/null, a named pipe, a
link to one: replacing those would break them) or one of the command's own inputs.

Temporary files are named `.<name>.<host>-<pid>.<random>.micrograd-tmp`, so they can be
recognised: one left behind by a writer that was killed (kill -9 leaves no chance to tidy
up) is removed by the next write to the same file, when its writer is no longer running
on this machine or it is more than a day old. Nothing else is ever removed.

Every file it reads (data, checkpoints) goes through `read_text`, which turns each way a
path can be wrong (missing, a folder, a device, too big, not text) into one ValueError
that names the file and what is wrong with it.
"""
from __future__ import annotations

import errno
import hashlib
import os
import re
import socket
import stat
import tempfile
import time
from pathlib import Path

__all__ = ["atomic_write", "atomic_write_text", "atomic_write_bytes", "read_text",
           "check_output_path", "same_file", "remove_stale_temporary_files", "MAX_READ_BYTES",
           "TEMPORARY_SUFFIX"]

MAX_READ_BYTES = 512 * 1024 * 1024  # larger inputs than this are refused, not read
TEMPORARY_SUFFIX = ".micrograd-tmp"
STALE_AFTER_SECONDS = 24 * 60 * 60  # a temporary file this old is left over, whoever made it


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
    removed and `path` is untouched. The path is checked first (`check_output_path`); a
    link to a regular file is written through (the link stays). Returns `path` as a Path."""
    target = check_output_path(path, "output file", probe=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporary_files(target)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=_temporary_prefix(target),
                                    suffix=TEMPORARY_SUFFIX)
    try:
        # mkstemp makes the file private (0600); give it the permissions a plain open()
        # would have: those of the file it replaces, or the default for new files
        os.chmod(tmp_name, _file_mode(target))
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8")) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the rename makes them visible
        _refuse_special(target, "output file")  # nothing swapped in meanwhile
        os.replace(tmp_name, target)
    except BaseException:  # includes KeyboardInterrupt: never leave a half-written file
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    return Path(path)


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


# ---------------------------------------------------------------------------------------
# Checking an output path before any work starts
# ---------------------------------------------------------------------------------------
def check_output_path(path, what="output file", *, inputs=(), probe=True):
    """The path a file can be written to at `path`, or a ValueError that says why not.

    `what` names the path in messages ("--out", "checkpoint"). Refused: an empty name, a
    folder, a special file (a device such as /dev/null, a named pipe, a socket, or a link
    to one: replacing it with a regular file would break whatever uses it), a name too
    long for the file system, a parent that is a file, a folder that cannot be written
    (with `probe`, tested by creating and removing a temporary file there), and any of
    `inputs` (paths the same command reads: writing would destroy what it reads). A link
    to a regular file gives the file it points to. Missing folders are fine: writing
    creates them.
    """
    name = _path_text(path, what)
    target = _resolve_link(Path(path), what, name)
    _refuse_special(target, what, name)
    folder = _existing_folder(target, what, name)
    _check_name_lengths(target, folder, what, name)
    for other in inputs:
        if other is not None and same_file(other, target):
            raise ValueError(f"{what} {name} is the same file as the input {str(other)!r}: "
                             "writing it would destroy what this command reads; choose "
                             "another name")
    if probe:
        _probe_folder(folder, what, name)
    return target


def same_file(a, b):
    """Whether the paths `a` and `b` name the same file (through links, `..` and the
    like); False when either does not exist."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def _path_text(path, what):
    """`path` as quoted text for messages, after checking it is a usable path at all."""
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"{what}: must be a file path, got {type(path).__name__}")
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if not text or "\x00" in text:
        raise ValueError(f"{what}: must be a file name, got {text!r}")
    if len(text) > 120:  # keep the message to one readable line
        return repr(text[:60] + "…" + text[-50:])
    if text.endswith(("/", os.sep)) or Path(text).name in ("", ".", ".."):
        raise ValueError(f"{what} {text!r} names a folder; give a file name in it "
                         f"(e.g. {os.path.join(text, 'file')!r})")
    return repr(text)


def _resolve_link(path, what, name):
    """`path`, or for a symbolic link to a regular file the file it points to.

    A dangling link is refused, and so is a link into /proc (such as /dev/stdout, which
    leads to /proc/self/fd/1): it stands for a stream of a running process, which a new
    file must not replace. A link to a special file is left for `_refuse_special`."""
    try:
        if not os.path.islink(path):
            return path
        mode = os.stat(path).st_mode  # follows the links, /proc's included
    except FileNotFoundError:
        raise ValueError(f"{what} {name} is a link to {os.readlink(path)!r}, which does not "
                         "exist; give the path of a file") from None
    except OSError as e:
        raise ValueError(_os_problem(what, name, e)) from None
    if not stat.S_ISREG(mode):
        return path
    hop = Path(os.path.abspath(path))
    for _ in range(40):  # the chain of links, one by one
        folder = Path(os.path.realpath(hop.parent))
        if folder.parts[:2] == ("/", "proc"):
            raise ValueError(f"{what} {name} leads to {str(hop)!r}, an open stream of a "
                             "running process, not a file; give the path of a file")
        if not os.path.islink(hop):
            break
        hop = Path(os.path.join(hop.parent, os.readlink(hop)))
    return Path(os.path.realpath(path))


def _refuse_special(path, what, name=None):
    """A ValueError if `path` exists and is not a regular file."""
    name = name or repr(str(path))
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as e:
        if e.errno == errno.ENOTDIR:
            return  # reported by _existing_folder, which names the file in the way
        raise ValueError(_os_problem(what, name, e)) from None
    if stat.S_ISDIR(mode):
        raise ValueError(f"{what} {name} is a folder; give a file name in it "
                         f"(e.g. {os.path.join(str(path), 'file')!r})")
    if not stat.S_ISREG(mode):
        kind = ("a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else
                "a named pipe" if stat.S_ISFIFO(mode) else
                "a socket" if stat.S_ISSOCK(mode) else "a special file")
        raise ValueError(f"{what} {name} is {kind}, not a regular file; writing would "
                         "replace it, so give the path of a regular file")


def _existing_folder(path, what, name):
    """The nearest folder above `path` that exists (where missing folders will be made),
    after checking that no file stands where a folder is needed."""
    folder = path.parent
    while True:
        try:
            mode = os.stat(folder).st_mode
        except FileNotFoundError:
            folder = folder.parent
            continue
        except OSError as e:
            if e.errno == errno.ENOTDIR:  # a file somewhere above: look further up
                folder = folder.parent
                continue
            raise ValueError(_os_problem(what, name, e)) from None
        if not stat.S_ISDIR(mode):
            raise ValueError(f"{what} {name} cannot be created: {str(folder)!r} is a file, "
                             "not a folder")
        return folder


def _check_name_lengths(path, folder, what, name):
    """Each part of `path` below `folder` (the ones still to be made) fits the file system."""
    try:
        most = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        most = 255
    parts = path.relative_to(folder).parts if path.is_relative_to(folder) else (path.name,)
    for part in parts:
        size = len(os.fsencode(part))
        if size > most:
            raise ValueError(f"{what} {name}: the name {part[:40]!r}… is {size} bytes long; "
                             f"this file system allows at most {most}")


def _probe_folder(folder, what, name):
    """Create and remove a temporary file in `folder`: the one sure test of writing."""
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".probe.", suffix=TEMPORARY_SUFFIX)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise ValueError(f"{what} {name} cannot be written: the folder {str(folder)!r} "
                         f"does not accept new files ({e.strerror}); choose another "
                         "folder") from None


def _os_problem(what, name, error):
    if error.errno == errno.ENAMETOOLONG:
        return (f"{what} {name}: the path, or a name in it, is too long for this file "
                "system (most allow 255 bytes a name)")
    return f"{what} {name} cannot be used: {error.strerror}"


# ---------------------------------------------------------------------------------------
# Temporary files: recognisable names, and tidying up after a killed writer
# ---------------------------------------------------------------------------------------
_HOST = hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]
_TEMPORARY = re.compile(r"\.(?P<host>[0-9a-f]{8})-(?P<pid>\d+)\.[^.]+"
                        + re.escape(TEMPORARY_SUFFIX) + "$")


def _temporary_prefix(target):
    """`.<name>.<host>-<pid>.`: the start of the name of a temporary file for `target`
    (the name shortened if it would make the temporary name too long)."""
    return f".{_short_name(target)}.{_HOST}-{os.getpid()}."


def _short_name(target):
    name = target.name
    while len(os.fsencode(name)) > 180:  # leaves room for the rest within 255 bytes
        name = name[:-1]
    return name


def remove_stale_temporary_files(target):
    """Remove the temporary files that writes of `target` left behind: those whose writer
    is no longer running on this machine, or that are more than a day old. Only regular
    files whose names follow this module's pattern for `target` are touched. Returns the
    paths removed."""
    target = Path(target)
    prefix = f".{_short_name(target)}."
    removed = []
    try:
        names = [n for n in os.listdir(target.parent)
                 if n.startswith(prefix) and n.endswith(TEMPORARY_SUFFIX)]
    except OSError:
        return removed
    for file_name in names:
        match = _TEMPORARY.search(file_name[len(prefix) - 1:])
        path = target.parent / file_name
        if match and _is_stale(path, match["host"], int(match["pid"])):
            try:
                path.unlink()
                removed.append(path)
            except OSError:
                pass  # another process tidied it first, or we may not: leave it
    return removed


def _is_stale(path, host, pid):
    try:
        info = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISREG(info.st_mode):
        return False
    if time.time() - info.st_mtime > STALE_AFTER_SECONDS:
        return True
    return host == _HOST and not _process_running(pid)


def _process_running(pid):
    """Whether process `pid` exists on this machine (when unsure: True, keep the file)."""
    if os.name == "nt":  # os.kill(pid, 0) would end the process there: never ask
        return True
    try:
        os.kill(pid, 0)  # signal 0 sends nothing: it only asks whether the process exists
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True
    return True
