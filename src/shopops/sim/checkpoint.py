"""The simulator's WAL checkpoints, on a thread of their own.

A day's unit of work writes thousands of pages to SQLite's write-ahead log; with the default
auto-checkpoint the day's commit then copies them into the database file on the simulation's
own thread (~24 ms a day at 5,000 visitors). The simulator's connections turn auto-checkpoints
off (`wal_autocheckpoint=0` in its pragmas) and this thread copies the log after each day on
its own connection while the next day runs: SQLite releases the GIL as it copies, and a
PASSIVE checkpoint never blocks the writer. `sim.run._settle` makes the end durable.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading

from sqlalchemy import Engine


class Checkpointer:
    """`kick()` after a commit: the log is copied in the background; `close()` waits."""

    def __init__(self, engine: Engine) -> None:
        self.path = engine.url.database if engine.dialect.name == "sqlite" else None
        self._wake = threading.Event()
        self._stop = False
        self._kicked = False
        self._thread: threading.Thread | None = None
        if self.path:
            self._thread = threading.Thread(target=self._loop, name="sim-checkpoint", daemon=True)
            self._thread.start()

    def kick(self) -> None:
        self._kicked = True
        self._wake.set()

    def close(self) -> None:
        """Wait for the thread, after the checkpoint a last kick asked for."""
        if self._thread is None:
            return
        self._stop = True
        self._wake.set()
        self._thread.join()
        self._thread = None

    def _loop(self) -> None:
        assert self.path is not None
        conn: sqlite3.Connection | None = None
        try:
            while not self._stop or self._kicked:
                self._wake.wait()
                self._wake.clear()
                if not self._kicked:
                    continue
                self._kicked = False
                if conn is None:  # opened once the store is in WAL mode (a fresh file is not)
                    conn = sqlite3.connect(self.path, isolation_level=None)
                    conn.execute("PRAGMA synchronous=OFF")  # as the simulator's connections
                # Busy: the next day's kick (or `_settle`) copies what is left.
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            if conn is not None:
                conn.close()
