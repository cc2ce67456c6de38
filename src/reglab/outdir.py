"""Output folders: reglab writes only into a folder it created, or one it recognizes as its own.

Every command that writes a folder (``train``/``run``, ``sweep``, ``study``, ``reproduce``, and any other)
takes it with :func:`claim` before it starts working:

* a path that does not exist is created, with its parents;
* an empty folder is taken;
* a folder holding reglab's marker, ``.reglab.json`` (the tool, the command and the hash of the
  configuration that wrote it), is taken by the same command: it writes its own files again, by
  their names, and leaves every other file alone;
* a folder whose every entry is a folder of the same command (``studies/`` holding ``studies/NAME/``),
  and a folder inside a folder of the same command (``studies/NAME/`` in such a ``studies/``), are taken too;
* anything else is refused with one line (:class:`reglab.errors.ReglabError`, exit 2) before anything is
  written: a file, a path under a file, a folder of someone else's files, a folder another reglab command
  wrote, a path that cannot be created or written (read-only, ``/proc``, too long, no permission).

While the command works, it holds ``.reglab.lock`` (an exclusive ``flock``; the file names the holder's
process id and command). A second command on the same folder is refused and told who holds it. The
kernel releases the lock of a process that dies, so a lock file left by a killed process is stale and
simply taken over; the temporary files that process left half-written (``.NAME.PID.TOKEN.tmp`` of
:func:`reglab.io.atomic_open`, matched by that exact pattern) are then the holder's to remove
(:meth:`Claim.remove_orphans`). A command that fails or is interrupted before writing anything but the
marker leaves the folder as it found it (one it created is removed again).

A command that writes one file the user names (``reglab export --out FILE``) checks it with
:func:`check_file` before any work instead.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import time
from pathlib import Path

from reglab.errors import ReglabError, shown
from reglab.io import orphaned_temp_files, temp_path, write_json

try:  # POSIX; elsewhere (Windows) folders are claimed without a lock
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

#: The marker that makes a folder reglab's own, and the lock file of the command working in it.
MARKER, LOCK = ".reglab.json", ".reglab.lock"
TOOL = "reglab"
#: The most bytes of a marker read (a larger file is not one of reglab's).
_MARKER_BYTES = 1 << 16

_held: dict[str, Claim] = {}  # folders this process holds, by their absolute path


class Claim:
    """A folder held by one command of this process (see :func:`claim`); a context manager.

    Attributes
    ----------
    path : Path
        The folder.
    command : str
        The command holding it.
    created : Path or None
        The topmost folder :func:`claim` created (the folder itself, or a parent), else ``None``.
    previous : dict or None
        The marker found in the folder (``None``: the folder was new or empty).
    stale_pid : int or None
        The process id in a lock file left by a process that died without releasing it.
    """

    def __init__(self, path: Path, command: str, created: Path | None, previous: dict | None, fd: int | None,
                 stale_pid: int | None):
        self.path, self.command, self.created, self.previous = path, command, created, previous
        self.stale_pid = stale_pid
        self._fd = fd
        self._depth = 1

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        self.release(failed=kind is not None)

    def remove_orphans(self, *subfolders: str) -> list[Path]:
        """Remove the temporary files other (killed) processes left in the folder and ``subfolders``; return them."""
        removed = []
        for folder in (self.path, *(self.path / s for s in subfolders)):
            for tmp in orphaned_temp_files(folder):
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
                    removed.append(tmp)
        return removed

    def release(self, failed: bool = False) -> None:
        """Let the folder go; after a failure, undo the claim where nothing but the marker was written."""
        self._depth -= 1
        if self._depth > 0:
            return
        _held.pop(_key(self.path), None)
        undo = failed and self.previous is None and _only_ours(self.path)
        if undo:
            with contextlib.suppress(OSError):
                (self.path / MARKER).unlink()
        if self._fd is not None:
            with contextlib.suppress(OSError):
                (self.path / LOCK).unlink()
            os.close(self._fd)
            self._fd = None
        if undo and self.created is not None:
            _remove_created(self.path, self.created)


def claim(path: str | Path, command: str, config: str = "", *, flag: str = "--out") -> Claim:
    """Take the folder ``path`` for ``command`` (see the module docstring) and return the :class:`Claim`.

    Parameters
    ----------
    path : str or Path
        The output folder.
    command : str
        The command writing it (``train``, ``sweep``, ``study``, ``reproduce``, …): the marker names it,
        and a folder another command wrote is refused.
    config : str
        The hash of the configuration that writes it, recorded in the marker.
    flag : str
        How the user named the folder, for messages.

    A folder this process already holds is claimed again at once (a nested claim of the same command).

    Raises
    ------
    ReglabError
        One line naming the folder and why it cannot be written, before anything is written.
    """
    path = _named(path, "folder", flag)
    held = _held.get(_key(path))
    if held is not None:
        if held.command != command:
            raise ReglabError(f"{flag} {shown(path)} is in use by reglab {held.command} in this process")
        held._depth += 1
        return held
    created = _make(path, flag) if _status(path, flag) is None else None
    try:
        previous = _check_owner(path, command, flag)
        fd, stale_pid = _lock(path, command, flag)
    except BaseException:
        if created is not None:
            _remove_created(path, created)
        raise
    result = Claim(path, command, created, previous, fd, stale_pid)
    try:
        previous = _check_owner(path, command, flag)  # again, now that no other reglab can change it
        result.previous = previous
        _write_marker(path, command, config, flag)
    except BaseException:
        result.release(failed=True)
        raise
    result.remove_orphans()
    _held[_key(path)] = result
    return result


def check_file(path: str | Path, flag: str = "--out") -> Path:
    """Check, before any work, that one file can be written at ``path`` (as :func:`reglab.io.atomic_open` writes
    it: a temporary file beside it, then renamed), and return it as a :class:`~pathlib.Path`.

    A file the user names is written over, as ``cp`` or ``torch.save`` would; everything else that cannot be
    written is one line (:class:`reglab.errors.ReglabError`, exit 2): a folder, a path under a file, a folder
    that cannot be created or written (read-only, ``/proc``, no permission), a name too long. The check writes
    a temporary file and removes it, and removes the folders it created to do so.
    """
    path = _named(path, "file", flag)
    try:
        is_folder = stat.S_ISDIR(path.stat().st_mode)
    except (FileNotFoundError, NotADirectoryError):
        is_folder = False
    except OSError as exc:  # a name too long, a loop of links, no permission on the way
        raise _cannot(path, flag, exc) from None
    if is_folder:
        raise ReglabError(f"{flag} {shown(path)} is a folder; give a file name")
    nearest = path.absolute().parent
    while not os.path.lexists(nearest) and nearest.parent != nearest:
        nearest = nearest.parent
    if not nearest.is_dir():
        raise _cannot(path, flag, OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR)))
    created = None if path.parent.is_dir() else _make(path.parent, flag)
    try:
        probe = temp_path(path)
        try:
            os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except OSError as exc:
            raise _cannot(path, flag, exc) from None
        probe.unlink()
    finally:
        if created is not None:
            _remove_created(path.parent, created)
    return path


# -- the steps of a claim --------------------------------------------------------------------------
def _named(path: str | Path, kind: str, flag: str) -> Path:
    """``path`` as a :class:`~pathlib.Path`, refused where it names nothing (blank) or holds a NUL."""
    text = str(path)
    if not text.strip():
        raise ReglabError(f"{flag} needs a {kind} name, got {text!r}")
    if "\0" in text:
        raise ReglabError(f"{flag} {shown(text)!r}: a path cannot contain a NUL character")
    return Path(path)


def _key(path: Path) -> str:
    return os.path.abspath(path)


def _status(path: Path, flag: str) -> os.stat_result | None:
    """The folder's status, ``None`` if it does not exist; an error if it is not a usable folder."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _cannot(path, flag, exc) from None
    if not stat.S_ISDIR(st.st_mode):
        kind = "a file" if stat.S_ISREG(st.st_mode) else "not a folder"
        raise ReglabError(f"{flag} {shown(path)} is {kind}; give a folder (new, empty, or one reglab wrote)")
    return st


