"""The seed's targets (seed 000, the 3C-accessories launch plan) as default goals."""

from __future__ import annotations

from typing import Any

DEFAULT_GOALS: list[dict[str, Any]] = [
    {"code": "daily_uv", "metric": "uv", "period": "day", "target": 5000},
    {"code": "conversion", "metric": "conversion_rate", "period": "month", "target": 0.032},
    {"code": "repurchase", "metric": "repurchase_rate", "period": "year", "target": 0.18},
    {"code": "natural_traffic", "metric": "natural_traffic_share", "period": "month",
     "target": 0.28},
    # First-year GMV ¥8,000,000 in 分.
    {"code": "first_year_gmv", "metric": "gmv", "period": "year", "target": 800_000_000},
    {"code": "hit_products", "metric": "hit_product_share", "period": "month", "target": 0.45},
]  # fmt: skip
