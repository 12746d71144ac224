"""Ingestion in a child process, fed over a pipe: for a producer that makes events faster
on one core than it can also validate and store them (the simulator).

The parent writes length-prefixed pickled batches to the child's stdin; the child ingests
each with `identify_many` + `ingest_many` (the same checks and durable frames as any batch)
into its own segment of the data directory, and answers with a length-prefixed pickled
result once the frames are synced. Run as `python -c "from shopops.tracking.feed import
serve; serve()" DATA_DIR TZ`; it ignores SIGINT (the parent decides when to stop) and exits
at end of input after sealing its segment.
"""

from __future__ import annotations

import datetime as dt
import pickle
import signal
import struct
import sys
from dataclasses import dataclass, field
from typing import IO, Any

from shopops.tracking import service as tracking

_LEN = struct.Struct("<Q")


@dataclass
class Batch:
    """One unit for the child: sign-ins, then events received at `received_at`."""

    identities: list[tuple[str, int, dt.datetime]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    received_at: dt.datetime | None = None
    user_agent: str = ""
    seal: bool = False  # seal the child's segment after this batch (for a compactor)


@dataclass(frozen=True)
class Ack:
    accepted: int
    rejected: int
    error: str = ""  # the child's exception, when the batch could not be stored


def write_message(out: IO[bytes], value: object) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_LEN.pack(len(data)) + data)
    out.flush()


def read_message(src: IO[bytes]) -> Any | None:
    head = src.read(_LEN.size)
    if len(head) < _LEN.size:
        return None
    (size,) = _LEN.unpack(head)
    # Our own parent's bytes over a private pipe, never data from elsewhere.
    return pickle.loads(src.read(size))


def ingest(store: tracking.EventStore, batch: Batch) -> Ack:
    if batch.identities:
        tracking.identify_many(store, identities=batch.identities)
    result = tracking.ingest_many(
        store, events=batch.events, received_at=batch.received_at, user_agent=batch.user_agent
    )
    if batch.seal:
        store.log.seal()
    return Ack(result.accepted, len(result.rejected))


def serve() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    store = tracking.open_store(sys.argv[1], timezone=sys.argv[2])
    src, out = sys.stdin.buffer, sys.stdout.buffer
    try:
        while (batch := read_message(src)) is not None:
            try:
                ack = ingest(store, batch)
            except Exception as exc:
                ack = Ack(0, 0, f"{type(exc).__name__}: {exc}")
            write_message(out, ack)
    finally:
        tracking.close_store(store)