def _make(path: Path, flag: str) -> Path:
    """Create ``path`` and its missing parents; return the topmost one created."""
    top = path
    for parent in path.absolute().parents:
        if os.path.lexists(parent):
            break
        top = parent
    try:
        path.mkdir(parents=True)
    except FileExistsError:  # created meanwhile by someone else, or a broken link
        _status(path, flag)
        if os.path.lexists(path) and not path.is_dir():
            raise ReglabError(f"{flag} {shown(path)} is a link to nothing; give a folder") from None
        return path
    except OSError as exc:
        _remove_created(path, top)  # the parents made before the failure
        raise _cannot(path, flag, exc) from None
    return top


def _cannot(path: Path, flag: str, exc: OSError) -> ReglabError:
    reasons = {
        errno.ENOTDIR: "a part of the path is a file, not a folder",
        errno.ENAMETOOLONG: "the name is too long for the file system",
        errno.EROFS: "the file system is read-only",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.ENOSPC: "no space left on the device",
        errno.ENOENT: "the path cannot be created there",
    }
    reason = reasons.get(exc.errno or 0, exc.strerror or type(exc).__name__)
    return ReglabError(f"{flag} {_short(path)}: cannot write there ({reason})")


def _short(path: Path) -> str:
    text = shown(path)
    return text if len(text) <= 160 else f"{text[:80]}…{text[-60:]}"


