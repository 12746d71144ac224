"""Automatic actions on a hand-built warehouse whose numbers can be counted by hand: the slow
SKUs' draft promotion (through the promotions service, left in draft), purchase suggestions
and main-image flags (ops' own table), each idempotent and logged on its alert."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from shopops.analytics.engine import open_warehouse
from shopops.db import now
from shopops.ops.actions import rules
from shopops.ops.actions.service import close_action, run_action
from shopops.ops.alerts.errors import InvalidRule
from shopops.ops.alerts.models import Alert, AlertRule, OpsAction
from shopops.ops.alerts.service import evaluate_day, parse_rule, save_rule
from shopops.promotions.models import PromotionDef
from tests import factories as f
from tests.analytics.warehouse_fixture import write_warehouse

DAY = dt.date(2026, 11, 20)


def test_pure_rules_count_by_hand():
    stock = {
        1: rules.StockRow(1, 0, 0, 100, True),  # nothing on hand: not slow, out of stock
        3: rules.StockRow(3, 400, 400, 1000, True),  # no sales at all: slow
        4: rules.StockRow(4, 100, 100, 500, True),  # 28 sold in 28 days: 100 days of cover
        5: rules.StockRow(5, 300, 300, 2000, True),  # 28 sold: 300 days of cover: slow
        6: rules.StockRow(6, 900, 900, 10, False),  # unlisted: left alone
    }
    sold = {4: 28, 5: 28}
    assert rules.cover_days(100, 28, 28) == 100
    # Largest stock value first: 300 × 2000 > 400 × 1000.
    assert rules.slow_skus(stock, sold, 28) == [5, 3]
    assert rules.purchase_quantity(56, 0, 28, 21) == 42
    assert rules.purchase_quantity(56, 40, 28, 21) == 2
    assert rules.purchase_quantity(0, 0) == 1
    # Product 10 converts 2/40, 11 converts 1/50, 12 is not lead, 13 was seen too rarely.
    got = rules.image_candidates({10: 40, 11: 50, 12: 90, 13: 20}, {10: 2, 11: 1}, {10, 11, 13})
    assert got == [(11, 50, 1), (10, 40, 2)]


def _shop(session, root):  # type: ignore[no-untyped-def]
    """Five SKUs in the store and the warehouse: 1 a hit out of stock (56 sold in 28 days),
    2 a hit in stock, 3 and 5 slow, 4 turning."""
    wh_row = f.warehouse(session)
    skus = {}
    for n, role in ((1, "hit"), (2, "hit"), (3, "long_tail"), (4, "long_tail"), (5, "long_tail")):
        p = f.product(session, stock=0, role=role, wh=wh_row, title=f"商品{n}")
        skus[n] = p.skus[0]
    stock = {1: (0, 0, 100), 2: (50, 50, 100), 3: (400, 400, 1000), 4: (100, 100, 500),
             5: (300, 300, 2000)}  # fmt: skip
    sold = {1: 56, 2: 28, 4: 28, 5: 28}
    rows: dict[str, list] = {"dim_product": [], "fact_stock_daily": [], "fact_order_lines": []}
    for n, s in skus.items():
        rows["dim_product"].append(
            {"sku_id": s.id, "sku_code": s.code, "product_id": s.product_id,
             "title": f"商品{n}", "role": "hit" if n <= 2 else "long_tail", "status": "listed"}
        )  # fmt: skip
        oh, av, cost = stock[n]
        rows["fact_stock_daily"].append(
            {"sku_id": s.id, "on_hand": oh, "reserved": oh - av, "available": av,
             "unit_cost": cost, "listed": True, "date": DAY}
        )  # fmt: skip
        for k in range(sold.get(n, 0)):
            day = DAY - dt.timedelta(days=k % 28)
            paid = dt.datetime.combine(day, dt.time(4), dt.UTC)
            rows["fact_order_lines"].append(
                {"order_id": 1000 * n + k, "line_id": 1000 * n + k, "customer_id": k,
                 "sku_id": s.id, "product_id": s.product_id, "quantity": 1, "unit_price": 100,
                 "subtotal": 100, "discount": 0, "total": 100, "paid_at": paid, "date": day}
            )  # fmt: skip
    write_warehouse(root / "warehouse", rows)
    session.flush()
    return skus, open_warehouse(root)


def _alert(session, key: str) -> Alert:  # type: ignore[no-untyped-def]
    a = Alert(key=key, kind="rule", day=DAY, level=1, status="open", metric="m", filters={},
              message_zh="x", message_en="x", playbook_zh="x", playbook_en="x",
              opened_at=now(session))  # fmt: skip
    session.add(a)
    session.flush()
    return a


def test_slow_stock_drafts_one_promotion_and_never_a_second(session, tmp_path):
    skus, wh = _shop(session, tmp_path)
    first = run_action(session, wh, _alert(session, "a"), "draft_promotion", DAY, "Asia/Shanghai")
    assert [(x.status, x.ref_type) for x in first] == [("open", "promotion")]
    promo = session.get(PromotionDef, first[0].ref_id)
    assert promo.status == "draft" and promo.kind == "percent_off"
    assert promo.conditions["items"]["sku_ids"] == sorted([skus[5].id, skus[3].id])
    assert first[0].detail["sku_ids"] == [skus[5].id, skus[3].id]  # largest stock value first
    assert promo.params["percent_bp"] == 1500
    # A later alert while the draft waits: logged as pending on it, no second draft.
    later = _alert(session, "b")
    again = run_action(session, wh, later, "draft_promotion", DAY, "Asia/Shanghai")
    assert again[0].id == first[0].id
    assert [(x.status, x.detail) for x in later.actions] == [("skipped", {"pending": first[0].id})]
    assert session.query(PromotionDef).count() == 1
    # Once the draft is no longer a draft, a new alert may draft again.
    promo.status = "active"
    run_action(session, wh, _alert(session, "c"), "draft_promotion", DAY, "Asia/Shanghai")
    assert session.query(PromotionDef).count() == 2
    assert session.get(OpsAction, first[0].id).status == "done"


def test_purchase_suggestion_and_image_flags_are_tasks_with_counted_numbers(session, tmp_path):
    skus, wh = _shop(session, tmp_path)
    alert = _alert(session, "hit_stockout")
    (sugg,) = run_action(session, wh, alert, "purchase_suggestion", DAY, "Asia/Shanghai")
    assert sugg.target == f"sku:{skus[1].id}" and sugg.status == "open"
    assert sugg.detail["quantity"] == 42 and sugg.detail["sold"] == 56  # ceil(56×21/28) − 0
    assert skus[1].code in sugg.summary_en
    # The same SKU still out of stock tomorrow: the open suggestion is reused.
    run_action(session, wh, _alert(session, "x"), "purchase_suggestion", DAY, "Asia/Shanghai")
    assert (
        session.query(OpsAction).filter_by(kind="purchase_suggestion", status="open").count() == 1
    )
    done = close_action(session, sugg.id, "done", "console:op")
    assert (done.status, done.closed_by) == ("done", "console:op")
    with pytest.raises(Exception, match="cannot become"):
        close_action(session, sugg.id, "dismissed", "console:op")
    # No product views in this warehouse: nothing to judge, said so (skipped), nothing flagged.
    (img,) = run_action(session, wh, _alert(session, "cv"), "image_refresh", DAY, "Asia/Shanghai")
    assert img.status == "skipped" and "main image" in img.summary_en


def test_stockout_rule_names_the_sku_and_a_rerun_adds_nothing(session, tmp_path):
    skus, wh = _shop(session, tmp_path)
    from shopops.ops.alerts.defaults import DEFAULT_RULES

    spec = parse_rule(next(r for r in DEFAULT_RULES if r["code"] == "hit_stockout"))
    save_rule(session, spec)
    rep = evaluate_day(session, wh, DAY, anomalies=False)
    (alert,) = rep.opened
    assert alert.key == f"hit_stockout@sku={skus[1].code}"  # one alert per SKU out of stock
    assert alert.attribution["dimension"] == "sku"
    # Only SKU 1 of the two hits is out: it stands for all of the hits' lost sales.
    assert alert.attribution["member_id"] == skus[1].id and alert.attribution["share"] == 1
    assert skus[1].code in alert.message_en and skus[1].code in alert.message_zh
    assert [x.kind for x in alert.actions] == ["purchase_suggestion"]
    assert evaluate_day(session, wh, DAY, anomalies=False).opened == []
    assert session.scalar(select(OpsAction.id).where(OpsAction.id > alert.actions[0].id)) is None
    assert session.query(AlertRule).count() == 1


def test_an_action_is_refused_on_a_split_rule():
    with pytest.raises(InvalidRule, match="automatic action"):
        parse_rule(
            {"code": "x_split", "name_zh": "x", "name_en": "x", "metric": "uv",
             "split_by": "channel", "condition": {"kind": "threshold", "op": ">", "value": 1},
             "level": 1, "playbook": {"playbook_zh": "x", "playbook_en": "x"},
             "action": "draft_promotion"}
        )  # fmt: skip
