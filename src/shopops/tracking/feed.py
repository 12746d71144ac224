"""Ingestion in a child process, fed over a pipe: for a producer that makes events faster
on one core than it can also validate and store them (the simulator).

The parent writes length-prefixed pickled batches to the child's stdin; the child ingests
each with `identify_many` + `ingest_many` (the same checks and durable frames as any batch)
into its own segment of the data directory, and answers with a length-prefixed pickled
result once the frames are synced. A batch may only describe some of its events (`sources`:
the producer's compact description), which the child makes first, on its own core. Run as
`python -c "from shopops.tracking.feed import serve; serve()" DATA_DIR TZ`; it ignores SIGINT
(the parent decides when to stop) and exits at end of input after sealing its segment.
"""

from __future__ import annotations

import datetime as dt
import pickle
import signal
import struct
import sys
import uuid
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from shopops.tracking import service as tracking

_LEN = struct.Struct("<Q")


class EventSource(Protocol):
    """Events described compactly by the producer (picklable), made by `expand`."""

    def expand(self) -> list[dict[str, Any]]: ...


@dataclass
class Batch:
    """One unit for the child: sign-ins, then events received at `received_at` — `events`,
    then each source's; with `id_base`, event i of them all gets uuid `id_base | i`."""

    identities: list[tuple[str, int, dt.datetime]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    received_at: dt.datetime | None = None
    user_agent: str = ""
    seal: bool = False  # seal the child's segment after this batch (for a compactor)
    sources: list[EventSource] = field(default_factory=list)
    id_base: int | None = None


def batch_events(batch: Batch) -> list[dict[str, Any]]:
    """The batch's events, the sources' made, with the ids `id_base` gives."""
    events = batch.events
    if batch.sources:
        events = list(events)
        for source in batch.sources:
            events.extend(source.expand())
    if batch.id_base is not None:
        base = batch.id_base
        for i, event in enumerate(events):
            event["uuid"] = str(uuid.UUID(int=base | i))
    return events


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
        store, events=batch_events(batch), received_at=batch.received_at,
        user_agent=batch.user_agent,
    )  # fmt: skip
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
