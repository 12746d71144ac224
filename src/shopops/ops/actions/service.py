"""Automatic actions (verbs; they never commit): when a rule with an `action` opens an alert,
act through the store services — a draft promotion for slow SKUs (promotions service, left in
draft for an operator to activate) — or, where the store has no such service, record a task
in ops' own table (a product flagged for a new main image, a purchase suggestion for a hit
SKU out of stock). Idempotent: an open action on the same kind and target is reused, never
made twice; a service that refuses is logged as a failed action and never breaks the
evaluation."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopops.analytics.engine import Warehouse
from shopops.db import now
from shopops.errors import IllegalTransition, NotFound, ShopOpsError
from shopops.ops.actions import reader
from shopops.ops.actions.rules import (
    CLOSABLE,
    PROMOTION_DAYS,
    SALES_WINDOW_DAYS,
    SLOW_DISCOUNT_BP,
    ActionKind,
    ActionStatus,
    image_candidates,
    purchase_quantity,
    slow_skus,
)
from shopops.ops.alerts.models import Alert, OpsAction


class ActionNotFound(NotFound):
    code = "action_not_found"


class IllegalActionTransition(IllegalTransition):
    code = "illegal_action_transition"


def _pending(session: Session, kind: str, target: str) -> OpsAction | None:
    return session.scalar(
        select(OpsAction)
        .where(
            OpsAction.kind == kind,
            OpsAction.target == target,
            OpsAction.status == ActionStatus.OPEN,
        )
        .limit(1)
    )


def _add(session: Session, alert: Alert, kind: str, target: str, **kw: Any) -> OpsAction:
    row = OpsAction(alert_id=alert.id, kind=kind, target=target, created_at=now(session), **kw)
    row.summary_zh, row.summary_en = row.summary_zh[:500], row.summary_en[:500]
    alert.actions.append(row)
    session.flush()
    return row


def _reuse(session: Session, alert: Alert, kind: str, target: str) -> OpsAction | None:
    """An open action on the same target: logged on the new alert, not made again."""
    old = _pending(session, kind, target)
    if old is None:
        return None
    if old.alert_id != alert.id:
        _add(
            session,
            alert,
            kind,
            target,
            status=ActionStatus.SKIPPED,
            ref_type=old.ref_type,
            ref_id=old.ref_id,
            summary_zh=f"已有待处理动作 #{old.id}：{old.summary_zh}",
            summary_en=f"already pending as action #{old.id}: {old.summary_en}",
            detail={"pending": old.id},
        )
    return old


def run_action(
    session: Session, wh: Warehouse, alert: Alert, kind: str, day: dt.date, timezone: str
) -> list[OpsAction]:
    """Take the rule's automatic action for `alert` (opened for `day`)."""
    start = day - dt.timedelta(days=SALES_WINDOW_DAYS - 1)
    if kind == ActionKind.DRAFT_PROMOTION:
        return _draft_promotion(session, wh, alert, day, start, timezone)
    if kind == ActionKind.IMAGE_REFRESH:
        return _image_refresh(session, wh, alert, day, start)
    if kind == ActionKind.PURCHASE_SUGGESTION:
        return _purchase(session, wh, alert, day, start)
    raise ValueError(f"unknown action {kind!r}")


def _nothing(session: Session, alert: Alert, kind: str, zh: str, en: str) -> list[OpsAction]:
    target = f"alert:{alert.id}"
    return [
        _add(
            session,
            alert,
            kind,
            target,
            status=ActionStatus.SKIPPED,
            summary_zh=zh,
            summary_en=en,
            detail={},
        )
    ]


