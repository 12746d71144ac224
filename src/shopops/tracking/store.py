"""The durable event log: append-only segment files of CRC-framed batches, group-committed.

Layout under `<data dir>/events/`:
- `<created ns>-<pid>.seg`: a segment; a sequence of frames `[u32 length][u32 crc32][payload]`,
  the payload one batch as compact JSON (a list of rows in `normalize.ROW_COLUMNS` order). The
  writing process holds an exclusive `flock` on its open segment; a segment nobody holds is
  sealed (rotated, or left behind by a crashed process) and may be compacted.
- `parquet/date=YYYY-MM-DD/<segment>.parquet`: compacted segments, one file per segment and
  shop-time-zone date, written to a temporary name and renamed (so re-compacting a segment after
  a crash rewrites the same files: idempotent). A segment is deleted only after its files are.

`append()` returns only after the frame is on disk (`fdatasync`): concurrent appenders share
one sync (group commit), so the sync cost is paid once per group, not once per batch.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import struct
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from shopops.tracking.normalize import IDENTIFY_EVENT, ROW_COLUMNS, to_row

_HEADER = struct.Struct("<II")
MAX_FRAME = 64 * 1024 * 1024
DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024


def encode_frame(header: dict[str, Any], body: bytes) -> bytes:
    """A frame payload: one header line of JSON (how to read the body), then the body."""
    return json.dumps(header, separators=(",", ":")).encode() + b"\n" + body


def frame(payload: bytes) -> bytes:
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def read_frames(data: bytes) -> tuple[list[bytes], int]:
    """The valid frames at the start of `data`, and the offset where they end: a frame that
    is cut short or fails its CRC (a torn write) ends the log there."""
    frames: list[bytes] = []
    offset, size = 0, len(data)
    while offset + _HEADER.size <= size:
        length, crc = _HEADER.unpack_from(data, offset)
        start, end = offset + _HEADER.size, offset + _HEADER.size + length
        if length == 0 or length > MAX_FRAME or end > size:
            break
        payload = data[start:end]
        if zlib.crc32(payload) != crc:
            break
        frames.append(payload)
        offset = end
    return frames, offset


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_sync = getattr(os, "fdatasync", os.fsync)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


@dataclass
class _Segment:
    path: Path
    fd: int
    size: int


class EventLog:
    """The writer side of the log for one process: thread-safe, durable appends."""

    def __init__(self, directory: Path, *, segment_bytes: int = DEFAULT_SEGMENT_BYTES) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.segment_bytes = segment_bytes
        self._lock = threading.Lock()  # guards the write position and rotation
        self._sync_lock = threading.Lock()  # one sync at a time; others wait and piggyback
        self._segment: _Segment | None = None
        self._written = 0  # logical bytes written by this process (all segments)
        self._synced = 0  # logical bytes known durable
        self.syncs = 0  # how many fsyncs ran (benchmarks report frames per sync)
        self.closed = False

    # -- writing ------------------------------------------------------------------------------
    def _open_segment(self) -> _Segment:
        stem = f"{time.time_ns():020d}-{os.getpid()}"
        tmp = self.directory / f"{stem}.new"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_EXCL, 0o644)
        # Lock before the name becomes visible: a compactor never sees an unlocked live segment.
        fcntl.flock(fd, fcntl.LOCK_EX)
        path = tmp.with_suffix(".seg")
        os.rename(tmp, path)
        _fsync_dir(self.directory)
        return _Segment(path, fd, 0)

    def append(self, payload: bytes) -> None:
        """Append one frame and return once it is durable (or raise: then nothing is promised)."""
        self._sync_until(self._write(payload))

    def append_many(self, payloads: list[bytes]) -> None:
        """Append frames and return once all are durable: one sync for the lot (a bulk
        loader's path; each frame is whole on its own, as `append` writes it)."""
        position = None
        for payload in payloads:
            position = self._write(payload)
        if position is not None:
            self._sync_until(position)

    def _write(self, payload: bytes) -> int:
        """Write one frame (not yet synced); returns the logical position after it."""
        data = frame(payload)
        with self._lock:
            segment = self._segment
            full = segment is None or segment.size >= self.segment_bytes
        if full:
            # Rotation closes an fd a sync may be using: take the sync lock first.
            with self._sync_lock, self._lock:
                segment = self._segment
                if not self.closed and (segment is None or segment.size >= self.segment_bytes):
                    self._rotate_locked()
        with self._lock:
            if self.closed:
                raise RuntimeError("the event log is closed")
            segment = self._segment
            if segment is None:  # sealed by another thread in between
                segment = self._segment = self._open_segment()
            _write_all(segment.fd, data)
            segment.size += len(data)
            self._written += len(data)
            return self._written

    def _sync_until(self, position: int) -> None:
        with self._sync_lock:
            if self._synced >= position:
                return  # a sync that started after our write already covered it
            with self._lock:
                target, segment = self._written, self._segment
            if segment is not None:
                _sync(segment.fd)
                self.syncs += 1
            self._synced = max(self._synced, target)

    def _rotate_locked(self) -> _Segment:
        """Seal the current segment (durable, unlocked) and open a new one; the caller holds
        `_sync_lock` and `_lock`."""
        old = self._segment
        if old is not None:
            _sync(old.fd)  # what was written to it is durable before anyone may compact it
            self._synced = max(self._synced, self._written)
            os.close(old.fd)  # releases the flock: the segment is sealed
        self._segment = self._open_segment()
        return self._segment

    def seal(self) -> None:
        """Seal the open segment (if it holds anything) so a compactor can take it."""
        with self._sync_lock, self._lock:
            if self._segment is not None and self._segment.size > 0:
                _sync(self._segment.fd)
                self._synced = self._written
                os.close(self._segment.fd)
                self._segment = None

    def close(self) -> None:
        with self._sync_lock, self._lock:
            if self._segment is not None:
                _sync(self._segment.fd)
                self._synced = self._written
                os.close(self._segment.fd)
                if self._segment.size == 0:
                    self._segment.path.unlink(missing_ok=True)
                self._segment = None
            self.closed = True


# -- reading and compaction (any process) -------------------------------------------------------
def segment_paths(directory: Path) -> list[Path]:
    return sorted(Path(directory).glob("*.seg"))


def read_segment(path: Path) -> list[bytes]:
    """The durable frames of a segment, live or sealed (a torn tail is ignored, not cut)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    return read_frames(data)[0]


@contextlib.contextmanager
def claim_sealed(path: Path) -> Iterator[int | None]:
    """Lock a sealed segment for recovery/compaction: yields its fd, or None when a writer (or
    another compactor) holds it or it is gone."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        yield None
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        if not path.exists():  # compacted and deleted between our open and our lock
            yield None
            return
        yield fd
    finally:
        os.close(fd)


def recover_segment(path: Path, fd: int) -> list[bytes]:
    """Read a claimed segment and cut a torn tail (a frame half-written when a process died:
    it was never acknowledged). Returns the frames kept."""
    data = path.read_bytes()
    frames, end = read_frames(data)
    if end < len(data):
        os.ftruncate(fd, end)
        os.fsync(fd)
    return frames


def decode_frames(frames: list[bytes]) -> list[list[Any]]:
    """The stored rows (normalize.ROW_COLUMNS) of some frames: a batch frame's accepted events
    normalised with the context its header recorded (to_row is deterministic, so decoding
    twice gives the same rows), an identify frame as one `$identify` row."""
    rows: list[list[Any]] = []
    for payload in frames:
        head, _, body = payload.partition(b"\n")
        header = json.loads(head)
        if header["kind"] == "identify":
            rows.append(identify_row(header))
            continue
        parsed = json.loads(body)
        events = parsed if isinstance(parsed, list) else parsed["batch"]
        skip = set(header["rejected"])
        ids = header["ids"]
        context = {
            "received_ms": header["received_ms"],
            "sent_at_ms": header["sent_ms"],
            "device": header["device"],
            "os": header["os"],
            "province": header["province"],
            "project": header["project"],
        }
        for index, raw in enumerate(events):
            if index not in skip:
                rows.append(to_row(raw, event_id=ids.get(str(index), ""), **context))
    return rows


def identify_row(header: dict[str, Any]) -> list[Any]:
    """An identify frame as a stored `$identify` row (distinct_id → customer_id)."""
    ms = header["received_ms"]
    key = f"{IDENTIFY_EVENT}|{header['distinct_id']}|{header['customer_id']}|{ms}"
    values = {
        "event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, key)),
        "event": IDENTIFY_EVENT,
        "distinct_id": header["distinct_id"],
        "customer_id": header["customer_id"],
        "ts_ms": ms,
        "received_ms": ms,
        "properties": {},
    }
    return [values.get(n, None if n in _INT_COLUMNS else "") for n in ROW_COLUMNS]


# -- the compacted form -------------------------------------------------------------------------
_TS = pa.timestamp("us", tz="UTC")
RAW_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("event", pa.string()),
        ("distinct_id", pa.string()),
        ("customer_id", pa.int64()),
        ("ts_at", _TS),
        ("received_at", _TS),
        ("device", pa.string()),
        ("os", pa.string()),
        ("province", pa.string()),
        ("channel", pa.string()),
        ("utm_source", pa.string()),
        ("utm_medium", pa.string()),
        ("utm_campaign", pa.string()),
        ("referrer_domain", pa.string()),
        ("path", pa.string()),
        ("sku_id", pa.int64()),
        ("product_id", pa.int64()),
        ("search_query", pa.string()),
        ("order_id", pa.int64()),
        ("amount", pa.int64()),
        ("project", pa.string()),
        ("properties", pa.string()),
    ]
)
_PROPS = ROW_COLUMNS.index("properties")
_MS_COLUMNS = {ROW_COLUMNS.index("ts_ms"), ROW_COLUMNS.index("received_ms")}
_INT_COLUMNS = {"customer_id", "sku_id", "product_id", "order_id", "amount"}


