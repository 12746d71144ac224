"""Parquet files of the warehouse, written atomically, and the loader's checkpoint.

A run stages every file it changes under a temporary name (`….parquet.<run>.tmp`, which no
reader's `*.parquet` glob matches), then commits: it writes a journal naming the renames and
the new checkpoint, renames the files into place, writes the checkpoint (`_state.json`) and
drops the journal. A crash before the journal leaves the old warehouse (stray temporary files
are deleted by the next run); a crash after it is rolled forward by the next run's `recover`,
so readers see the old state or the new one, and the checkpoint never runs ahead of the files.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import functools
import json
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from shopops.warehouse.schema import SCHEMAS

STATE = "_state.json"
JOURNAL = "_journal.json"
STOCK_LEVELS = "_stock_levels.parquet"
PART = "part-0.parquet"
TMP_SUFFIX = ".tmp"


def _rename(src: Path, dst: Path) -> None:
    """One atomic rename (a seam for the crash tests)."""
    os.replace(src, dst)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # not every file system syncs directories
    finally:
        os.close(fd)


@functools.cache
def _libc_syncfs() -> Callable[[int], int] | None:
    try:
        fn = ctypes.CDLL(None, use_errno=True).syncfs
    except (AttributeError, OSError):
        return None  # not Linux: fsync one by one
    fn.argtypes, fn.restype = [ctypes.c_int], ctypes.c_int
    return fn  # type: ignore[no-any-return]


def _syncfs(root: Path) -> bool:
    """Flush the whole file system holding `root` (Linux `syncfs`: data and metadata of every
    file, reporting write-back errors since 5.8); False where there is none."""
    fn = _libc_syncfs()
    if fn is None:
        return False
    fd = os.open(root, os.O_RDONLY)
    try:
        if fn(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), str(root))
    finally:
        os.close(fd)
    return True


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}{TMP_SUFFIX}")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=1, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    _rename(tmp, path)
    _fsync_dir(path.parent)


def partition_path(root: Path, table: str, day: dt.date) -> Path:
    return root / table / f"date={day.isoformat()}" / PART


def dimension_path(root: Path, table: str) -> Path:
    return root / table / PART


def partitions(root: Path, table: str) -> list[dt.date]:
    """The dates a fact table has files for, in order."""
    folder = root / table
    if not folder.is_dir():
        return []
    days = [
        dt.date.fromisoformat(p.name.removeprefix("date="))
        for p in folder.iterdir()
        if p.name.startswith("date=") and (p / PART).exists()
    ]
    return sorted(days)


def conform(data: pa.Table, schema: pa.Schema) -> pa.Table:
    """`data` with exactly the schema's columns (missing ones null), in its order and types."""
    columns = [
        data.column(f.name).cast(f.type)
        if f.name in data.column_names
        else pa.nulls(data.num_rows, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def read(path: Path, table: str) -> pa.Table:
    """A file of `table`, or its empty table when there is none."""
    schema = SCHEMAS[table]
    if not path.exists():
        return schema.empty_table()
    return conform(pq.read_table(path, partitioning=None), schema)


def read_state(root: Path) -> dict[str, Any]:
    path = root / STATE
    if not path.exists():
        return {"sources": {"outbox": 0}}
    return json.loads(path.read_text(encoding="utf-8"))


def recover(root: Path) -> bool:
    """Finish a commit a crash interrupted (roll forward), then delete stray temporary files.
    True when a commit was rolled forward."""
    if not root.exists():
        return False
    journal = root / JOURNAL
    rolled = False
    if journal.exists():
        data = json.loads(journal.read_text(encoding="utf-8"))
        for gone in data.get("deletes", []):
            shutil.rmtree(root / gone, ignore_errors=True)
        for tmp, final in data["renames"]:
            src, dst = root / tmp, root / final
            if src.exists():
                dst.parent.mkdir(parents=True, exist_ok=True)
                _rename(src, dst)
        _write_json(root / STATE, data["state"])
        journal.unlink()
        rolled = True
    for stray in root.rglob(f"*{TMP_SUFFIX}"):
        stray.unlink(missing_ok=True)
    return rolled


class Commit:
    """The files one loader step changes, made visible together with its checkpoint."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.run = uuid.uuid4().hex[:12]
        self.renames: list[tuple[Path, Path]] = []
        self.deletes: list[Path] = []

    def __bool__(self) -> bool:
        return bool(self.renames or self.deletes)

    def write(self, path: Path, data: pa.Table) -> None:
        """Stage `data` to replace `path` at commit."""
        if self.deletes:
            raise ValueError("a commit either deletes folders or writes files")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{self.run}{TMP_SUFFIX}")
        pq.write_table(data, tmp, compression="zstd")
        self.renames.append((tmp, path))  # made durable at commit, before the journal

    def delete(self, folder: Path) -> None:
        """Remove a whole folder (a table a full rebuild starts again) at commit. A commit
        deletes or writes, never both: a roll-forward redoes its deletes first."""
        if self.renames:
            raise ValueError("a commit either deletes folders or writes files")
        self.deletes.append(folder)

    def commit(self, state: dict[str, Any]) -> None:
        """Make every staged file visible, then move the checkpoint to `state`."""
        rel = [
            (str(t.relative_to(self.root)), str(f.relative_to(self.root))) for t, f in self.renames
        ]
        gone = [str(d.relative_to(self.root)) for d in self.deletes]
        # Every staged file on disk before the journal names it: one syncfs for the commit,
        # not an fsync per file (~60 a batch); the journal is fsynced as before.
        if self.renames and not _syncfs(self.root):
            for tmp, _ in self.renames:
                _fsync_file(tmp)
        _write_json(self.root / JOURNAL, {"renames": rel, "deletes": gone, "state": state})
        for folder in self.deletes:
            shutil.rmtree(folder, ignore_errors=True)
        for tmp, final in self.renames:
            _rename(tmp, final)
        # The renames on disk before the checkpoint moves (one syncfs, or each folder).
        if self.renames and not _syncfs(self.root):
            for folder in {final.parent for _, final in self.renames}:
                _fsync_dir(folder)
        _write_json(self.root / STATE, state)
        (self.root / JOURNAL).unlink()
