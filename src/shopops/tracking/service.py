"""Tracking use cases: ingest events (single and batch), identify, compact, recover.

Behavioural events do not go through the store database: they go to the event log
(`store.EventLog`, one per data directory and process), which acknowledges a batch only once it
is on disk. So these functions take the `EventStore` where store services take a session.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from shopops.db import utcnow
from shopops.tracking import store as log
from shopops.tracking.errors import (
    BatchTooLarge,
    InvalidBatch,
    InvalidEvent,
    MalformedBody,
    TrackingUnavailable,
)
from shopops.tracking.normalize import epoch_ms, validate_event
from shopops.tracking.rules import MAX_ID, device_of

MAX_BATCH = 1000
# Events without a `uuid` but with a client timestamp get an id derived from their content, so
# a retried batch dedups even from a client that sends no ids.
_ID_NAMESPACE = uuid.UUID("5d0b6c1e-8a57-4e55-9a0f-3c2f4b7e9a11")


@dataclass
class EventStore:
    """The tracking store of one data directory in this process."""

    directory: Path
    timezone: str
    log: log.EventLog

    @property
    def parquet_dir(self) -> Path:
        return self.directory / "parquet"


@dataclass(frozen=True)
class Rejected:
    index: int
    reasons: list[str]


@dataclass
class IngestResult:
    accepted: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)


_stores: dict[tuple[Path, int], EventStore] = {}
_stores_lock = threading.Lock()


def open_store(
    data_dir: Path | str,
    *,
    timezone: str = "Asia/Shanghai",
    segment_bytes: int = log.DEFAULT_SEGMENT_BYTES,
) -> EventStore:
    """The event store of `<data_dir>/events` for this process (one writer per process; a
    forked worker gets its own). Opening it first recovers: segments left by a crashed or
    stopped process are repaired (torn tail cut) and compacted."""
    directory = (Path(data_dir) / "events").resolve()
    key = (directory, os.getpid())
    with _stores_lock:
        found = _stores.get(key)
        if found is not None and not found.log.closed:
            return found
        directory.mkdir(parents=True, exist_ok=True)
        log.compact(directory, timezone)
        store = EventStore(
            directory, timezone, log.EventLog(directory, segment_bytes=segment_bytes)
        )
        _stores[key] = store
        return store


def close_store(store: EventStore) -> None:
    """Seal and close the store's log (the next `open_store` makes a new one)."""
    store.log.close()
    with _stores_lock:
        _stores.pop((store.directory, os.getpid()), None)


@lru_cache(maxsize=1024)
def _device(user_agent: str) -> tuple[str, str]:
    return device_of(user_agent)


def _event_id(raw: Mapping[str, Any]) -> str:
    if raw.get("timestamp") is None:
        return str(uuid.uuid4())
    content = json.dumps(
        [raw.get("distinct_id"), raw.get("event"), raw.get("timestamp"), raw.get("properties")],
        sort_keys=True,
        default=str,
    )
    return str(uuid.uuid5(_ID_NAMESPACE, content))


def _ms(when: dt.datetime) -> int:
    return int(when.timestamp() * 1000)


def _batch_events(body: Any) -> tuple[list[Any], Any]:
    """The events and `sent_at` of a batch body: a JSON array of events, or an object
    `{"batch": [...], "sent_at": ...}` (PostHog's form). Raises InvalidBatch otherwise."""
    if isinstance(body, list):
        return body, None
    if isinstance(body, Mapping) and isinstance(body.get("batch"), list):
        return body["batch"], body.get("sent_at")
    raise InvalidBatch(
        "the body must be a JSON array of events or an object with a 'batch' array",
        details={"expected": ["[event, …]", '{"batch": [event, …], "sent_at": …}']},
    )


def parse_body(data: bytes) -> Any:
    """The JSON of a request body (MalformedBody when it is not JSON)."""
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedBody(
            "the request body is not valid JSON", details={"error": str(exc)[:200]}
        ) from exc


