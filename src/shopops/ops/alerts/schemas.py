"""A rule as data: what it watches, when it fires, what to do. Validated against the metrics
registry at save time (unknown metrics/dimensions, impossible thresholds are refused)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shopops.analytics.metrics import DIMENSIONS, METRICS

# Dimensions tried, in this order, when attributing a change (those the metric supports).
ATTRIBUTION_DIMS = ("channel", "top_category", "category", "province", "sales_channel", "device")
CODE = re.compile(r"^[a-z][a-z0-9_]{1,59}$")


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # threshold: the value itself; change: value / base − 1 (base: see `compare`).
    kind: Literal["threshold", "change"]
    op: Literal["<", "<=", ">", ">="]
    value: float
    compare: Literal["previous", "same_weekday", "baseline"] | None = None
    baseline_weeks: int = Field(4, ge=1, le=12)  # baseline = mean of the same weekday
    consecutive: int = Field(1, ge=1, le=14)

    @model_validator(mode="after")
    def _check(self) -> Condition:
        if self.kind == "change":
            if self.compare is None:
                raise ValueError("a change condition needs compare: previous|same_weekday|baseline")
            if self.value <= -1 and self.op in ("<", "<="):
                raise ValueError("a change can never fall below −100%")
        elif self.compare is not None:
            raise ValueError("compare applies to change conditions only")
        return self


class Action(BaseModel):
    model_config = ConfigDict(extra="forbid")

    playbook_zh: str = Field(min_length=1, max_length=500)
    playbook_en: str = Field(min_length=1, max_length=500)


class RuleSpec(BaseModel):
    """One alert rule. `metric` is a registry code, or `A/B` (a ratio of two registry metrics,
    e.g. ad_spend/sessions for CPC in 分 per visit)."""

    model_config = ConfigDict(extra="forbid")

    code: str
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=100)
    metric: str
    filters: dict[str, list[str]] = Field(default_factory=dict)
    condition: Condition
    level: int = Field(ge=1, le=3)
    cooldown_days: int = Field(1, ge=0, le=90)
    playbook: Action
    attribute_by: list[str] | None = None
    # Judge each member of this dimension on its own (e.g. every traffic channel), members
    # whose base is below min_base are too small to judge.
    split_by: str | None = None
    min_base: float = Field(0, ge=0)
    enabled: bool = True
    # An automatic action when the rule fires (shopops.ops.actions): a draft promotion for
    # slow SKUs, products flagged for a new main image, purchase suggestions for hit SKUs out
    # of stock. Each is idempotent and logged on the alert.
    action: Literal["draft_promotion", "image_refresh", "purchase_suggestion"] | None = None

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        if not CODE.match(v):
            raise ValueError("code: lower-case letters, digits and _, 2–60 characters")
        return v

    @field_validator("filters", mode="before")
    @classmethod
    def _filters(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: [x] if isinstance(x, str | int) else x for k, x in v.items()}
        return v

    @model_validator(mode="after")
    def _against_registry(self) -> RuleSpec:
        codes = self.metric_codes()
        unknown = [c for c in codes if c not in METRICS]
        if unknown or len(codes) > 2 or not all(codes):
            raise ValueError(f"unknown metric {self.metric!r}; valid: {', '.join(METRICS)}")
        dims = (
            set.intersection(*(set(METRICS[c].dims) for c in codes))
            if all(METRICS[c].available for c in codes)
            else set(DIMENSIONS)
        )
        for dim, values in self.filters.items():
            if dim not in DIMENSIONS:
                raise ValueError(f"unknown dimension {dim!r}; valid: {', '.join(DIMENSIONS)}")
            if dim not in dims:
                raise ValueError(f"metric {self.metric!r} cannot be filtered by {dim!r}")
            if not values or not all(str(x).strip() for x in values):
                raise ValueError(f"filter {dim!r} has no value")
        for dim in self.attribute_by or []:
            if dim not in DIMENSIONS:
                raise ValueError(f"unknown dimension {dim!r}; valid: {', '.join(DIMENSIONS)}")
            if dim not in dims:
                raise ValueError(f"metric {self.metric!r} cannot be broken down by {dim!r}")
        if self.split_by is not None:
            if self.split_by not in DIMENSIONS:
                raise ValueError(
                    f"unknown dimension {self.split_by!r}; valid: {', '.join(DIMENSIONS)}"
                )
            if self.split_by not in dims:
                raise ValueError(f"metric {self.metric!r} cannot be split by {self.split_by!r}")
            if len(codes) != 1:
                raise ValueError("split_by applies to a single registry metric")
            if self.action is not None:
                raise ValueError("an automatic action applies to whole-shop rules, not split_by")
        c = self.condition
        ratio_unit = c.kind == "threshold" and self.is_ratio_unit() and len(codes) == 1
        if ratio_unit and not 0 <= c.value <= 1:
            raise ValueError(f"{self.metric} is a ratio: a threshold lies in 0..1")
        if c.kind == "threshold" and c.value < 0 and c.op in ("<", "<="):
            raise ValueError("metric values are never negative: this rule could never fire")
        return self

    def metric_codes(self) -> list[str]:
        return [p.strip() for p in self.metric.split("/")]

    def is_ratio_unit(self) -> bool:
        return all(METRICS[c].unit == "ratio" for c in self.metric_codes())

    def available(self) -> bool:
        return all(METRICS[c].available for c in self.metric_codes())

    def dimensions(self) -> list[str]:
        """Where to look for the explanation of a change."""
        if self.attribute_by is not None:
            return self.attribute_by
        codes = self.metric_codes()
        if not self.available():
            return []
        dims = set.intersection(*(set(METRICS[c].dims) for c in codes))
        return [d for d in ATTRIBUTION_DIMS if d in dims and d not in self.filters]


class RuleOut(RuleSpec):
    id: int


class AlertOut(BaseModel):
    id: int
    rule_code: str | None
    kind: str
    day: str
    level: int
    status: str
    metric: str
    filters: dict[str, list[str]]
    value: float | None
    base: float | None
    change: float | None
    score: float | None
    message_zh: str
    message_en: str
    playbook_zh: str
    playbook_en: str
    attribution: dict[str, Any] | None
    opened_at: str
    acknowledged_by: str | None
    acknowledged_at: str | None
    resolved_by: str | None
    resolved_at: str | None
    history: list[dict[str, Any]]
    actions: list[dict[str, Any]] = Field(default_factory=list)


class Transition(BaseModel):
    note: str = Field("", max_length=500)
