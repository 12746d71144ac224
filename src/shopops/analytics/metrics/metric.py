"""What a metric is: the `Metric` record, the ratio helper and the metric groups (流量 · 转化 ·
客单价 · 复购 · 售后库存服务). The definitions live in `defs_*.py` by family; `registry.py`
assembles them into `METRICS`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

GROUPS = ("流量", "转化", "客单价", "复购", "售后库存服务")
GROUP_EN = {
    "流量": "Traffic",
    "转化": "Conversion",
    "客单价": "Value",
    "复购": "Retention",
    "售后库存服务": "After-sales, stock, service",
}
UNITS = ("count", "fen", "ratio", "seconds", "hours", "days")

Values = Mapping[str, float | int | None]


def ratio(num: float | int | None, den: float | int | None, scale: float = 1.0) -> float | None:
    """num / den, or None when the denominator is 0 or missing (an empty period)."""
    if num is None or not den:
        return None
    return num / den * scale


@dataclass(frozen=True)
class Metric:
    code: str
    name_zh: str
    name_en: str
    group: str
    formula: str
    unit: str
    good_direction: str
    measures: tuple[str, ...] = ()
    compute: Callable[[Values], float | int | None] | None = None
    # How to show a value: "int", "money", "percent", "decimal", "seconds", "hours", "days".
    format: str = "int"
    available: bool = True
    note: str = ""
    dims: tuple[str, ...] = field(default=(), compare=False)

    def value(self, values: Values) -> float | int | None:
        if self.compute is not None:
            return self.compute(values)
        v = values.get(self.measures[0])
        return 0 if v is None else v

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "group": self.group,
            "group_en": GROUP_EN[self.group],
            "formula": self.formula,
            "unit": self.unit,
            "good_direction": self.good_direction,
            "format": self.format,
            "available": self.available,
            "dimensions": list(self.dims),
            "note": self.note,
        }


def _r(num: str, den: str, scale: float = 1.0) -> Callable[[Values], float | None]:
    return lambda v: ratio(v.get(num), v.get(den), scale)


def _m(code, zh, en, group, formula, unit, good, measures, compute=None, fmt="int", **kw):
    return Metric(code, zh, en, group, formula, unit, good, tuple(measures), compute, fmt, **kw)


def _returning(v: Values) -> int:
    return (v.get("buyers") or 0) - (v.get("new_buyers") or 0)


def _gross_margin(v: Values) -> float | None:
    return ratio(v.get("gross_profit"), v.get("net_line_amount"))


def _discount_share(v: Values) -> float | None:
    discounts = v.get("discounts") or 0
    return ratio(discounts, (v.get("gmv") or 0) + discounts)