def ingest_batch(
    store: EventStore,
    *,
    events: Sequence[Any] | None = None,
    body: bytes | None = None,
    received_at: dt.datetime | None = None,
    sent_at: Any = None,
    user_agent: str = "",
    province: str = "",
    project: str = "",
) -> IngestResult:
    """Validate each event, keep the good ones, and make them durable before returning.

    Give either `events` (Python objects) or `body` (the wire bytes of a batch: a JSON array,
    or `{"batch": [...], "sent_at": ...}`). A malformed event is refused alone (its index and
    reasons in `rejected`); the batch is appended to the log as one frame — the wire bytes
    verbatim plus a header naming the refused indexes — and synced. `received_at` is the
    server's receive time (the simulator passes its clock); `sent_at` the client's clock when
    it sent the batch (corrects skew: normalize.clamp_time). Raises MalformedBody/InvalidBatch for
    a body that is not a batch, BatchTooLarge past MAX_BATCH events, TrackingUnavailable when
    the log cannot be written (then nothing was acknowledged)."""
    if body is not None:
        events, body_sent_at = _batch_events(parse_body(body))
        sent_at = sent_at if sent_at is not None else body_sent_at
    elif events is None:
        raise InvalidBatch("no events given", details={})
    if len(events) > MAX_BATCH:
        raise BatchTooLarge(
            f"a batch holds at most {MAX_BATCH} events",
            details={"max": MAX_BATCH, "got": len(events)},
        )
    context = _context(received_at, sent_at, user_agent, province, project)
    result, frame = _batch_frame(events, body, context)
    if frame is not None:
        _append(store, frame)
    return result


def ingest_many(
    store: EventStore,
    *,
    events: Sequence[Any],
    received_at: dt.datetime | None = None,
    user_agent: str = "",
    province: str = "",
    project: str = "",
) -> IngestResult:
    """`ingest_batch` for a loader holding many events (an import, the simulator's day):
    the same validation, one log frame per MAX_BATCH events, one sync for them all.
    `rejected` indexes count from the start of `events`."""
    context = _context(received_at, None, user_agent, province, project)
    result = IngestResult()
    frames: list[bytes] = []
    for start in range(0, len(events), MAX_BATCH):
        part, frame = _batch_frame(events[start : start + MAX_BATCH], None, context)
        result.accepted += part.accepted
        result.rejected.extend(Rejected(start + r.index, r.reasons) for r in part.rejected)
        if frame is not None:
            frames.append(frame)
    try:
        store.log.append_many(frames)
    except (OSError, RuntimeError) as exc:
        raise TrackingUnavailable("the event log could not store the batch; retry") from exc
    return result


def _context(
    received_at: dt.datetime | None, sent_at: Any, user_agent: str, province: str, project: str
) -> dict[str, Any]:
    device, os_name = _device(user_agent[:512])
    return {
        "kind": "batch",
        "received_ms": _ms(received_at or utcnow()),
        "sent_ms": epoch_ms(sent_at) if sent_at is not None else None,
        "device": device,
        "os": os_name,
        "province": province[:32],
        "project": project[:MAX_ID],
    }


def _batch_frame(
    events: Sequence[Any], body: bytes | None, context: dict[str, Any]
) -> tuple[IngestResult, bytes | None]:
    """Validate a batch; its log frame (header + the wire bytes or the events' JSON), or None
    when nothing was accepted."""
    result = IngestResult()
    ids: dict[int, str] = {}
    for index, raw in enumerate(events):
        if not isinstance(raw, Mapping):
            result.rejected.append(Rejected(index, ["event: an object is required"]))
            continue
        problems = validate_event(raw)
        if problems:
            result.rejected.append(Rejected(index, problems))
            continue
        uuid_in = raw.get("uuid") or raw.get("event_id")
        if uuid_in is None:
            ids[index] = _event_id(raw)
    result.accepted = len(events) - len(result.rejected)
    if not result.accepted:
        return result, None
    header = {**context, "rejected": [r.index for r in result.rejected], "ids": ids}
    payload = body if body is not None else json.dumps(events, default=str).encode()
    return result, log.encode_frame(header, payload)


