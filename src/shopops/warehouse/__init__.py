"""The warehouse (F-19): a star schema of Parquet files built from the store's outbox and a
read-only snapshot of its tables. See docs/warehouse.md for the contract."""

from shopops.warehouse.loader import LoaderBusy, LoadReport, load_warehouse, run_incremental
from shopops.warehouse.schema import SCHEMAS

__all__ = ["SCHEMAS", "LoadReport", "LoaderBusy", "load_warehouse", "run_incremental"]
