"""The analytics engine: Ibis tables over the warehouse's Parquet datasets.

Metrics and analyses are Ibis expressions written once against `Warehouse.table(name)`; the
backend runs them. DuckDB (in-process) is the default; `SHOPOPS_ANALYTICS_BACKEND=pyspark` runs
the same expressions on Spark (local mode here, a cluster in production). Tables are registered
lazily, once per warehouse object; a table with no files yet is an empty table of the contract's
columns, so a metric over an empty period is 0 or null, never an error.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import hashlib
import json
import os
import threading
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq
from ibis.backends.sql.compilers.duckdb import DuckDBCompiler

from shopops.errors import InvalidInput

BACKENDS = ("duckdb", "pyspark")
_spark_lock = threading.Lock()
_spark: Any = None


def spark_session() -> Any:
    """One local Spark session per process (start-up costs seconds: share it)."""
    global _spark
    with _spark_lock:
        if _spark is None:
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            from pyspark.sql import SparkSession

            _spark = (
                SparkSession.builder.master("local[2]")
                .appName("shopops")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.sql.shuffle.partitions", "4")
                .getOrCreate()
            )
        return _spark


@ibis.udf.scalar.builtin(name="epoch_us")
def _duckdb_epoch_us(value: dt.Timestamp(timezone="UTC")) -> dt.int64:  # type: ignore[empty-body,valid-type]
    """DuckDB's microseconds since the epoch of a timestamptz (Ibis's `epoch_seconds` casts
    through a time-zone conversion first, which costs ten times more)."""


def _duckdb_arg_min(self: Any, op: Any, *, arg: Any, key: Any, where: Any) -> Any:
    return self.agg.arg_min_null(arg, key, where=where)


def _duckdb_arg_max(self: Any, op: Any, *, arg: Any, key: Any, where: Any) -> Any:
    return self.agg.arg_max_null(arg, key, where=where)


# Ibis compiles argmin/argmax for DuckDB as an ordered aggregate (`first(x ORDER BY k)`), which
# sorts every group; DuckDB's `arg_min_null`/`arg_max_null` give the same row's value (a NULL
# value at the extreme key included) in one hash pass. Only groups whose keys are all NULL
# differ (NULL instead of any row's value); no analysis argmins over a nullable key.
DuckDBCompiler.visit_ArgMin = _duckdb_arg_min
DuckDBCompiler.visit_ArgMax = _duckdb_arg_max


def seconds_between(backend: str, a: ir.TimestampValue, b: ir.TimestampValue) -> ir.FloatingValue:
    """`a - b` in (fractional) seconds, computed the cheap way on each backend."""
    if backend == "duckdb":
        return (_duckdb_epoch_us(a) - _duckdb_epoch_us(b)) / 1_000_000
    return (a.epoch_seconds() - b.epoch_seconds()).cast("float64")


DATED = "date=*/*.parquet"
# A dated table's file schema by (file, size, mtime ns): the same file has the same columns.
_FILE_SCHEMAS: dict[tuple[str, int, int, bool], ibis.Schema] = {}
_schemas_lock = threading.Lock()


@functools.lru_cache(maxsize=1024)
def _ibis_type(mapper: Any, text: str, nullable: bool) -> dt.DataType:
    """DuckDB's type text as an Ibis type (parsing it goes through sqlglot: ~0.2 ms each, a
    few hundred per fresh connection)."""
    return mapper.from_string(text, nullable=nullable)


def _pattern(folder: Path) -> str:
    """The glob of a table's files. DuckDB re-globs a view's files on every query, and a
    recursive `**` walk costs twice a one-level one: the contract's layouts (docs/warehouse.md:
    `date=<day>/part-0.parquet` for facts, `part-0.parquet` for dimensions) get a one-level
    glob; anything else keeps the recursive one."""
    dated = flat = other = False
    with os.scandir(folder) as entries:
        for e in entries:
            if e.is_dir():
                if e.name.startswith("date="):
                    dated = True
                elif not e.name.startswith("."):
                    other = True
            elif e.name.endswith(".parquet"):
                flat = True
    if dated and not flat and not other:
        return DATED
    if flat and not dated and not other:
        return "*.parquet"
    return "**/*.parquet"


class UnknownTable(InvalidInput):
    code = "unknown_table"


class Warehouse:
    """The warehouse directory seen through one Ibis backend connection."""

    def __init__(
        self,
        root: Path | str,
        *,
        backend: str = "duckdb",
        schemas: dict[str, pa.Schema] | None = None,
    ) -> None:
        if backend not in BACKENDS:
            raise InvalidInput(
                f"unknown analytics backend {backend!r}; choose one of {', '.join(BACKENDS)}",
                details={"backend": backend},
            )
        self.root = Path(root)
        self.backend_name = backend
        # Column types of tables that may have no files yet (from the loader's contract).
        self.schemas = schemas or {}
        self._tables: dict[str, ir.Table] = {}
        self._lock = threading.Lock()
        # Summaries' checks kept while `pinned` (None outside it).
        self._pinned: dict[str, Any] | None = None
        # Per thread: the reads being recorded for a kept plan (`metrics.plans`), if any.
        self._local = threading.local()
        if backend == "duckdb":
            self.con = ibis.duckdb.connect()
            # Report days are shop days: DuckDB's timestamptz arithmetic uses this zone.
            self.con.raw_sql("SET TimeZone = 'UTC'")
            # Reports query the same few hundred partition files many times: keep their footers.
            self.con.raw_sql("SET parquet_metadata_cache = true")
            # DuckDB uses every core by default; on a machine shared with other busy processes
            # one thread avoids waiting on a descheduled worker at each pipeline's end.
            threads = os.environ.get("SHOPOPS_DUCKDB_THREADS", "").strip()
            if threads:
                if not threads.isdigit() or int(threads) < 1:
                    raise InvalidInput(
                        f"SHOPOPS_DUCKDB_THREADS must be a whole number ≥ 1, not {threads!r}",
                        details={"SHOPOPS_DUCKDB_THREADS": threads},
                    )
                self.con.raw_sql(f"SET threads = {int(threads)}")
        else:
            self.con = ibis.pyspark.connect(spark_session())
        # The threads were chosen by the environment: `small_queries` leaves them alone.
        self.threads_fixed = bool(os.environ.get("SHOPOPS_DUCKDB_THREADS", "").strip())

    def has(self, name: str) -> bool:
        # Any one file will do: listing hundreds of partition folders is not free.
        folder = self.root / name
        return folder.is_dir() and next(folder.rglob("*.parquet"), None) is not None

    def _trace_reads(self, reads: list[Any] | None) -> list[Any] | None:
        """Record this thread's reads (call, identity) into `reads` (None: stop); the previous
        recorder is returned (`metrics.plans.tracing`)."""
        outer = getattr(self._local, "reads", None)
        self._local.reads = reads
        return outer

    def _noted(self, call: tuple[Any, ...], value: Any) -> Any:
        reads = getattr(self._local, "reads", None)
        if reads is not None:
            from shopops.analytics.metrics.plans import identity

            reads.append((call, identity(value)))
        return value

    def table(self, name: str) -> ir.Table:
        """The table `name` (e.g. `fact_orders`), Hive partitions as columns."""
        return self._noted(("table", name), self._table(name))

    def _table(self, name: str) -> ir.Table:
        with self._lock:
            if name in self._tables:
                return self._tables[name]
            if self.has(name):
                folder = self.root / name
                if self.backend_name == "duckdb":
                    table = self._duckdb_view(name, str(folder / _pattern(folder)))
                else:
                    table = self.con.read_parquet(str(folder), table_name=name)
            elif name in self.schemas:
                table = ibis.memtable(self.schemas[name].empty_table())
            else:
                raise UnknownTable(
                    f"the warehouse has no table {name!r}; run `shopops etl` first",
                    details={"table": name, "root": str(self.root)},
                )
            self._tables[name] = table
            return table

    def _duckdb_view(self, name: str, pattern: str, *, hive: bool = True) -> ir.Table:
        """What Ibis's `read_parquet` registers (a temp view over the files, Hive partitions as
        columns), typed from DuckDB's catalog: the view's columns were bound when it was
        created, and Ibis's `DESCRIBE` would glob and bind the ~550 files a second time."""
        raw = self.con.con
        ident = '"' + name.replace('"', '""') + '"'
        files = pattern.replace("'", "''")
        raw.execute(
            f"CREATE OR REPLACE TEMP VIEW {ident} AS "
            f"SELECT * FROM read_parquet('{files}', hive_partitioning = {str(hive).lower()})"
        )
        columns = raw.execute(
            "SELECT column_name, data_type, is_nullable FROM duckdb_columns() "
            "WHERE database_name = 'temp' AND table_name = ? ORDER BY column_index",
            [name],
        ).fetchall()
        mapper = self.con.compiler.type_mapper
        schema = ibis.schema({c: _ibis_type(mapper, t, bool(n)) for c, t, n in columns})
        op = ops.DatabaseTable(name, schema=schema, source=self.con, namespace=ops.Namespace())
        return op.to_expr()

    def dated(self, name: str, ranges: Sequence[tuple[date, date]] | None = None) -> ir.Table:
        """`_dated`, recorded for kept plans."""
        call = ("dated", name, None if ranges is None else tuple(ranges))
        return self._noted(call, self._dated(name, ranges))

    def _dated(self, name: str, ranges: Sequence[tuple[date, date]] | None = None) -> ir.Table:
        """`table(name)` read only from its `date=<day>` partitions within `ranges` (inclusive;
        None: every partition), the files listed now and named to DuckDB: DuckDB's glob over a
        fact's ~550 partition folders costs ~30 ms of CPU on every query, as much as reading a
        day's rows. Callers still filter on `date` (other backends and layouts read the whole
        table, through `table`)."""
        folder = self.root / name
        days = self._partitions(name) if self.backend_name == "duckdb" else None
        if days is None:
            return self.table(name)
        # The partitions within the ranges, found by bisecting the sorted days.
        only = [d for _, d in days]
        picked: set[int] = set()
        for lo, hi in [(date.min, date.max)] if ranges is None else ranges:
            picked.update(range(bisect.bisect_left(only, lo), bisect.bisect_right(only, hi)))
        chosen: list[str] = []
        for i in sorted(picked):
            chosen += self._partition_files(folder, days[i][0])
        # The schema comes from the first file of the table (what its glob view would bind).
        first = next((f for entry, _ in days for f in self._partition_files(folder, entry)), None)
        if first is None:
            return self.table(name)
        schema = self._file_schema(first)
        if not chosen:
            # No partition in range: the same columns, no rows.
            return ibis.memtable(schema.to_pyarrow().empty_table())
        # A temp view per file set (a SQL query node would be re-parsed at every compile, and
        # its text names hundreds of files); the same set asked again reuses it.
        digest = hashlib.sha1("\0".join([name, *chosen]).encode()).hexdigest()[:16]
        key = f"_dated_{digest}"
        with self._lock:
            table = self._tables.get(key)
            if table is None:
                listed = ", ".join("'" + f.replace("'", "''") + "'" for f in chosen)
                columns = ", ".join('"' + c.replace('"', '""') + '"' for c in schema.names)
                self.con.con.execute(
                    f'CREATE OR REPLACE TEMP VIEW "{key}" AS SELECT {columns} '
                    f"FROM read_parquet([{listed}], hive_partitioning = true)"
                )
                op = ops.DatabaseTable(
                    key, schema=schema, source=self.con, namespace=ops.Namespace()
                )
                table = self._tables[key] = op.to_expr()
        return table

    def _partitions(self, name: str) -> list[tuple[str, date]] | None:
        """The `date=<day>` folders of a dated table, sorted, with their days; None when the
        table is missing or not in that layout. Listed once per `pinned` block (a report reads
        a fact many times; each listing of ~550 folders cost ~2 ms)."""
        pinned = self._pinned
        key = ("_partitions", name)
        if pinned is not None and key in pinned:
            return pinned[key]
        folder = self.root / name
        found: list[tuple[str, date]] | None = None
        if folder.is_dir() and _pattern(folder) == DATED:
            with os.scandir(folder) as entries:
                names = sorted(e.name for e in entries if e.is_dir() and e.name.startswith("date="))
            try:
                found = [(n, date.fromisoformat(n[5:])) for n in names]
            except ValueError:
                found = None
        if pinned is not None:
            pinned[key] = found
        return found

    def _partition_files(self, folder: Path, entry: str) -> list[str]:
        """A partition folder's Parquet files, sorted (listed once per `pinned` block)."""
        pinned = self._pinned
        key = ("_files", str(folder), entry)
        if pinned is not None and key in pinned:
            return pinned[key]
        with os.scandir(folder / entry) as parts:
            files = sorted(e.path for e in parts if e.name.endswith(".parquet"))
        if pinned is not None:
            pinned[key] = files
        return files

    def _file_schema(self, file: str, *, hive: bool = True) -> ibis.Schema:
        """A dated table's columns as DuckDB reads them, from one of its files (DuckDB takes a
        multi-file read's columns from its first file; the date is typed from the path). Kept
        per process by the file's size and modification time: binding a file and reading the
        catalog cost ~5 ms per table on every fresh connection."""
        st = os.stat(file)
        key = (file, st.st_size, st.st_mtime_ns, hive)
        with _schemas_lock:
            found = _FILE_SCHEMAS.get(key)
        if found is not None:
            return found
        view = f"_schema_{hashlib.sha1(file.encode()).hexdigest()[:16]}"
        schema = self._duckdb_view(view, file, hive=hive).schema()
        self.con.con.execute(f'DROP VIEW IF EXISTS "{view}"')
        with _schemas_lock:
            if len(_FILE_SCHEMAS) >= 1024:
                _FILE_SCHEMAS.clear()
            _FILE_SCHEMAS[key] = schema
        return schema

    def derived(self, name: str) -> tuple[ir.Table, dict[str, Any]] | None:
        """`_derived`, recorded for kept plans."""
        return self._noted(("derived", name), self._derived(name))

    def _derived(self, name: str) -> tuple[ir.Table, dict[str, Any]] | None:
        """The loader's summary `name` (`shopops.warehouse.derived`: `first_seen`, `first_paid`;
        columns `key`, `first_date`) and its info, or None when it is missing or older than the
        facts it summarises (callers then compute from the facts)."""
        from shopops.warehouse import derived

        pinned = self._pinned
        if pinned is not None and name in pinned:
            return pinned[name]
        summary = next(d for d in derived.ALL if d.name == name)
        path = derived.path_of(self.root, summary)
        try:
            meta = pq.read_schema(path).metadata or {}
        except (FileNotFoundError, OSError, pa.ArrowInvalid):
            meta = {}
        sig = meta.get(derived.SIGNATURE_KEY, b"").decode() or None
        if pinned is None:
            facts = derived.signature(self.root, summary.source)
        else:
            # Inside `pinned`, each fact table's files are listed once (two summaries share one).
            facts = pinned.setdefault(f"_sig_{summary.source}", None) or derived.signature(
                self.root, summary.source
            )
            pinned[f"_sig_{summary.source}"] = facts
        if sig is None or sig != derived.stamp(facts, summary):
            found = None
        else:
            found = (
                self._derived_table(name, path, sig),
                json.loads(meta.get(derived.INFO_KEY, b"{}")),
            )
        if pinned is not None:
            pinned[name] = found
        return found

    @contextlib.contextmanager
    def pinned(self) -> Iterator[Warehouse]:
        """Within the block the loader's summaries are checked against the facts once: one
        report reads one state of the warehouse, and a load meanwhile is seen by the next.
        Re-entrant; the checks are forgotten when the outermost block ends."""
        outer = self._pinned is None
        if outer:
            self._pinned = {}
        try:
            yield self
        finally:
            if outer:
                self._pinned = None

    @contextlib.contextmanager
    def small_queries(self) -> Iterator[Warehouse]:
        """Within the block DuckDB runs on one thread (restored after), unless
        `SHOPOPS_DUCKDB_THREADS` chose the threads: a few days' queries of a few milliseconds
        each spend more CPU handing work to a second thread than they save (the daily report's
        metrics: ~0.55 -> 0.40 s of CPU, and less wall, on the shared 2-core machine)."""
        if self.backend_name != "duckdb" or self.threads_fixed:
            yield self
            return
        raw = self.con.con
        row = raw.execute("SELECT current_setting('threads')").fetchone()
        current = int(row[0]) if row else 1
        if current <= 1:
            yield self
            return
        raw.execute("SET threads = 1")
        try:
            yield self
        finally:
            raw.execute(f"SET threads = {current}")

    def _derived_table(self, name: str, path: Path, sig: str) -> ir.Table:
        with self._lock:
            cache_key = f"_derived_{name}_{sig}"
            table = self._tables.get(cache_key)
            if table is None:
                if self.backend_name == "duckdb":
                    table = self._duckdb_file_view(f"_derived_{name}", str(path))
                else:
                    table = self.con.read_parquet(str(path), table_name=f"_derived_{name}")
                self._tables[cache_key] = table
        return table

    def _duckdb_file_view(self, name: str, file: str) -> ir.Table:
        """A temp view over one Parquet file (what Ibis's `read_parquet` registers), typed from
        the process's schema cache (`_file_schema`): Ibis binds and describes the file again."""
        quoted = file.replace("'", "''")
        self.con.con.execute(
            f"CREATE OR REPLACE TEMP VIEW \"{name}\" AS SELECT * FROM read_parquet('{quoted}')"
        )
        schema = self._file_schema(file, hive=False)
        return ops.DatabaseTable(
            name, schema=schema, source=self.con, namespace=ops.Namespace()
        ).to_expr()

    def refresh(self) -> None:
        """Forget registered tables so the next read sees files the loader wrote since."""
        with self._lock:
            self._tables.clear()

    def execute(self, expr: ir.Expr) -> Any:
        return self.con.execute(expr)


def open_warehouse(data_dir: Path | str, *, backend: str | None = None) -> Warehouse:
    """The warehouse under `data_dir/warehouse`, on `backend` (default: the settings'); tables
    the loader has not written yet read as empty tables of the contract's columns."""
    from shopops.analytics.schema import READ_SCHEMAS

    chosen = backend or os.environ.get("SHOPOPS_ANALYTICS_BACKEND", "duckdb")
    return Warehouse(Path(data_dir) / "warehouse", backend=chosen, schemas=READ_SCHEMAS)