def _append(store: EventStore, payload: bytes) -> None:
    try:
        store.log.append(payload)
    except (OSError, RuntimeError) as exc:
        raise TrackingUnavailable("the event log could not store the batch; retry") from exc


def ingest_event(
    store: EventStore,
    *,
    event: Mapping[str, Any],
    received_at: dt.datetime | None = None,
    user_agent: str = "",
    province: str = "",
    project: str = "",
) -> None:
    """Ingest one event durably. Raises InvalidEvent with the reasons."""
    result = ingest_batch(
        store,
        events=[event],
        received_at=received_at,
        user_agent=user_agent,
        province=province,
        project=project,
    )
    if result.rejected:
        reasons = result.rejected[0].reasons
        raise InvalidEvent(reasons[0], details={"reasons": reasons})


def identify(
    store: EventStore,
    *,
    distinct_id: str,
    customer_id: int,
    received_at: dt.datetime | None = None,
) -> str:
    """Merge an anonymous distinct id into a customer (on sign-in): its events — earlier ones
    too, when facts are built — belong to person `str(customer_id)`. The first customer an id
    is merged into keeps it (a shared device does not move history between customers).
    Durable like any event; returns the person id."""
    _check_identity(distinct_id, customer_id)
    header = {
        "kind": "identify",
        "received_ms": _ms(received_at or utcnow()),
        "distinct_id": distinct_id,
        "customer_id": customer_id,
    }
    _append(store, log.encode_frame(header, b""))
    return str(customer_id)


def _check_identity(distinct_id: Any, customer_id: Any) -> None:
    if not isinstance(distinct_id, str) or not 1 <= len(distinct_id) <= MAX_ID:
        raise InvalidEvent(
            f"distinct_id: a string of 1–{MAX_ID} characters is required",
            details={"field": "distinct_id"},
        )
    if isinstance(customer_id, bool) or not isinstance(customer_id, int) or customer_id < 1:
        raise InvalidEvent(
            "customer_id: a positive integer is required", details={"field": "customer_id"}
        )


def identify_many(store: EventStore, *, identities: Sequence[tuple[str, int, dt.datetime]]) -> None:
    """`identify` for many (distinct id, customer id, received at) at once: each checked as
    `identify` checks it (InvalidEvent before anything is written), one sync for them all."""
    frames = []
    for distinct_id, customer_id, received_at in identities:
        _check_identity(distinct_id, customer_id)
        header = {
            "kind": "identify",
            "received_ms": _ms(received_at),
            "distinct_id": distinct_id,
            "customer_id": customer_id,
        }
        frames.append(log.encode_frame(header, b""))
    try:
        store.log.append_many(frames)
    except (OSError, RuntimeError) as exc:
        raise TrackingUnavailable("the event log could not store the batch; retry") from exc


def compact_events(store: EventStore) -> int:
    """Seal this process's open segment and compact every sealed one into Parquet; returns
    the rows compacted."""
    store.log.seal()
    return log.compact(store.directory, store.timezone)


def recover(data_dir: Path | str, *, timezone: str = "Asia/Shanghai") -> int:
    """Repair and compact what crashed or stopped writers left (what `open_store` does first);
    returns the rows recovered."""
    return log.compact((Path(data_dir) / "events").resolve(), timezone)


def read_events(data_dir: Path | str) -> pa.Table:
    """Every stored row (live segments first, then compacted Parquet), not deduplicated:
    an event in a segment compacted while we read shows twice, never zero times."""
    directory = Path(data_dir) / "events"
    rows: list[list[Any]] = []
    for path in log.segment_paths(directory):
        rows.extend(log.decode_frames(log.read_segment(path)))
    tables = [log.rows_to_table(rows)]
    for path in sorted((directory / "parquet").glob("date=*/*.parquet")):
        try:
            tables.append(pq.ParquetFile(path).read())
        except FileNotFoundError:
            continue
    return pa.concat_tables(tables)
