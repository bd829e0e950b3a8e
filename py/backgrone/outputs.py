"""Where the command line's results go, so that nothing a user had is lost.

Inputs are found without our own results; each result gets a name that takes no input and,
unless asked to overwrite, no existing file; it is written beside its target under a temporary
name and then linked or renamed into place, so a failed write leaves no half file and a link
at the target is replaced, never followed.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
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
        if target in self.written:
            return False
        try:
            st = os.lstat(target)
        except FileNotFoundError:
            return not self._is_input(target, None)
        if self._is_input(target, st):
            return False
        replaceable = st.st_mode & 0o170000 in (0o100000, 0o120000)  # S_IFREG, S_IFLNK
        return None if replaceable else False

    def _place(self, temporary: Path, target: Path, replace: bool) -> None:
        if replace:
            os.replace(temporary, target)  # renames over a link: never writes through it
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

    def write(self, stem: str, data: bytes) -> Path:
        """Write one result; returns where it went. Raises ``OSError`` when it cannot be written
        (and leaves nothing behind)."""
        fd, temporary = _temporary(self.out_dir)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            existing = False
            for n in count(1):
                target = self.out_dir / result_name(stem, n, self.suffix)
                free = self._free(target)
                if free is None and not self.overwrite:
                    existing = True
                if free is False or (free is None and not self.overwrite):
                    continue
                try:
                    self._place(temporary, target, replace=free is None)
                except FileExistsError:  # appeared meanwhile
                    existing = True
                    continue
                self.written.add(target)
                self.renamed += existing
                return target
            raise AssertionError("unreachable")
        finally:
            temporary.unlink(missing_ok=True)
