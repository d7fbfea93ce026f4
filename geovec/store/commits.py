"""Writers of one store take turns, and a commit preempted by another writer is tried
again.

Lance commits optimistically: two writers that change a table at once both write their
files, and the second to commit either rebases onto the first (two appends) or fails
with a "commit conflict" (adding a column while another writer sets column metadata). A
rebase cannot know that two appends hold the same ids, so two ingests of one manifest
would store some images twice. Every geovec write therefore runs under the store's
commit lock: a ``flock`` on ``.geovec-write.lock`` in the store directory (threads,
processes, all of them; the kernel lets go of it when a process dies, even by SIGKILL),
checks what is already stored, and commits. Writers outside geovec (a ``lancedb``
script, ``geovec sql --write``) take no lock; their conflicts are retried here
:data:`COMMIT_TRIES` times, then reported in one line.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from geovec.errors import StoreError

try:
    import fcntl
except ImportError:  # not POSIX: the threads of one process still take turns
    fcntl = None

LOCK_FILE = ".geovec-write.lock"
COMMIT_TRIES = 8
"""Tries of one commit preempted by writers that do not take the lock."""
BACKOFF_S = 0.05
"""Seconds before the second try; doubled for each next one (at most 2 s)."""

CONFLICT_TEXTS = ("commit conflict", "too many concurrent writ", "please retry")
"""How lance says that another writer's commit came first. lancedb raises it as a plain
RuntimeError (no type of its own), so its text is all there is to tell it by."""

T = TypeVar("T")


def is_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is Lance's "another writer committed first": safe to try again."""
    text = str(exc).lower()
    return isinstance(exc, RuntimeError | OSError) and any(t in text for t in CONFLICT_TEXTS)


class _StoreLock:
    """The commit lock of one store directory, for this process: a re-entrant thread lock
    with the file lock held while any thread of the process is inside."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.threads = threading.RLock()
        self.depth = 0
        self.fd: int | None = None

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        with self.threads:
            if self.depth == 0:
                self.fd = _lock_file(self.folder)
            self.depth += 1
            try:
                yield
            finally:
                self.depth -= 1
                if self.depth == 0 and self.fd is not None:
                    os.close(self.fd)  # closing the file lets go of its lock
                    self.fd = None


def _lock_file(folder: Path) -> int | None:
    path = folder / LOCK_FILE
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # read-only: flock needs no write access, so every user who may write the store
        # (a group) can lock it, whoever made the lock file
        fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"{folder}: cannot write to this store ({exc.strerror or exc})") from None
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:  # a file system without locks: writers of this process take turns
            pass
    return fd


_LOCKS: dict[str, _StoreLock] = {}
_LOCKS_LOCK = threading.Lock()


def store_lock(folder: str | Path) -> _StoreLock:
    """The commit lock of the store at ``folder`` (one per directory and process)."""
    key = os.path.realpath(folder)
    with _LOCKS_LOCK:
        if key not in _LOCKS:
            _LOCKS[key] = _StoreLock(Path(key))
        return _LOCKS[key]


def commit(folder: str | Path, what: str, action: Callable[[], T]) -> T:
    """Run ``action`` (read what it needs, then one Lance commit) under the store's commit
    lock, again while another writer's commit preempts it.

    ``action`` must open its table itself, so that each try starts from the latest
    version. ``what`` names the change for the error (``"appending to ground"``).

    Raises:
      StoreError: still preempted after :data:`COMMIT_TRIES` tries, or the store
        directory cannot be written.
    """
    with store_lock(folder).held():
        tries = max(1, COMMIT_TRIES)
        for attempt in range(tries):
            try:
                return action()
            except (RuntimeError, OSError) as exc:
                if not is_conflict(exc):
                    raise
                if attempt + 1 < tries:
                    time.sleep(min(2.0, BACKOFF_S * 2**attempt))
        raise StoreError(
            f"{folder}: {what} gave up after {tries} tries: another program kept changing "
            "the table at the same time (a writer outside geovec?); run it again when "
            "that one is done"
        )
