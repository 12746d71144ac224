"""The compacted form: rows_to_table builds RAW_SCHEMA from buffers, as `pa.array` would."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pyarrow as pa
import pytest

from shopops.tracking import store as log
from shopops.tracking.normalize import ROW_COLUMNS


def _reference(rows: list[list[Any]]) -> pa.Table:
    """The table as `pa.array` makes it (what rows_to_table did before it used buffers)."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in ROW_COLUMNS]
    arrays = []
    for i, field in enumerate(log.RAW_SCHEMA):
        values: Any = columns[i]
        if i in log._MS_COLUMNS:
            ms = pa.array(values, pa.int64()).cast(pa.timestamp("ms", tz="UTC"))
            arrays.append(ms.cast(log.RAW_SCHEMA.field(i).type))
            continue
        if i == log._PROPS:
            values = [log.json.dumps(v, ensure_ascii=False, sort_keys=True) for v in values]
        arrays.append(pa.array(values, field.type))
    return pa.Table.from_arrays(arrays, schema=log.RAW_SCHEMA)


def _row(n: int, *, nulls: bool) -> list[Any]:
    values: dict[str, Any] = {
        "event_id": f"id-{n}",
        "event": "$pageview",
        "distinct_id": f"访客-{n}",
        "customer_id": None if nulls else n,
        "ts_ms": 1_790_000_000_000 + n,
        "received_ms": 1_790_000_000_500 + n,
        "sku_id": None if nulls else 7,
        "amount": None if nulls else 12_345,
        "properties": {"url": "https://shop.example/p/1", "q": "充电器", "n": n},
    }
    return [values.get(c, None if c in log._INT_COLUMNS else "") for c in ROW_COLUMNS]


@pytest.mark.parametrize("count", [0, 1, 9, 1000])
def test_rows_to_table_matches_pa_array_with_and_without_nulls(count):
    rows = [_row(n, nulls=n % 3 == 0) for n in range(count)]
    assert log.rows_to_table(rows).equals(_reference(rows))
    same = [_row(n, nulls=False) for n in range(count)]
    assert log.rows_to_table(same).equals(_reference(same))


def test_compacting_does_not_import_pandas(tmp_path):
    # pyarrow imports pandas on its first `pa.array`/`pa.scalar`: 1.5 s per compacting process.
    script = (
        "import sys, datetime as dt; from shopops.tracking import service; "
        "s = service.open_store(sys.argv[1]); "
        "service.ingest_event(s, event={'event': 'page_view', 'distinct_id': 'a', "
        "'timestamp': '2026-09-01T10:00:00+08:00', 'properties': {'sku_id': 3}}, "
        "received_at=dt.datetime(2026, 9, 1, 2, tzinfo=dt.UTC)); "
        "assert service.compact_events(s) == 1; assert 'pandas' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True)
    assert list((tmp_path / "events" / "parquet").glob("date=2026-09-01/*.parquet"))
