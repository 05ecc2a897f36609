"""The only way the archive touches the disk: one writer confined to its folder, and the atomic swap.

A build writes into a folder beside the output (``.archive.spare``) through a
:class:`SiteWriter`, which refuses any path that would land outside it. When
the build is complete that folder and the archive trade places in a single
``rename`` (``renameat2(RENAME_EXCHANGE)`` on Linux), so readers never see a
half-built site, and a failed build leaves the archive as it was.

The previous archive then stays beside the new one as the spare that the next
build recycles: its folders are kept, and a file that is the very same file
(same inode) as the one the build takes over is left alone. Publishing one
more issue thus touches a few dozen files instead of remaking the whole tree.
The spare is never served; it may be deleted at any time.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

from ..errors import CuratorError, UsageError

MARKER = ".curator/manifest.json"  # present in every archive curator built
_STAGING_INFIX = ".building-"
_RETIRED_INFIX = ".retired-"
_SPARE_SUFFIX = ".spare"


class UnsafePathError(CuratorError):
    """A path given to the writer would land outside the archive folder."""


def check_relative(path: str) -> list[str]:
    """The parts of ``path`` if it is a safe relative POSIX path (``2022-01/index.html``), or UnsafePathError."""
    if not isinstance(path, str) or not path:
        raise UnsafePathError(f"empty or non-text path {path!r}")
    if "\x00" in path or "\\" in path or path.startswith("/") or ":" in path.split("/")[0]:
        raise UnsafePathError(f"{path!r} is not a relative path inside the archive")
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise UnsafePathError(f"{path!r} has an empty, '.' or '..' component")
    return parts


class SiteWriter:
    """Writes files under ``root`` only; every path is checked before anything is created.

    Folders are made one level at a time, and a name that already exists must be a
    real folder (a symbolic link there is removed, never followed): nothing can lead
    a write out of ``root``.
    An existing entry where a file goes (a file or a link left in a recycled folder)
    is removed first, and files are created exclusively (``O_EXCL``): an existing
    file or link is never followed, nor written through (it may be shared, as a
    hard link, with the archive being served).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._root = os.fspath(root)
        self._dirs: set[str] = {""}
        self._files: set[str] = set()

    def target(self, path: str) -> str:
        """The file for ``path``, its folders made, after checking it stays inside the root."""
        parts = check_relative(path)
        folder = ""
        for part in parts[:-1]:
            folder = f"{folder}/{part}" if folder else part
            if folder in self._dirs:
                continue
            where = os.path.join(self._root, folder)
            try:
                os.mkdir(where)
            except FileExistsError:
                if not stat.S_ISDIR(os.lstat(where).st_mode):  # a link or a file: removed, never followed
                    os.unlink(where)
                    os.mkdir(where)
            self._dirs.add(folder)
        self._files.add(path)
        return os.path.join(self._root, path)

    @staticmethod
    def _clear(target: str) -> os.stat_result | None:
        """Remove what is at ``target`` (never following a link); what was there."""
        try:
            st = os.lstat(target)
        except FileNotFoundError:
            return None
        if stat.S_ISDIR(st.st_mode):
            shutil.rmtree(target)  # does not follow links either
        else:
            os.unlink(target)
        return st

    def write(self, path: str, data: bytes) -> str:
        target = self.target(path)
        self._clear(target)
        with open(target, "xb") as f:  # O_EXCL: never through an existing file or link
            f.write(data)
        return target

    def link(self, path: str, source: str | Path) -> str:
        """Put the existing file ``source`` (of the previous build) at ``path``, bytes and mtime kept."""
        target = self.target(path)
        with contextlib.suppress(OSError):
            here, there = os.lstat(target), os.lstat(source)
            if stat.S_ISREG(here.st_mode) and (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino):
                return target  # already the very same file
        self._clear(target)
        try:
            os.link(source, target, follow_symlinks=False)
        except FileExistsError:
            raise
        except OSError:
            shutil.copy2(source, target, follow_symlinks=False)
        return target

    def forget(self) -> None:
        """Start recording the files written from here on (in a process that shares the work)."""
        self._files = set()

    def made(self) -> tuple[set[str], set[str]]:
        """The folders and files this writer made (for the writer of the process that shares the work)."""
        return self._dirs, self._files

    def adopt(self, made: tuple[set[str], set[str]]) -> None:
        """Count the folders and files another process wrote here as written by this writer."""
        self._dirs |= made[0]
        self._files |= made[1]

    def finish(self) -> None:
        """Remove whatever a recycled folder holds that this build did not write."""
        for top, dirs, files in os.walk(self._root, topdown=False):
            rel = os.path.relpath(top, self._root)
            rel = "" if rel == "." else rel.replace(os.sep, "/")
            for name in files:
                path = f"{rel}/{name}" if rel else name
                if path not in self._files:
                    os.unlink(os.path.join(top, name))
            for name in dirs:
                path = f"{rel}/{name}" if rel else name
                where = os.path.join(top, name)
                if path not in self._dirs:
                    if os.path.islink(where):
                        os.unlink(where)
                    else:
                        shutil.rmtree(where)


def _archive_dir(out_dir: Path) -> Path:
    """The real folder to replace (a symlink to the archive is kept, its target is replaced)."""
    out_dir = Path(os.path.abspath(out_dir))
    return out_dir.resolve() if out_dir.is_symlink() else out_dir


def is_archive(folder: Path) -> bool:
    return (folder / MARKER).is_file()


def check_output(out_dir: Path) -> Path:
    """The folder a build will replace; refuse one that is neither empty, absent nor an archive."""
    folder = _archive_dir(out_dir)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{out_dir} exists and is not a folder: choose another --out")
    if folder.is_dir() and not is_archive(folder) and any(folder.iterdir()):
        raise UsageError(
            f"{out_dir} is not empty and is not an archive built by curator: "
            "choose another --out (the whole folder is replaced at each build)"
        )
    return folder


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """One build at a time for this output folder (a lock on its parent folder; nothing written)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def spare_of(folder: Path) -> Path:
    return folder.parent / f".{folder.name}{_SPARE_SUFFIX}"


@contextlib.contextmanager
def staging(folder: Path) -> Iterator[SiteWriter]:
    """The folder to build into: the spare beside ``folder`` (made if need be), recycled.

    If the build fails, the spare is left as it is: it is never served, and the next
    build recycles it like any other.
    """
    for stale in [
        *folder.parent.glob(f".{folder.name}{_STAGING_INFIX}*"),
        *folder.parent.glob(f".{folder.name}{_RETIRED_INFIX}*"),
    ]:
        shutil.rmtree(stale, ignore_errors=True)  # left by a build that was killed (we hold the lock)
    spare = spare_of(folder)
    if spare.is_symlink() or (spare.exists() and not spare.is_dir()):
        spare.unlink()
    if not spare.exists():
        os.mkdir(spare)  # with the umask's permissions, unlike mkdtemp's 0700: the web server must read it
    yield SiteWriter(spare)


def swap_in(new: Path, folder: Path) -> None:
    """Put the folder ``new`` at ``folder`` in one step; the previous archive takes ``new``'s place."""
    if not folder.exists():
        os.rename(new, folder)
        return
    if _exchange(new, folder):
        return
    # No atomic exchange here: three renames, the window while ``folder`` is missing is microseconds.
    retired = folder.parent / f".{folder.name}{_RETIRED_INFIX}{secrets.token_hex(6)}"
    os.rename(folder, retired)
    try:
        os.rename(new, folder)
    except OSError:
        os.rename(retired, folder)
        raise
    os.rename(retired, new)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with Linux's renameat2; False where that is not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))
