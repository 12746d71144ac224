"""The metric registry: every metric once, as in docs METRICS.md (codes are the contract).

A metric is a formula over measures (`measures.py`): counts and sums are measures themselves,
ratios divide the scope's totals (never an average of daily ratios). `dims` of a metric are
the dimensions every one of its measures' sources can be sliced by.
"""

from __future__ import annotations

from shopops.analytics.metrics.defs_retention import RETENTION_AND_SERVICE
from shopops.analytics.metrics.defs_reviews import REVIEWS
from shopops.analytics.metrics.defs_traffic import TRAFFIC_AND_CONVERSION
from shopops.analytics.metrics.defs_value import VALUE
from shopops.analytics.metrics.measures import MEASURES
from shopops.analytics.metrics.metric import GROUP_EN, GROUPS, UNITS, Metric, Values, ratio
from shopops.analytics.metrics.sources import SOURCES

__all__ = ["GROUPS", "GROUP_EN", "METRICS", "UNITS", "Metric", "Values", "ratio"]

_DEFS: tuple[Metric, ...] = (*TRAFFIC_AND_CONVERSION, *VALUE, *RETENTION_AND_SERVICE, *REVIEWS)


def _dims(metric: Metric) -> tuple[str, ...]:
    if not metric.measures:
        return ()
    common: set[str] | None = None
    for name in metric.measures:
        dims = set(SOURCES[MEASURES[name].source].dims)
        common = dims if common is None else common & dims
    order = list(
        dict.fromkeys(d for m in metric.measures for d in SOURCES[MEASURES[m].source].dims)
    )
    return tuple(d for d in order if d in (common or set()))


METRICS: dict[str, Metric] = {m.code: Metric(**{**m.__dict__, "dims": _dims(m)}) for m in _DEFS}
