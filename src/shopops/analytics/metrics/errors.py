"""Errors of metric evaluation: each a 4xx with its machine code and the valid choices."""

from __future__ import annotations

from shopops.errors import InvalidInput


class UnknownMetric(InvalidInput):
    code = "unknown_metric"


class UnknownDimension(InvalidInput):
    code = "unknown_dimension"


class DimensionNotApplicable(InvalidInput):
    code = "dimension_not_applicable"


class MetricUnavailable(InvalidInput):
    status_code = 409
    code = "metric_unavailable"


class InvalidCompare(InvalidInput):
    code = "invalid_compare"


class InvalidFilter(InvalidInput):
    code = "invalid_filter"