def rows_to_table(rows: list[list[Any]]) -> pa.Table:
    """Stored rows as an Arrow table in RAW_SCHEMA (times become UTC timestamps, the
    properties JSON text). Built from buffers: `pa.array` on Python values imports pandas
    (pyarrow probes for it), 1.5 s a process that only compacts does not need."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in ROW_COLUMNS]
    arrays = []
    for i, field in enumerate(RAW_SCHEMA):
        values: Any = columns[i]
        if i in _MS_COLUMNS:
            arrays.append(_int64s(values).cast(pa.timestamp("ms", tz="UTC")).cast(_TS))
            continue
        if i == _PROPS:
            values = [json.dumps(v, ensure_ascii=False, sort_keys=True) for v in values]
        arrays.append(_int64s(values) if field.type == pa.int64() else _strings(values))
    return pa.Table.from_arrays(arrays, schema=RAW_SCHEMA)


def _int64s(values: Any) -> pa.Array:
    """Python ints (None for null) as an int64 array."""
    nulls = values.count(None)
    if nulls:
        valid = np.fromiter((v is not None for v in values), bool, len(values))
        bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
        values = [0 if v is None else v for v in values]
    else:
        bitmap = None
    data = pa.py_buffer(np.array(values, dtype=np.int64))
    return pa.Array.from_buffers(pa.int64(), len(values), [bitmap, data], null_count=nulls)


def _strings(values: Any) -> pa.Array:
    """Python strings (None for null) as a string array."""
    nulls = values.count(None)
    encoded = [b"" if v is None else v.encode() for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, encoded), np.int64, len(encoded)), out=offsets[1:])
    bitmap = None
    if nulls:
        valid = np.fromiter((v is not None for v in values), bool, len(values))
        bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    buffers = [bitmap, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    wide = pa.Array.from_buffers(pa.large_string(), len(encoded), buffers, null_count=nulls)
    return wide.cast(pa.string())  # checked: a column past 2 GiB raises rather than wraps


def local_dates(ts: pa.ChunkedArray | pa.Array, timezone: str) -> pa.Array:
    """The shop-time-zone calendar date of each UTC timestamp."""
    return pc.cast(pc.local_timestamp(ts.cast(pa.timestamp("us", tz=timezone))), pa.date32())


def write_atomic(table: pa.Table, path: Path) -> None:
    """Write a Parquet file under a temporary name, sync it, and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def compact_segment(path: Path, parquet_dir: Path, timezone: str) -> int | None:
    """Recover (cut a torn tail), write a sealed segment as Parquet per date, then delete it.
    Returns the rows written, or None when the segment is live or taken by someone else."""
    with claim_sealed(path) as fd:
        if fd is None:
            return None
        rows = decode_frames(recover_segment(path, fd))
        if rows:
            table = rows_to_table(rows)
            dates = local_dates(table.column("ts_at"), timezone)
            for day in pc.unique(dates):  # Arrow scalars: pa.scalar would import pandas
                part = table.filter(pc.equal(dates, day))
                name = f"date={day.as_py().isoformat()}"
                write_atomic(part, parquet_dir / name / f"{path.stem}.parquet")
        path.unlink()
        _fsync_dir(path.parent)
        return len(rows)


def compact(directory: Path, timezone: str) -> int:
    """Compact every sealed segment under `directory` (a live one is left to its writer).
    Safe to run from several processes at once and to re-run after a crash."""
    total = 0
    for path in segment_paths(directory):
        got = compact_segment(path, Path(directory) / "parquet", timezone)
        total += got or 0
    # A writer that died before renaming its new segment leaves an empty `.new` file.
    for stale in Path(directory).glob("*.new"):
        with contextlib.suppress(OSError), claim_sealed(stale) as fd:
            if fd is not None and os.fstat(fd).st_size == 0:
                stale.unlink()
    return total
