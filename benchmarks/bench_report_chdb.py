"""The daily report as ClickHouse SQL in chDB (in-process), on the same Parquet files: one
query per fact (all three days at once, grouped by date), the funnel's step tables as Memory
tables (like shopops materializes them), retention and RFM as aggregates. Same definitions as
shopops and bench_report_pandas; `differences` checks the numbers agree."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import chdb.session

from shopops.analytics.metrics.registry import METRICS

PAID = "('paid_search', 'display', 'affiliate', 'feed_ads', 'influencer')"
NATURAL = "('organic_search', 'direct', 'private_domain', 'referral')"


def _q(sess: Any, sql: str) -> list[dict[str, Any]]:
    return sess.query(sql, "ArrowTable").to_pylist()


def _measures(sess: Any, src: Any, days: list[dt.date]) -> dict[dt.date, dict[str, float]]:
    d_in = "(" + ", ".join(f"'{d}'" for d in days) + ")"
    hi = f"'{max(days)}'"
    pad = sorted({d + dt.timedelta(days=k) for d in days for k in (-1, 0, 1)})
    pad_in = "(" + ", ".join(f"'{d}'" for d in pad) + ")"
    queries = [
        f"""SELECT p.date AS d, count() AS uv, count() AS daily_uv_sum, sum(pages) AS pv,
              countIf(v) AS product_view_uv, countIf(c) AS cart_uv, countIf(s) AS search_uv,
              countIf(s AND v) AS search_view_uv, countIf(ch IN {NATURAL}) AS natural_uv,
              countIf(ch IN {PAID}) AS paid_uv, countIf(f.first_seen = p.date) AS new_visitors
            FROM (SELECT date, person_id, countIf(event IN ('page_view', 'product_view')) pages,
                    max(event = 'product_view') v, max(event = 'add_to_cart') c,
                    max(event = 'search') s, argMin(channel, ts_at) ch
                  FROM {src("fact_events")} WHERE date IN {d_in} GROUP BY date, person_id) p
            LEFT JOIN (SELECT person_id, min(date) first_seen FROM {src("fact_sessions")}
                       WHERE date <= {hi} AND person_id IN (SELECT person_id
                         FROM {src("fact_events")} WHERE date IN {d_in})
                       GROUP BY person_id) f ON p.person_id = f.person_id
            GROUP BY p.date""",
        f"""SELECT date AS d, count() AS sessions,
              sumIf(duration_seconds, events >= 2) AS session_seconds,
              countIf(events = 1 AND page_views = 1) AS bounces
            FROM {src("fact_sessions")} WHERE date IN {d_in} GROUP BY date""",
        f"""SELECT o.paid_date AS d, sum(paid_amount) AS gmv, count() AS paid_orders,
              uniqExact(o.customer_id) AS buyers, sum(units) AS units,
              sum(discount_total) AS discounts,
              uniqExactIf(o.customer_id, f.fp = o.paid_date) AS new_buyers,
              uniqExactIf(o.customer_id, f.fp = o.paid_date) AS acquired_new_buyers,
              sumIf(paid_amount, f.fp = o.paid_date) AS new_buyer_gmv,
              sumIf(paid_amount, if(ifNull(c.ch, '') = '', 'direct', c.ch) IN {PAID})
                AS paid_channel_gmv
            FROM (SELECT * FROM {src("fact_orders")}
                  WHERE date <= {hi} AND paid_date IN {d_in}) o
            LEFT JOIN (SELECT customer_id, min(paid_date) fp FROM {src("fact_orders")}
                       WHERE date <= {hi} AND paid_date IS NOT NULL AND customer_id IN
                         (SELECT customer_id FROM {src("fact_orders")}
                          WHERE date <= {hi} AND paid_date IN {d_in})
                       GROUP BY customer_id) f ON o.customer_id = f.customer_id
            LEFT JOIN (SELECT order_id, argMax(channel, ts_at) ch FROM {src("fact_events")}
                       WHERE event = 'pay' AND order_id IS NOT NULL AND date IN {pad_in}
                       GROUP BY order_id) c ON o.order_id = c.order_id
            GROUP BY o.paid_date""",
        f"""SELECT d, countIf(n >= 2) AS repeat_buyers FROM (
              SELECT paid_date d, customer_id, uniqExact(order_id) n FROM {src("fact_orders")}
              WHERE date <= {hi} AND paid_date IN {d_in} GROUP BY d, customer_id) GROUP BY d""",
        f"""SELECT date AS d, uniqExact(customer_id) AS order_buyers, count() AS placed_orders,
              sum(total) AS order_amount, countIf(cancelled_at IS NOT NULL) AS cancelled_orders
            FROM {src("fact_orders")} WHERE date IN {d_in} GROUP BY date""",
        f"""SELECT l.date AS d, sum(unit_cost * quantity) AS cogs,
              sum(total - unit_cost * quantity - ifNull(r.a, 0) + ifNull(r.c, 0)) AS gross_profit,
              sum(total - ifNull(r.a, 0)) AS net_line_amount
            FROM (SELECT * FROM {src("fact_order_lines")} WHERE date IN {d_in}) l
            LEFT JOIN (SELECT line_id, sum(amount) a, sum(cost) c FROM {src("fact_refunds")}
                       WHERE line_id IS NOT NULL GROUP BY line_id) r ON l.line_id = r.line_id
            GROUP BY l.date""",
        f"""SELECT d, sumIf(g, rn <= 5) AS hit_gmv FROM (
              SELECT date d, sku_id, sum(total) g,
                row_number() OVER (PARTITION BY date ORDER BY sum(total) DESC, sku_id) rn
              FROM {src("fact_order_lines")} WHERE date IN {d_in} GROUP BY date, sku_id)
            GROUP BY d""",
        f"""SELECT date AS d, count() AS payment_attempts, countIf(succeeded) AS payment_successes
            FROM {src("fact_payments")} WHERE date IN {d_in} GROUP BY date""",
        f"""SELECT date AS d, sum(amount) AS refund_amount FROM {src("fact_refunds")}
            WHERE date IN {d_in} GROUP BY date""",
        f"""SELECT date AS d, sumIf(units, direction = 'outbound') AS shipped_units
            FROM {src("fact_shipments")} WHERE date IN {d_in} GROUP BY date""",
        f"""SELECT toDate(delivered_at, 'Asia/Shanghai') AS d, count() AS deliveries,
              sum(dateDiff('microsecond', shipped_at, delivered_at)) / 1e6 AS delivery_seconds
            FROM {src("fact_shipments")}
            WHERE date <= {hi} AND direction = 'outbound' AND delivered_at IS NOT NULL
              AND toDate(delivered_at, 'Asia/Shanghai') IN {d_in} GROUP BY d""",
        f"""SELECT date AS d, sum(quantity) AS returned_units FROM {src("fact_returns")}
            WHERE date IN {d_in} GROUP BY date""",
        f"""SELECT date AS d, countIf(action = 'issued') AS coupons_issued,
              countIf(action = 'redeemed') AS coupons_redeemed
            FROM {src("fact_coupons")} WHERE date IN {d_in} GROUP BY date""",
        f"""SELECT date AS d, countIf(listed) AS listed_sku_days,
              countIf(listed AND available <= 0) AS stockout_sku_days,
              sum(on_hand * unit_cost) AS stock_value_days
            FROM {src("fact_stock_daily")} WHERE date IN {d_in} GROUP BY date""",
        f"""SELECT date AS d, sum(spend) AS ad_spend FROM {src("fact_ad_spend")}
            WHERE date IN {d_in} GROUP BY date""",
        f"""SELECT date AS d, count() AS reviews, sum(rating) AS rating_sum,
              countIf(rating >= 4) AS good_reviews, countIf(rating <= 2) AS negative_reviews
            FROM {src("fact_reviews")}
            WHERE date IN {d_in} AND status IS NOT NULL AND status != 'rejected' GROUP BY date""",
        f"""SELECT toDate(completed_at, 'Asia/Shanghai') AS d, count() AS completed_orders,
              countIf(order_id IN (SELECT order_id FROM {src("fact_reviews")}
                                   WHERE order_id IS NOT NULL)) AS reviewed_completed_orders
            FROM {src("fact_orders")}
            WHERE date <= {hi} AND completed_at IS NOT NULL
              AND toDate(completed_at, 'Asia/Shanghai') IN {d_in} GROUP BY d""",
    ]
    out: dict[dt.date, dict[str, float]] = {d: {} for d in days}
    for sql in queries:
        for row in _q(sess, sql):
            day = row.pop("d")
            if day in out:
                out[day].update({k: float(v or 0) for k, v in row.items()})
    return out


def _funnel(sess: Any, src: Any, steps: list[str], day: dt.date, window: dt.timedelta) -> dict:
    last = day + dt.timedelta(days=window.days + 2)
    names = "(" + ", ".join(f"'{s}'" for s in steps) + ")"
    secs = int(window.total_seconds())
    sess.query(f"""CREATE OR REPLACE TABLE c ENGINE = Memory AS
        SELECT cityHash64(person_id) pid, ts_at ts, channel, event, date
        FROM {src("fact_events")}
        WHERE date BETWEEN '{day}' AND '{last}' AND event IN {names}""")
    sess.query(f"""CREATE OR REPLACE TABLE r1 ENGINE = Memory AS
        SELECT pid, argMin(channel, ts) bd, min(ts) t1, min(ts) tk FROM c
        WHERE event = '{steps[0]}' AND date = '{day}' GROUP BY pid""")
    for k, step in enumerate(steps[1:], start=2):
        sess.query(f"""CREATE OR REPLACE TABLE r{k} ENGINE = Memory AS
            SELECT c.pid pid, any(p.bd) bd, any(p.t1) t1, min(c.ts) tk
            FROM c INNER JOIN r{k - 1} p ON c.pid = p.pid
            WHERE c.event = '{step}' AND c.ts > p.tk AND c.ts <= p.t1 + INTERVAL {secs} SECOND
            GROUP BY c.pid""")
    union = " UNION ALL ".join(
        f"SELECT {k} step, ifNull(bd, '') bd, count() n FROM r{k} GROUP BY bd"
        for k in range(1, len(steps) + 1)
    )
    groups: dict[str, list[int]] = {}
    for row in _q(sess, union):
        groups.setdefault(row["bd"], [0] * len(steps))[row["step"] - 1] = int(row["n"])
    counts = [sum(g[k] for g in groups.values()) for k in range(len(steps))]
    return {"counts": counts, "groups": groups}


def _retention(sess: Any, src: Any, start: dt.date, end: dt.date, periods: int) -> list[tuple]:
    act = f"""SELECT customer_id, toStartOfMonth(paid_date) p, count() n FROM {src("fact_orders")}
        WHERE paid_date IS NOT NULL AND customer_id IS NOT NULL AND paid_date <= '{end}'
        GROUP BY customer_id, p"""
    sess.query(f"CREATE OR REPLACE TABLE act ENGINE = Memory AS {act}")
    sess.query(f"""CREATE OR REPLACE TABLE coh ENGINE = Memory AS
        SELECT customer_id, min(p) cohort, argMin(n, p) n_first FROM act GROUP BY customer_id
        HAVING cohort BETWEEN toStartOfMonth(toDate('{start}'))
          AND toStartOfMonth(toDate('{end}'))""")
    cells = _q(
        sess,
        f"""SELECT c.cohort cohort, dateDiff('month', c.cohort, a.p) k,
        uniqExact(a.customer_id) n FROM coh c INNER JOIN act a ON a.customer_id = c.customer_id
        GROUP BY cohort, k HAVING k >= 0 AND k < {periods}""",
    )
    sizes = _q(
        sess,
        """SELECT cohort, count() size, countIf(n_first >= 2) rep FROM coh
        GROUP BY cohort ORDER BY cohort""",
    )
    got = {(r["cohort"], r["k"]): int(r["n"]) for r in cells}
    last = end.year * 12 + end.month
    rows = []
    for r in sizes:
        c = r["cohort"]
        observable = last - (c.year * 12 + c.month)
        retained = [
            (int(r["size"]) if k == 0 else got.get((c, k), 0)) if k <= observable else None
            for k in range(periods)
        ]
        rows.append((c, int(r["size"]), retained, int(r["rep"])))
    return rows


def _rfm(sess: Any, src: Any, as_of: dt.date) -> dict[str, Any]:
    sess.query(f"""CREATE OR REPLACE TABLE rfm ENGINE = Memory AS
        SELECT customer_id, dateDiff('day', max(paid_date), toDate('{as_of}')) r, count() f,
          sum(ifNull(paid_amount, 0)) m FROM {src("fact_orders")}
        WHERE paid_date IS NOT NULL AND customer_id IS NOT NULL AND paid_date <= '{as_of}'
        GROUP BY customer_id""")
    med = _q(
        sess,
        """SELECT count() n, quantileExactInclusive(0.5)(r) mr,
        quantileExactInclusive(0.5)(f) mf, quantileExactInclusive(0.5)(m) mm FROM rfm""",
    )[0]
    codes = _q(
        sess,
        f"""SELECT toUInt8(r <= {med["mr"]}) * 4 + toUInt8(f >= {med["mf"]}) * 2
        + toUInt8(m >= {med["mm"]}) code, count() n FROM rfm GROUP BY code""",
    )
    by_code = [0] * 8
    for row in codes:
        by_code[int(row["code"])] = int(row["n"])
    return {
        "customers": int(med["n"]),
        "by_code": by_code,
        "medians": (float(med["mr"]), float(med["mf"]), float(med["mm"])),
    }


def report(root: Path, day: dt.date, steps: list[str], window: dt.timedelta) -> dict[str, Any]:
    def src(table: str) -> str:
        return f"file('{root}/{table}/*/*.parquet', Parquet)"

    scopes = {
        "current": day,
        "previous": day - dt.timedelta(days=1),
        "last_year": day.replace(year=day.year - 1),
    }
    sess = chdb.session.Session()
    try:
        ms = _measures(sess, src, sorted(set(scopes.values())))
        metrics = {}
        for code, metric in METRICS.items():
            if metric.available:
                metrics[code] = tuple(
                    metric.value({**{n: 0 for n in metric.measures}, **ms[d], "_days": 1})
                    for d in scopes.values()
                )
        months = day.year * 12 + day.month - 1 - 11
        start = dt.date(months // 12, months % 12 + 1, 1)
        return {
            "metrics": metrics,
            "funnel": _funnel(sess, src, steps, day, window),
            "retention": _retention(sess, src, start, day, 12),
            "rfm": _rfm(sess, src, day),
        }
    finally:
        sess.close()


def differences(mine: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    from bench_report import differences as diff

    return diff(mine, theirs, "chDB")
