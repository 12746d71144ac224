"""Compacting the event log beside the simulation, on the machine's other core.

A long simulation writes a million events; compacting them into Parquet is as much work as
ingesting them. Every `EVERY_DAYS` days the simulator seals its open segment and a worker
process (a fresh interpreter running `store.compact`) compacts what is sealed while the next
days run — compaction is safe from several processes at once (a segment is claimed with
`flock`). At the end the last stretch is compacted in process while a busy worker finishes
its own, then the worker is awaited.
"""

from __future__ import annotations

import os
import subprocess
import sys

from shopops.tracking import service as tracking

# Niced: it has days to finish, the simulation's own process has none to spare.
WORKER = (
    "import os, sys; from pathlib import Path; from shopops.tracking import store; "
    "os.nice(5); store.compact(Path(sys.argv[1]), sys.argv[2])"
)
EVERY_DAYS = 3  # the last stretch is compacted at the end, in the simulation's process
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
        """Compact what is sealed (sealing this process's segment first when `seal`; the
        ingestion child seals its own)."""
        if self.worker is not None and self.worker.poll() is None:
            return  # still busy: what is sealed now waits for the next round
        self._check()
        if seal:
            self.store.log.seal()
        self.worker = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(self.store.directory), self.store.timezone],
            start_new_session=True,  # Ctrl-C is the parent's to handle; a compaction finishes
        )

    def finish(self) -> None:
        """Wait for the worker; a failed one raises (the segments stay for the next run)."""
        if self.worker is not None:
            self.worker.wait()
            self._check()

    def _check(self) -> None:
        if self.worker is not None and self.worker.returncode:
            code, self.worker = self.worker.returncode, None
            raise CompactionFailed(f"background compaction exited with {code}")
        self.worker = None