def _draft_promotion(
    session: Session, wh: Warehouse, alert: Alert, day: dt.date, start: dt.date, timezone: str
) -> list[OpsAction]:
    from shopops.promotions import service as promotions
    from shopops.promotions.models import PromotionDef
    from shopops.promotions.schemas import PromotionCreate

    target = "slow_stock"
    old = _pending(session, ActionKind.DRAFT_PROMOTION, target)
    if old is not None and old.ref_id is not None:
        promo = session.get(PromotionDef, old.ref_id)
        if promo is not None and promo.status == "draft":
            _reuse(session, alert, ActionKind.DRAFT_PROMOTION, target)
            return [old]
        # The draft was activated, ended or cancelled: that action is over.
        old.status, old.closed_by, old.closed_at = ActionStatus.DONE, "system", now(session)
    skus = slow_skus(reader.stock_on(wh, day), reader.units_sold(wh, start, day))
    if not skus:
        return _nothing(
            session,
            alert,
            ActionKind.DRAFT_PROMOTION,
            "没有可促销的滞销SKU",
            "no slow SKU to promote",
        )
    tz = ZoneInfo(timezone)
    starts = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz)
    spec = PromotionCreate(
        name=f"滞销清仓 Slow stock {day.isoformat()}",
        description=f"ops alert #{alert.id}: {len(skus)} SKU(s) with over 180 days of cover",
        kind="percent_off",
        params={"percent_bp": SLOW_DISCOUNT_BP},
        conditions={"items": {"sku_ids": skus}},
        starts_at=starts,
        ends_at=starts + dt.timedelta(days=PROMOTION_DAYS),
    )
    pct = SLOW_DISCOUNT_BP / 100
    try:
        with session.begin_nested():
            promo = promotions.create_promotion(session, spec=spec)
    except ShopOpsError as exc:
        return [
            _add(
                session,
                alert,
                ActionKind.DRAFT_PROMOTION,
                target,
                status=ActionStatus.FAILED,
                summary_zh=f"起草促销失败：{exc.message}",
                summary_en=f"draft refused: {exc.message}",
                detail={"error": exc.code, "sku_ids": skus},
            )
        ]
    return [
        _add(
            session,
            alert,
            ActionKind.DRAFT_PROMOTION,
            target,
            status=ActionStatus.OPEN,
            ref_type="promotion",
            ref_id=promo.id,
            summary_zh=f"已起草促销 #{promo.id}（草稿，{len(skus)} 个滞销SKU 限时{pct:g}%折扣），"
            "待运营启用",
            summary_en=f"drafted promotion #{promo.id} ({len(skus)} slow SKUs, {pct:g}% off, "
            "draft): an operator activates it",
            detail={"sku_ids": skus, "percent_bp": SLOW_DISCOUNT_BP},
        )
    ]


def _image_refresh(
    session: Session, wh: Warehouse, alert: Alert, day: dt.date, start: dt.date
) -> list[OpsAction]:
    # The alert's own days (consecutive days of low conversion): the products seen then.
    first = day - dt.timedelta(days=6)
    viewers, buyers = reader.product_viewers_buyers(wh, first, day)
    info = reader.products(wh)
    by_product = {i.product_id: i for i in info.values()}
    lead = {i.product_id for i in info.values() if i.role in ("hit", "traffic_driver")}
    picked = image_candidates(viewers, buyers, lead)
    if not picked:
        return _nothing(
            session,
            alert,
            ActionKind.IMAGE_REFRESH,
            "没有足够浏览量的商品可判断主图",
            "no product seen often enough to judge its main image",
        )
    out = []
    for product, seen, bought in picked:
        target = f"product:{product}"
        old = _reuse(session, alert, ActionKind.IMAGE_REFRESH, target)
        if old is not None:
            out.append(old)
            continue
        title = by_product[product].title if product in by_product else str(product)
        cvr = bought / seen
        out.append(
            _add(
                session,
                alert,
                ActionKind.IMAGE_REFRESH,
                target,
                status=ActionStatus.OPEN,
                ref_type="product",
                ref_id=product,
                summary_zh=f"标记商品「{title}」更换主图：近7天 {seen} 人浏览、{bought} 人购买"
                f"（{cvr:.1%}）",
                summary_en=f"flagged product '{title}' for a new main image: {seen} viewers, "
                f"{bought} buyers in 7 days ({cvr:.1%})",
                detail={
                    "product_id": product,
                    "viewers": seen,
                    "buyers": bought,
                    "from": first.isoformat(),
                    "to": day.isoformat(),
                },
            )
        )
    return out


