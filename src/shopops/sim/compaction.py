"""Compacting the event log beside the simulation, on the machine's other core.

A long simulation writes a million events; compacting them into Parquet is as much work as
ingesting them. After every day the simulator seals its open segment and asks one worker
process (a fresh interpreter started once for the run, running `store.compact` whenever asked)
to compact what is sealed while the next days run — compaction is safe from several processes
at once (a segment is claimed with `flock`). At the end the last day is compacted in process
while the worker finishes what it holds, then the worker is awaited.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

from shopops.tracking import service as tracking

# Niced: it has days to finish, the simulation's own process has none to spare. One line on
# stdin asks for a round; the lines that queued up meanwhile are served by that same round.
WORKER = """
import os, select, sys
from pathlib import Path
from shopops.tracking import store
os.nice(5)
src = sys.stdin.buffer.raw
while src.read(4096):
    while select.select([src], [], [], 0)[0]:
        if not src.read(4096):
            break
    store.compact(Path(sys.argv[1]), sys.argv[2])
"""
EVERY_DAYS = 1  # one worker for the run: a round costs no start-up, so the last stretch is short
MIN_DAYS = 15  # shorter runs compact at the end only (a worker costs ~1 s to start)


class CompactionFailed(RuntimeError):
    """The background compaction exited with an error (its stderr was shown)."""


class BackgroundCompactor:
    def __init__(self, store: tracking.EventStore, days: int) -> None:
        self.store = store
        self.enabled = days >= MIN_DAYS and (os.cpu_count() or 1) > 1
        self.worker: subprocess.Popen[bytes] | None = None

    def due(self, done: int) -> bool:
        """Whether to seal the log after day `done` (of this run) and compact it."""
        return self.enabled and done % EVERY_DAYS == 0

    def start(self, *, seal: bool) -> None:
        """Ask the worker (started on first use) to compact what is sealed, sealing this
        process's segment first when `seal` (the ingestion child seals its own)."""
        self._check()
        if seal:
            self.store.log.seal()
        if self.worker is None:
            self.worker = subprocess.Popen(
                [sys.executable, "-c", WORKER, str(self.store.directory), self.store.timezone],
                stdin=subprocess.PIPE,
                # Its own process group: Ctrl-C is the parent's to handle, a round finishes.
                # Not a new session: with the kernel's autogroups a session is scheduled as an
                # equal of the simulator's whatever its nice (the simulator waited ~8 s of 60
                # for a core); in the same session the nice values count.
                process_group=0,
            )
        assert self.worker.stdin is not None
        try:
            self.worker.stdin.write(b"\n")
            self.worker.stdin.flush()
        except BrokenPipeError:
            self.worker.wait()
            self._check()

    def finish(self) -> None:
        """Let the worker end its round and exit; a failed one raises (the segments stay for
        the next run)."""
        if self.worker is not None:
            assert self.worker.stdin is not None
            with contextlib.suppress(BrokenPipeError):  # it exited already: its code says how
                self.worker.stdin.close()
            self.worker.wait()
            self._check()

    def _check(self) -> None:
        if self.worker is not None and self.worker.poll() is not None:
            code, self.worker = self.worker.returncode, None  # the next round starts another
            if code:
                raise CompactionFailed(f"background compaction exited with {code}")
