"""Drafts written behind the click: the newest unsaved selection of each labelling session
goes to the database from one background thread, so a click never waits for a commit
(5-12 ms with SQLite's fsync on 2 cores, more on a busy disk; issue 12).

Per session only the newest draft is written, in order. Reading a session's draft first
waits for its pending write, so a reload sees the last click. A failed write is raised to
the next ``keep`` or ``wait`` of that session, so the page reports it. A draft queued in
the last milliseconds before the process is killed can be lost (what was saved never is);
a normal exit writes what is pending.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from collections.abc import Callable, Hashable

from labeller.errors import StoreError

Write = Callable[[], None]

WAIT_S = 30.0
"""How long a read waits for its session's pending draft before it gives up (a stuck database)."""


class DraftWriter:
    """One background thread writing each key's newest draft (``write()`` does the writing)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._pending: dict[Hashable, Write] = {}
        self._writing: Hashable | None = None
        self._failures: dict[Hashable, StoreError] = {}
        self._thread: threading.Thread | None = None
        self._closed = False
        writer = weakref.ref(self)
        atexit.register(lambda: (w := writer()) is not None and w.close())

    def keep(self, key: Hashable, write: Write) -> None:
        """Queue ``write`` as ``key``'s newest draft (replacing one not written yet). Raises the
        failure of this key's previous write, if it failed."""
        with self._changed:
            failure = self._failures.pop(key, None)
            if self._closed:
                write()
            else:
                self._pending[key] = write
                self._start()
                self._changed.notify_all()
        if failure is not None:
            raise failure

    def wait(self, key: Hashable) -> None:
        """Return once ``key``'s queued draft is in the database; raise its failure if it failed."""
        with self._changed:
            done = self._changed.wait_for(lambda: key not in self._pending and self._writing != key, WAIT_S)
            failure = self._failures.pop(key, None)
        if failure is not None:
            raise failure
        if not done:
            raise StoreError(
                f"Your unsaved selection could not be written within {WAIT_S:.0f} s: the label database "
                "is busy. Try again in a moment."
            )

    def close(self) -> None:
        """Write what is pending, then stop the thread."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(WAIT_S)

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="draft-writer", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._pending or self._closed)
                if not self._pending:
                    return
                key = next(iter(self._pending))
                write = self._pending.pop(key)
                self._writing = key
            try:
                write()
            except StoreError as error:
                failure = error
            except Exception as error:  # noqa: BLE001 - reported to the session, never lost silently
                failure = StoreError(f"Could not keep your unsaved selection: {error}")
            else:
                failure = None
            with self._changed:
                self._writing = None
                if failure is not None:
                    self._failures[key] = failure
                self._changed.notify_all()
