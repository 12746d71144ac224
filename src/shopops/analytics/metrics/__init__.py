"""Core metrics (METRICS.md): the registry, their evaluation, the GMV decomposition."""

from shopops.analytics.metrics.decomposition import Decomposition, decompose
from shopops.analytics.metrics.evaluate import Evaluation, MetricResult, evaluate, resolve_codes
from shopops.analytics.metrics.registry import GROUPS, METRICS, Metric
from shopops.analytics.metrics.sources import DIMENSIONS

__all__ = [
    "DIMENSIONS",
    "GROUPS",
    "METRICS",
    "Decomposition",
    "Evaluation",
    "Metric",
    "MetricResult",
    "decompose",
    "evaluate",
    "resolve_codes",
]