def _read_marker(path: Path) -> dict | None:
    """The marker of ``path`` if it holds a valid one of reglab's."""
    try:
        with open(path / MARKER, "rb") as f:
            data = json.loads(f.read(_MARKER_BYTES))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("tool") != TOOL or not isinstance(data.get("command"), str):
        return None
    return data


def _entries(path: Path, flag: str) -> list[str]:
    try:
        return [e for e in os.listdir(path) if e != LOCK]
    except OSError as exc:
        raise _cannot(path, flag, exc) from None


def _check_owner(path: Path, command: str, flag: str) -> dict | None:
    """The folder's marker if it is ``command``'s own, ``None`` if it is empty or a folder of ``command``'s
    folders; otherwise an error."""
    marker = _read_marker(path)
    if marker is not None:
        if marker["command"] != command:
            raise ReglabError(f"{flag} {shown(path)} holds the output of reglab {shown(marker['command'])}, not of "
                              f"reglab {command}; choose another folder")
        return marker
    entries = _entries(path, flag)
    if not entries:
        return None
    parent = _read_marker(path.absolute().parent)
    if parent is not None and parent["command"] == command:  # studies/NAME inside a studies/ of reglab study
        return None
    if all((path / e).is_dir() and (m := _read_marker(path / e)) is not None and m["command"] == command
           for e in entries):
        return None
    raise ReglabError(f"{flag} {shown(path)} is not empty and reglab did not write it (no {MARKER}); "
                      "choose a new or empty folder, so that no file of yours is overwritten")


def _lock(path: Path, command: str, flag: str) -> tuple[int | None, int | None]:
    """Hold ``path/.reglab.lock``; return its descriptor and the process id of a stale holder, if any."""
    if fcntl is None:  # pragma: no cover
        return None, None
    lock = path / LOCK
    for _ in range(10):
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        except OSError as exc:
            raise _cannot(path, flag, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _holder(fd)
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise ReglabError(f"{flag} {shown(path)} is in use by {holder}; wait for it to finish, or choose "
                                  "another folder") from None
            raise _cannot(path, flag, exc) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # the holder released and removed it between our open and our lock: try again
            os.close(fd)
            continue
        stale = _holder_pid(fd)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {command}\n".encode(), 0)
        except OSError as exc:
            os.close(fd)
            raise _cannot(path, flag, exc) from None
        return fd, stale
    raise ReglabError(f"{flag} {shown(path)}: could not take its lock")  # pragma: no cover


def _holder(fd: int) -> str:
    words = os.pread(fd, 200, 0).decode("utf-8", "replace").split()
    if len(words) >= 2 and words[0].isdigit():
        return f"reglab {shown(words[1])} (process {words[0]})"
    return "another reglab process"


def _holder_pid(fd: int) -> int | None:
    words = os.pread(fd, 200, 0).decode("utf-8", "replace").split()
    return int(words[0]) if words and words[0].isdigit() else None


def _write_marker(path: Path, command: str, config: str, flag: str) -> None:
    from reglab import __version__

    marker = {"tool": TOOL, "command": command, "config": config, "version": __version__,
              "written": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    try:
        write_json(path / MARKER, marker)
    except ReglabError as exc:  # the first write: the folder is unusable, not a failure while working
        raise ReglabError(f"{flag} {_short(path)}: cannot write there ({str(exc).rsplit(': ', 1)[-1]})") from None


def _only_ours(path: Path) -> bool:
    try:
        return set(os.listdir(path)) <= {MARKER, LOCK}
    except OSError:
        return False


def _remove_created(path: Path, top: Path) -> None:
    """Remove ``path`` and its parents up to ``top`` (folders :func:`claim` created), where they are empty."""
    folder = path.absolute()
    top = top.absolute()
    while True:
        try:
            folder.rmdir()
        except OSError:
            if os.path.lexists(folder):  # not empty: it holds something now, and so do its parents
                return
            # never made (a mkdir that failed on the way, a name too long): its parents may have been
        if folder == top or folder.parent == folder:
            return
        folder = folder.parent
