"""The warehouse contract (docs/warehouse.md) as the analytics layer reads it.

The schemas are defined once, in `shopops.warehouse.schema`; this module assembles them for
readers. `FILE_SCHEMAS` are the columns stored in each table's Parquet files; facts are
Hive-partitioned by `date`, so readers see `date` as one more column: `READ_SCHEMAS` adds it.
A table without files yet is read as an empty table of its read schema
(`Warehouse(..., schemas=READ_SCHEMAS)`), so a metric over a store with no events is 0 or
null, never an error.
"""

from __future__ import annotations

import pyarrow as pa

from shopops.tracking.rules import NATURAL_CHANNELS as _NATURAL
from shopops.tracking.rules import PAID_CHANNELS as _PAID
from shopops.warehouse import schema as contract

FACTS: dict[str, pa.Schema] = {**contract.BEHAVIOUR_FACTS, **contract.FACTS}
DIMENSIONS: dict[str, pa.Schema] = {**contract.DIMENSIONS, **contract.BEHAVIOUR_DIMENSIONS}

# Columns stored in the files (facts' `date` lives in the folder name).
FILE_SCHEMAS: dict[str, pa.Schema] = {**FACTS, **DIMENSIONS}

# Columns a reader sees: facts gain their Hive partition column `date`.
READ_SCHEMAS: dict[str, pa.Schema] = {
    **{name: schema.append(pa.field("date", contract.DATE)) for name, schema in FACTS.items()},
    **DIMENSIONS,
}

# The traffic channel vocabulary (dim_channel.channel), paid and natural.
PAID_CHANNELS = tuple(sorted(c.value for c in _PAID))
NATURAL_CHANNELS = tuple(sorted(c.value for c in _NATURAL))