def _purchase(
    session: Session, wh: Warehouse, alert: Alert, day: dt.date, start: dt.date
) -> list[OpsAction]:
    attr = alert.attribution or {}
    # A per-SKU stock-out alert names its SKU; otherwise every SKU out of stock.
    skus = [int(attr["member_id"])] if "member_id" in attr else []
    if not skus:
        skus = reader.out_of_stock(wh, day, {"hit"})
    if not skus:
        return _nothing(
            session,
            alert,
            ActionKind.PURCHASE_SUGGESTION,
            "没有断货的爆款SKU",
            "no hit SKU out of stock",
        )
    sold = reader.units_sold(wh, start, day)
    stock = reader.stock_on(wh, day)
    info = reader.products(wh)
    out = []
    for sku in skus:
        target = f"sku:{sku}"
        old = _reuse(session, alert, ActionKind.PURCHASE_SUGGESTION, target)
        if old is not None:
            out.append(old)
            continue
        avail = stock[sku].available if sku in stock else 0
        qty = purchase_quantity(sold.get(sku, 0), avail)
        code = info[sku].sku_code if sku in info else str(sku)
        out.append(
            _add(
                session,
                alert,
                ActionKind.PURCHASE_SUGGESTION,
                target,
                status=ActionStatus.OPEN,
                ref_type="sku",
                ref_id=sku,
                summary_zh=f"建议补货 SKU {code}：{qty} 件（近{SALES_WINDOW_DAYS}天售出 "
                f"{sold.get(sku, 0)} 件，可用 {avail}）",
                summary_en=f"purchase suggestion for SKU {code}: {qty} units "
                f"({sold.get(sku, 0)} sold in {SALES_WINDOW_DAYS} days, {avail} available)",
                detail={
                    "sku_id": sku,
                    "sku_code": code,
                    "quantity": qty,
                    "sold": sold.get(sku, 0),
                    "available": avail,
                },
            )
        )
    return out


def list_actions(
    session: Session, *, status: str | None = None, limit: int = 200
) -> list[OpsAction]:
    q = select(OpsAction).order_by(OpsAction.id.desc())
    if status:
        q = q.where(OpsAction.status == status)
    return list(session.scalars(q.limit(limit)))


def close_action(session: Session, action_id: int, to: str, actor: str) -> OpsAction:
    """An operator marks an open action done (image redone, stock ordered) or dismisses it."""
    row = session.get(OpsAction, action_id)
    if row is None:
        raise ActionNotFound(f"no action {action_id}", details={"id": action_id})
    if row.status != ActionStatus.OPEN or to not in CLOSABLE:
        raise IllegalActionTransition(
            f"action {action_id} is {row.status}: cannot become {to}",
            details={"id": action_id, "status": row.status, "to": to},
        )
    row.status, row.closed_by, row.closed_at = to, actor, now(session)
    session.flush()
    return row


def action_to_dict(a: OpsAction) -> dict[str, Any]:
    return {
        "id": a.id,
        "alert_id": a.alert_id,
        "kind": a.kind,
        "target": a.target,
        "status": a.status,
        "ref_type": a.ref_type,
        "ref_id": a.ref_id,
        "summary_zh": a.summary_zh,
        "summary_en": a.summary_en,
        "detail": a.detail,
        "created_at": a.created_at.isoformat() if a.created_at else None,
        "closed_by": a.closed_by,
        "closed_at": a.closed_at.isoformat() if a.closed_at else None,
    }
