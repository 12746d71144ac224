"""Where the simulator's tracking events go: ingested in process, or by a child process
(`tracking.feed`) while the next day is simulated — the machine's other core.

The rule the simulator keeps either way: its state file for a day is written only after that
day's events are durable. With the child, the day's state is pickled when its store work
commits and written when the child acknowledges the day's batch; one batch is in flight at a
time. Interrupted (Ctrl-C), the in-flight batch is awaited and its state written, so the
store, the events and the state file all end at the same day.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from shopops.tracking import service as tracking
from shopops.tracking.feed import Ack, Batch, ingest, read_message, write_message

# Niced a little: the simulation's own process must not wait for a core (the child has the
# next day's run to finish its batch in; nice 3 kept its pace, 19 would starve it).
WORKER = "import os; os.nice(3); from shopops.tracking.feed import serve; serve()"
MIN_DAYS = 15  # shorter runs ingest in process (a child costs ~1 s to start)


class FeedFailed(RuntimeError):
    """The ingestion child refused or lost a batch."""


class Feeder:
    def __init__(self, store: tracking.EventStore, data_dir: Path, days: int) -> None:
        self.store = store
        self.child: subprocess.Popen[bytes] | None = None
        if days >= MIN_DAYS:
            self.child = subprocess.Popen(
                [sys.executable, "-c", WORKER, str(data_dir), store.timezone],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, process_group=0,  # see compaction.py
            )  # fmt: skip
        self.in_flight: Callable[[], None] | None = None

    @property
    def background(self) -> bool:
        return self.child is not None

    def submit(self, batch: Batch, then: Callable[[], None]) -> None:
        """Store `batch` durably, then call `then` (at once in process; with the child, when
        it acknowledges — at the latest on the next `submit` or `drain`)."""
        if self.child is None:
            self._check(ingest(self.store, batch), batch)
            then()
            return
        self.drain()
        assert self.child.stdin is not None
        write_message(self.child.stdin, batch)
        self.in_flight = then

    def drain(self) -> None:
        """Wait for the batch in flight and run its follow-up."""
        if self.child is None or self.in_flight is None:
            return
        assert self.child.stdout is not None
        ack = read_message(self.child.stdout)
        then, self.in_flight = self.in_flight, None
        if ack is None:
            raise FeedFailed(f"the ingestion child exited with {self.child.wait()}")
        self._check(ack, None)
        then()

    def close(self) -> None:
        """Drain, then let the child seal its segment and exit."""
        if self.child is None:
            return
        try:
            self.drain()
        finally:
            child, self.child = self.child, None
            assert child.stdin is not None
            child.stdin.close()
            code = child.wait()
            if code:
                raise FeedFailed(f"the ingestion child exited with {code}")

    @staticmethod
    def _check(ack: Ack, batch: Batch | None) -> None:
        if ack.error:
            raise FeedFailed(f"the events could not be stored: {ack.error}")
        if ack.rejected:
            raise FeedFailed(f"{ack.rejected} simulated events were rejected by the ingestion")
