"""Basket analysis: frequent itemsets (1, 2 and 3 items) and association rules.

Transactions are paid orders (`fact_order_lines`, shop date of payment in [start, end]); an
item is a product (default), a SKU or a category, counted once per order however many units.
Itemsets are counted in the backend (self-joins on the order with i1 < i2 < i3, keeping only
items and pairs that are frequent: the Apriori property), rules are derived in Python from the
itemset counts. For a rule X → Y over n orders:

    support = n(X∪Y)/n, confidence = n(X∪Y)/n(X), lift = confidence / (n(Y)/n),
    leverage = support − s(X)·s(Y), conviction = (1 − s(Y)) / (1 − confidence) (∞ when
    confidence = 1).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import ibis.expr.types as ir
import pandas as pd

from shopops.analytics.analyses._common import (
    BadParameter,
    check_period,
    clean,
    execute_df,
    records,
    table,
)
from shopops.analytics.engine import Warehouse

LEVELS = {"product": "product_id", "sku": "sku_id", "category": "category_id"}
RULE_COLUMNS = [
    "antecedent",
    "consequent",
    "support",
    "confidence",
    "lift",
    "leverage",
    "conviction",
    "count",
]


@dataclass
class BasketResult:
    level: str
    orders: int
    itemsets: dict[tuple[int, ...], int] = field(default_factory=dict)
    rules: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=RULE_COLUMNS))

    def support(self, items: tuple[int, ...]) -> float:
        return self.itemsets.get(tuple(sorted(items)), 0) / self.orders if self.orders else 0.0

    def bought_together(self, item: int, *, top: int = 10) -> pd.DataFrame:
        """Rules {item} → Y, best lift first (then confidence): "frequently bought together"."""
        r = self.rules
        mask = [a == (item,) for a in r["antecedent"]]
        out = r[mask].sort_values(["lift", "confidence", "count"], ascending=False, kind="stable")
        return out.head(top).reset_index(drop=True)

    def to_dict(self, *, item: int | None = None, limit: int = 100) -> dict[str, Any]:
        rules = (
            self.bought_together(item, top=limit) if item is not None else self.rules.head(limit)
        )
        frequent = sorted(self.itemsets.items(), key=lambda kv: (-len(kv[0]), -kv[1], kv[0]))
        return {
            "level": self.level,
            "orders": self.orders,
            "itemsets": [
                {"items": list(k), "count": v, "support": v / self.orders}
                for k, v in frequent
                if len(k) > 1
            ][:limit],
            "rules": [
                {
                    **row,
                    "antecedent": list(row["antecedent"]),
                    "consequent": list(row["consequent"]),
                    "conviction": _json_number(row["conviction"]),
                }
                for row in records(rules)
            ],
        }


def _pairs(lines: ir.Table) -> ir.Table:
    a, b = lines, lines.view()
    j = a.join(b, [a.order_id == b.order_id, a.item < b.item]).select(
        order_id=a.order_id, i1=a.item, i2=b.item
    )
    return j


def basket(
    wh: Warehouse,
    *,
    start: dt.date,
    end: dt.date,
    level: str = "product",
    min_support: float = 0.01,
    min_confidence: float = 0.0,
    max_size: int = 3,
) -> BasketResult:
    """Frequent itemsets (support ≥ `min_support`) up to `max_size` items, and all rules
    between their parts with confidence ≥ `min_confidence`, sorted by lift."""
    check_period(start, end)
    if level not in LEVELS:
        raise BadParameter(f"level must be one of {', '.join(LEVELS)}", details={"level": level})
    if not 0 < min_support <= 1 or not 0 <= min_confidence <= 1 or max_size not in (2, 3):
        raise BadParameter(
            "need 0 < min_support ≤ 1, 0 ≤ min_confidence ≤ 1, max_size 2 or 3",
            details={
                "min_support": min_support,
                "min_confidence": min_confidence,
                "max_size": max_size,
            },
        )
    t = table(wh, "fact_order_lines")
    t = t.filter(t.date >= start, t.date <= end, t[LEVELS[level]].notnull())
    lines = t.select("order_id", item=t[LEVELS[level]]).distinct()
    n = int(wh.execute(lines.order_id.nunique()) or 0)
    result = BasketResult(level=level, orders=n)
    if n == 0:
        return result
    need = max(1, math.ceil(min_support * n - 1e-9))
    singles = lines.group_by("item").aggregate(count=lines.order_id.count())
    singles = singles.filter(singles["count"] >= need)
    s_df = execute_df(wh, singles)
    for item, count in zip(s_df["item"], s_df["count"], strict=True):
        result.itemsets[(int(item),)] = int(count)
    if len(s_df) >= 2:
        frequent_lines = lines.join(singles.select("item"), "item")
        pairs = _pairs(frequent_lines)
        pc = pairs.group_by("i1", "i2").aggregate(count=pairs.order_id.count())
        pc = pc.filter(pc["count"] >= need)
        p_df = execute_df(wh, pc)
        for i1, i2, count in p_df.itertuples(index=False):
            result.itemsets[(int(i1), int(i2))] = int(count)
        if max_size >= 3 and len(p_df) >= 2:
            fp = pc.select("i1", "i2")
            # Extend each frequent pair present in the order by a larger frequent item.
            pr = pairs.join(fp, ["i1", "i2"])
            c = frequent_lines.view()
            tri = pr.join(c, [pr.order_id == c.order_id, pr.i2 < c.item]).select(
                order_id=pr.order_id, i1=pr.i1, i2=pr.i2, i3=c.item
            )
            tc = tri.group_by("i1", "i2", "i3").aggregate(count=tri.order_id.count())
            tc = tc.filter(tc["count"] >= need)
            for i1, i2, i3, count in execute_df(wh, tc).itertuples(index=False):
                key = (int(i1), int(i2), int(i3))
                # Apriori: every sub-pair must be frequent too (i1,i2 is by the join).
                if (key[0], key[2]) in result.itemsets and (key[1], key[2]) in result.itemsets:
                    result.itemsets[key] = int(count)
    result.rules = rules_from_itemsets(result.itemsets, n, min_confidence=min_confidence)
    return result


def rules_from_itemsets(
    itemsets: dict[tuple[int, ...], int], n: int, *, min_confidence: float = 0.0
) -> pd.DataFrame:
    """Every rule X → Y with X ∪ Y a frequent itemset of ≥ 2 items, X and Y non-empty."""
    rows = []
    for items, count in itemsets.items():
        if len(items) < 2:
            continue
        for size in range(1, len(items)):
            for x in combinations(items, size):
                y = tuple(i for i in items if i not in x)
                nx, ny = itemsets.get(x), itemsets.get(y)
                if not nx or not ny:
                    continue
                support = count / n
                confidence = count / nx
                if confidence < min_confidence:
                    continue
                sy = ny / n
                rows.append(
                    {
                        "antecedent": x,
                        "consequent": y,
                        "support": support,
                        "confidence": confidence,
                        "lift": confidence / sy,
                        "leverage": support - (nx / n) * sy,
                        "conviction": math.inf if confidence >= 1 else (1 - sy) / (1 - confidence),
                        "count": count,
                    }
                )
    df = pd.DataFrame(rows, columns=RULE_COLUMNS)
    if len(df):
        df = df.sort_values(
            ["lift", "confidence", "count"], ascending=False, kind="stable"
        ).reset_index(drop=True)
    return df


def _json_number(value: Any) -> Any:
    """JSON has no infinity: an infinite conviction (confidence 1) is sent as null."""
    v = clean(value)
    return None if isinstance(v, float) and math.isinf(v) else v
