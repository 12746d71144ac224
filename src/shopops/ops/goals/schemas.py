"""A goal as data, validated against the metrics registry at save time."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shopops.analytics.metrics import DIMENSIONS, METRICS

CODE = re.compile(r"^[a-z][a-z0-9_]{1,59}$")
# A goal may be scoped to one member of these dimensions (a channel, a category).
GOAL_DIMENSIONS = ("channel", "top_category", "category", "sales_channel")
PeriodKind = Literal["day", "month", "quarter", "year"]


class GoalSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    metric: str
    period: PeriodKind
    # Money in 分 (fen) for money metrics, a fraction 0..1 for ratios.
    target: float = Field(gt=0)
    dimension: str | None = None
    member: str | None = Field(None, max_length=100)
    name_zh: str = Field("", max_length=100)
    name_en: str = Field("", max_length=100)

    @model_validator(mode="after")
    def _against_registry(self) -> GoalSpec:
        if not CODE.match(self.code):
            raise ValueError("code: lower-case letters, digits and _, 2–60 characters")
        m = METRICS.get(self.metric)
        if m is None:
            raise ValueError(f"unknown metric {self.metric!r}; valid: {', '.join(METRICS)}")
        if not m.available:
            raise ValueError(f"metric {self.metric!r} has no data source yet")
        if m.unit == "ratio" and self.target > 1:
            raise ValueError(f"{self.metric} is a ratio: a target lies in 0..1")
        if (self.dimension is None) != (self.member is None or not self.member.strip()):
            raise ValueError("a scoped goal needs both dimension and member")
        if self.dimension is not None:
            if self.dimension not in DIMENSIONS or self.dimension not in GOAL_DIMENSIONS:
                raise ValueError(
                    f"unknown dimension {self.dimension!r}; valid: {', '.join(GOAL_DIMENSIONS)}"
                )
            if self.dimension not in m.dims:
                raise ValueError(f"metric {self.metric!r} cannot be scoped by {self.dimension!r}")
        if not self.name_zh:
            self.name_zh = m.name_zh
        if not self.name_en:
            self.name_en = m.name_en
        return self
