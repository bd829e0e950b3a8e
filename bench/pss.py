"""Memory of a process tree as the kernel accounts it: the sum of PSS (proportional set size).

PSS splits shared pages among the processes that map them, so summing it over a browser's
processes counts shared libraries once, unlike RSS. Linux only (``/proc/<pid>/smaps_rollup``).

    sampler = PeakSampler(lambda: browser_tree("--load-extension"))
    with sampler.window() as peak:
        ...                       # the work to measure
    peak.mb                       # the highest sum seen while it ran
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path


def _stat(pid: int) -> tuple[str, int] | None:
    """(command name, parent pid) of a live process, None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    return name, int(raw[raw.rindex(")") + 2 :].split()[1])


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def descendants(root: int) -> list[int]:
    """``root`` and every process below it."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat:
                parents.setdefault(stat[1], []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(parents.get(pid, []))
    return out


# A Chromium with an extension loaded from a folder. Not "--load-extension" alone: Playwright gives
# every Chromium an empty "--load-extension=", imgly's benchmark browser too.
WITH_EXTENSION = "--load-extension=/"


def browser_roots(marker: str | None = None, exclude: str | None = None) -> list[int]:
    """Chromium main processes started from this process whose command line has ``marker``
    (and not ``exclude``)."""
    roots = []
    for pid in descendants(os.getpid()):
        stat = _stat(pid)
        if not stat or not stat[0].startswith(("chrom", "headless_shell")):
            continue
        parent = _stat(stat[1])
        if parent and parent[0].startswith(("chrom", "headless_shell")):
            continue  # a child of a browser, not a browser
        cmd = _cmdline(pid)
        if marker and marker not in cmd:
            continue
        if exclude and exclude in cmd:
            continue
        roots.append(pid)
    return roots


def pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def process_kind(pid: int) -> str:
    """'browser', 'renderer', 'gpu-process', ... ('extension' for an extension's renderer)."""
    cmd = _cmdline(pid)
    kind = next((arg.split("=", 1)[1] for arg in cmd.split() if arg.startswith("--type=")), "browser")
    return "extension" if kind == "renderer" and "--extension-process" in cmd else kind


def tree_pss(roots: list[int]) -> dict[int, int]:
    """PSS in kB of every process in the trees below ``roots``."""
    return {pid: pss_kb(pid) for root in roots for pid in descendants(root)}


def tree_pss_mb(roots: list[int]) -> float:
    return sum(tree_pss(roots).values()) / 1024


def settle(roots: list[int], quiet_s: float = 1.0, max_s: float = 8.0) -> None:
    """Wait until the browsers' processes stop changing (a closed page's renderer takes a moment
    to exit), at most ``max_s``."""
    end = time.monotonic() + max_s
    last, since = None, time.monotonic()
    while time.monotonic() < end:
        now = frozenset(pid for root in roots for pid in descendants(root))
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        time.sleep(0.1)


class Peak:
    mb: float = 0.0
    samples: int = 0
    # the largest processes at the peak: [(kind, MB)]
    top: list[tuple[str, float]] = []  # noqa: RUF012 - replaced per instance


class PeakSampler:
    """Samples ``tree_pss_mb(roots())`` every ``period_s`` inside a ``window()``."""

    def __init__(self, roots: Callable[[], list[int]], period_s: float = 0.2):
        self.roots = roots
        self.period_s = period_s

    @contextlib.contextmanager
    def window(self) -> Iterator[Peak]:
        peak, stop = Peak(), threading.Event()
        roots = self.roots()
        settle(roots)  # a page closed just before is not counted against the call measured now

        def sample() -> None:
            while True:
                per = tree_pss(roots)
                total = sum(per.values()) / 1024
                if total > peak.mb:
                    peak.mb = total
                    biggest = sorted(per.items(), key=lambda item: -item[1])[:3]
                    peak.top = [(process_kind(pid), round(kb / 1024)) for pid, kb in biggest]
                peak.samples += 1
                if stop.wait(self.period_s):
                    return

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        try:
            yield peak
        finally:
            stop.set()
            thread.join()
            peak.mb = round(peak.mb, 1)
