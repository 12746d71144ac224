"""The browsing of visitors who do not buy, described compactly and made where it is ingested.

Most visitors leave without an order: their sessions only become tracking events. The engine
decides each one (who, when, from which channel, how far they go: `visit.browse_shape`, so the
day's event count is known) and hands the stretch's list to the ingestion with a `Browsing`;
`expand` (in the ingestion child, on the machine's other core) draws what they looked at from
the stretch's own stream, so a seed gives the same events wherever it runs. The day's new
visitors come as columns (`add_many`, from `sim.arrivals`): no Python object each in the
store's process.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shopops.sim import arrivals, personas, traffic
from shopops.sim.catalog import Shop
from shopops.sim.visit import BROWSE_SPAN_MS, Visit, browse, shape_events

# (distinct id, channel, persona code, start in epoch ms, customer id or None, shape)
Row = tuple[str, str, str, int, int | None, int]


@dataclass
class Columns:
    """New visitors as arrays: distinct id `prefix + number`, channel and persona indexes."""

    prefix: str
    number: np.ndarray
    channel: np.ndarray
    persona: np.ndarray
    start_ms: np.ndarray
    shape: np.ndarray


@dataclass
class Browsing:
    """A stretch of a day's non-buying visits."""

    seed: str  # the stretch's stream (seed, day, start of the stretch)
    campaign: str
    shop: Shop
    rows: list[Row] = field(default_factory=list)
    count: int = 0  # the events `expand` makes
    latest_ms: int = 0  # no event of theirs is later than this
    columns: list[Columns] = field(default_factory=list)

    @classmethod
    def start(cls, seed: str, campaign: str, shop: Shop) -> Browsing:
        # The catalog without the picks' cache (rebuilt where it is expanded: smaller pickles).
        return cls(seed, campaign, dataclasses.replace(shop, picks={}))

    def add(self, visit: Visit, start_ms: int, shape: int) -> None:
        row = (visit.distinct_id, visit.channel, visit.persona.code, start_ms, visit.customer_id)
        self.rows.append((*row, shape))
        self.count += shape_events(shape)
        self.latest_ms = max(self.latest_ms, start_ms + BROWSE_SPAN_MS)

    def add_many(self, columns: Columns) -> None:
        """New visitors (no customer id) as columns of the same length."""
        if not len(columns.number):
            return
        self.columns.append(columns)
        self.count += int(arrivals.shape_events(columns.shape).sum())
        self.latest_ms = max(self.latest_ms, int(columns.start_ms.max()) + BROWSE_SPAN_MS)

    def all_rows(self) -> list[Row]:
        """Every visit as a row, in time order (ties: columns first, then `add`'s order)."""
        out: list[Row] = []
        codes = [c.code for c in traffic.CHANNELS]
        kinds = [p.code for p in personas.PERSONAS]
        for c in self.columns:
            out.extend(
                (f"{c.prefix}{n}", codes[ch], kinds[pe], t, None, s)
                for n, ch, pe, t, s in zip(
                    c.number.tolist(), c.channel.tolist(), c.persona.tolist(),
                    c.start_ms.tolist(), c.shape.tolist(), strict=True,
                )
            )  # fmt: skip
        out.extend(self.rows)
        out.sort(key=lambda r: r[3])
        return out

    def expand(self) -> list[dict[str, Any]]:
        """The visits' tracking events (the same for the same rows and seed)."""
        rng = random.Random(self.seed)
        out: list[dict[str, Any]] = []
        for distinct, channel, persona, start_ms, customer, shape in self.all_rows():
            start = dt.datetime.fromtimestamp(start_ms / 1000, dt.UTC)
            visit = Visit(distinct, channel, personas.BY_CODE[persona], start, customer)
            visit.events = out  # appended in place: one list for the stretch
            browse(rng, self.shop, visit, traffic.BY_CODE[channel], self.campaign, start_ms, shape)
        return out
