"""Where the command line's results go, so that nothing a user had is lost.

Inputs are found without our own results; each result gets a name that takes no input and,
unless asked to overwrite, no existing file; it is written beside its target under a temporary
name and then linked or renamed into place, so a failed write leaves no half file and a link
at the target is replaced, never followed. The run's other files (``--report``) are checked
before any work and written the same way.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
from collections.abc import Iterable, Sequence
from itertools import count
from pathlib import Path

from .errors import UsageError

# What a result is called: <name>-cutout.png, then <name>-cutout-2.png, ... (as the extension's Save).
RESULT_NAME = re.compile(r"-cutout(-\d+)?\.(png|webp)$", re.IGNORECASE)
# Where the file system has no hard links (FAT, some network shares): check, then rename.
_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK}


def result_name(stem: str, n: int, suffix: str) -> str:
    return f"{stem}-cutout{'' if n == 1 else f'-{n}'}{suffix}"


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def _where(path: Path) -> Path:
    """The path with its folder resolved but not its last part: a link is itself, not its target."""
    return path.absolute().parent.resolve() / path.name


def find_inputs(paths: Sequence[str], out_dir: Path, suffixes: Iterable[str]) -> tuple[list[Path], int]:
    """Files as given; folders walked (sorted) for files with one of ``suffixes``.

    A walk passes over ``out_dir`` when it lies inside the folder, and over earlier results
    in it when it is the folder itself, so a second run never cuts out the first one's
    results. Returns the inputs and how many earlier results were passed over.
    """
    wanted = {s.lower() for s in suffixes}
    out = out_dir.resolve()
    inputs: list[Path] = []
    passed_over = 0
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            inputs.append(path)
            continue
        found = []
        for root, dirs, files in os.walk(path):
            here = Path(root)
            dirs[:] = [d for d in dirs if (here / d).resolve() != out]
            in_out = here.resolve() == out
            for name in files:
                file = here / name
                if file.suffix.lower() not in wanted or not file.is_file():
                    continue
                if in_out and RESULT_NAME.search(name):
                    passed_over += 1
                    continue
                found.append(file)
        inputs += sorted(found)
    return inputs, passed_over


def _temporary(folder: Path) -> tuple[int, Path]:
    """A new file beside the target (created, never opened through a link), for writing.
    Its name is short whatever the target's (a long result name must not fail as a temporary one)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        path = folder / f".backgrone-{secrets.token_hex(8)}.part"
        try:
            return os.open(path, flags, 0o666), path
        except FileExistsError:
            continue


def _write_temporary(folder: Path, data: bytes) -> Path:
    """``data`` in a new temporary file in ``folder``, on disk; the caller places or removes it."""
    fd, temporary = _temporary(folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _place(temporary: Path, target: Path, replace: bool) -> None:
    """Move the written ``temporary`` to ``target``: with ``replace``, over whatever is there (a
    link is replaced, never written through); else only where nothing is (``FileExistsError``)."""
    if replace:
        os.replace(temporary, target)
        return
    try:
        os.link(temporary, target)  # fails if anything, even a dangling link, is there
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, "exists", str(target)) from None
        os.replace(temporary, target)


def prepare_out_dir(out_dir: Path) -> None:
    """Create ``out_dir`` if needed and check that results can be written there."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir} is a file, not a folder: give a folder for the results")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = _temporary(out_dir)
        os.close(fd)
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"cannot write into the output folder {out_dir} ({exc.strerror or exc})") from None


class ResultWriter:
    """Names and writes the results of one run into ``out_dir``."""

    def __init__(self, out_dir: Path, suffix: str, inputs: Iterable[Path], overwrite: bool = False):
        self.out_dir = out_dir
        self.suffix = suffix
        self.overwrite = overwrite
        self.written: set[Path] = set()
        self.renamed = 0  # results that got a number because an existing file had the name
        self._input_paths: set[Path] = set()
        self._input_files: set[tuple[int, int]] = set()
        self._reserved: set[Path] = set()  # files of this run's own (--report): no result goes there
        for path in inputs:
            self._input_paths.add(_where(path))
            try:
                st = path.stat()  # the file itself, also when the input is a link to it
                self._input_files.add((st.st_dev, st.st_ino))
            except OSError:
                pass

    def _is_input(self, target: Path, st: os.stat_result | None) -> bool:
        if _where(target) in self._input_paths:
            return True
        return st is not None and (st.st_dev, st.st_ino) in self._input_files

    def _free(self, target: Path) -> bool | None:
        """Whether a result may go to ``target``: True (free), False (taken), None (taken by a file
        that --overwrite may replace: a regular file or a link, never an input, a folder or a result
        of this run)."""
        if target in self.written or _where(target) in self._reserved:
            return False
        try:
            st = os.lstat(target)
        except FileNotFoundError:
            return not self._is_input(target, None)
        if self._is_input(target, st):
            return False
        replaceable = st.st_mode & 0o170000 in (0o100000, 0o120000)  # S_IFREG, S_IFLNK
        return None if replaceable else False

    def write(self, stem: str, data: bytes) -> Path:
        """Write one result; returns where it went. Raises ``OSError`` when it cannot be written
        (and leaves nothing behind)."""
        temporary = _write_temporary(self.out_dir, data)
        try:
            existing = False
            for n in count(1):
                target = self.out_dir / result_name(stem, n, self.suffix)
                free = self._free(target)
                if free is None and not self.overwrite:
                    existing = True
                if free is False or (free is None and not self.overwrite):
                    continue
                try:
                    _place(temporary, target, replace=free is None)
                except FileExistsError:  # appeared meanwhile
                    existing = True
                    continue
                self.written.add(target)
                self.renamed += existing
                return target
            raise AssertionError("unreachable")
        finally:
            temporary.unlink(missing_ok=True)

    def check_file(self, path: Path, flag: str) -> None:
        """Refuse (``UsageError``, before any work) ``path`` for a file of this run's own other than
        a result (``flag``: the option that names it, e.g. ``--report``): a folder, a path in no
        folder, an input, or, unless --overwrite, anything already there. No result takes its name."""
        st = _lstat(path)
        if (st is not None and stat.S_ISDIR(st.st_mode)) or not path.absolute().parent.is_dir():
            raise UsageError(f"{flag} {path}: give a file in an existing folder")
        if self._is_input(path, st):
            raise UsageError(f"{flag} {path} is one of the input images: give another file")
        if st is not None and not self.overwrite:
            raise UsageError(f"{flag} {path} exists already: give a new file, or add --overwrite to replace it")
        if st is not None and not stat.S_ISREG(st.st_mode) and not stat.S_ISLNK(st.st_mode):
            raise UsageError(f"{flag} {path} is not a regular file: give another file")
        self._reserved.add(_where(path))

    def write_file(self, path: Path, data: bytes) -> None:
        """Write a file :meth:`check_file` allowed, as a result is written: never onto an input or a
        result of this run, over something there only with --overwrite (a link replaced, not followed).
        Raises ``OSError``, leaving nothing behind."""
        if self._is_input(path, _lstat(path)) or _where(path) in {_where(p) for p in self.written}:
            raise FileExistsError(errno.EEXIST, "an input or a result of this run is there now", str(path))
        temporary = _write_temporary(path.absolute().parent, data)
        try:
            _place(temporary, path, replace=self.overwrite)
        finally:
            temporary.unlink(missing_ok=True)
