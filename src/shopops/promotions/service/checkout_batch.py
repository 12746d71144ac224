"""The batch twins of the promotions' checkout hooks (bulk checkout, `orders.place_orders`).

`begin` reads the state of every customer and code of the batch in one statement; the
discount twin prices each order on it (`price_with_state`, the single hook's rules); the
order twin checks and claims in memory what `claim_promotions` claims with conditional
UPDATEs, so the next order of the batch sees it; `end` writes all claims in a few statements.
Those writes are still conditional: if a concurrent checkout took a use, a coupon or budget
the batch counted on, `end` raises and the caller redoes the batch through the single hooks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Integer, bindparam, case, insert, literal, update
from sqlalchemy.orm import Session

from shopops.db import DriverStatement, now
from shopops.db import _run as run_on_cursor  # the DBAPI cursor, listeners still told
from shopops.orders.pricing import AppliedDiscount, CartSnapshot, Offers, PricedCart, defer_event
from shopops.promotions import events
from shopops.promotions.errors import CouponExhausted, PromotionLimitReached
from shopops.promotions.models import Campaign, Coupon, CouponStatus, CustomerUsage, Redemption
from shopops.promotions.rules import normalize_code
from shopops.promotions.service.checkout import (
    _CACHE,
    GRANTS_KEY,
    SOURCE_COUPON,
    SOURCE_PROMOTION,
    SUSPENDED,
    price_promotions,
    price_with_state,
)
from shopops.promotions.service.checkout_state import BatchState, read_batch_state
from shopops.promotions.service.claims import (
    _claim_counters,
    claim_promotions,
    claim_usage_one,
    redemption_rows,
)

BATCH_KEY = "promotions.batch"


@dataclass(slots=True)
class _Batch:
    state: BatchState
    uses: dict[int, int] = field(default_factory=dict)  # counted promotion → uses claimed
    spent: dict[int, int] = field(default_factory=dict)
    coupons: list[dict[str, Any]] = field(default_factory=list)
    customer_uses: dict[int, dict[int, int]] = field(default_factory=dict)
    limits: dict[int, int] = field(default_factory=dict)
    campaigns: dict[int, list[int]] = field(default_factory=dict)  # id → [charged, orders]
    redemptions: list[dict[str, Any]] = field(default_factory=list)


def begin(session: Session, requests: Sequence[tuple[int, Offers]]) -> None:
    if SUSPENDED.get():
        return
    codes = {normalize_code(c) for _, offers in requests for c in offers.coupon_codes}
    state = read_batch_state(session, customer_ids=[c for c, _ in requests], codes=sorted(codes))
    session.info[BATCH_KEY] = _Batch(state)


def price_in_batch(
    session: Session,
    snapshot: CartSnapshot,
    customer: Any,
    offers: Offers,
    earlier: Sequence[AppliedDiscount] = (),
) -> list[AppliedDiscount]:
    """`price_promotions` on the batch's state."""
    batch: _Batch | None = session.info.get(BATCH_KEY)
    if batch is None or SUSPENDED.get():
        return price_promotions(session, snapshot, customer, offers, earlier)
    session.info.pop(GRANTS_KEY, None)
    codes = sorted({normalize_code(c) for c in offers.coupon_codes})
    view = batch.state.view(snapshot.customer_id, codes)
    return price_with_state(session, snapshot, customer, codes, view)


def _limits(promotion_id: int, revision: str) -> Any:
    return _CACHE[(promotion_id, revision)].promo.limits


def claim_in_batch(session: Session, order: Any, priced: PricedCart, offers: Offers) -> None:
    """`claim_promotions` against the batch's state: the same checks, the same redemptions
    and events; the counters move in memory until `end`."""
    batch: _Batch | None = session.info.get(BATCH_KEY)
    if batch is None:
        claim_promotions(session, order, priced, offers)
        return
    stash = session.info.pop(GRANTS_KEY, None)
    if SUSPENDED.get() or not stash or stash[0] != order.customer_id:
        return
    refs = {d.reference for d in priced.discounts if d.source in (SOURCE_PROMOTION, SOURCE_COUPON)}
    grants = [g for g in stash[1] if g.reference in refs]
    if not grants:
        return
    granted = {d.reference: d.amount for d in priced.discounts}
    at = now(session)
    state = batch.state
    uses: dict[int, int] = {}
    spent: dict[int, int] = {}
    for g in grants:
        if g.counted:
            uses[g.promotion_id] = uses.get(g.promotion_id, 0) + 1
            spent[g.promotion_id] = spent.get(g.promotion_id, 0) + g.charged
    for pid, n in uses.items():  # _claim_counters' conditions
        rev, used, spent_now, camp = state.promos[pid]
        lim = _limits(pid, rev)
        if (
            (lim.total_uses is not None and used + n > lim.total_uses)
            or (lim.budget_count is not None and used + n > lim.budget_count)
            or (lim.budget_amount is not None and spent_now + spent[pid] > lim.budget_amount)
        ):
            raise PromotionLimitReached(
                "a promotion's uses or budget ran out while this order was placed; try again",
                details={"promotion_ids": sorted(uses)},
            )
    coupon_ids = [g.coupon_id for g in grants if g.coupon_id is not None]
    by_id = {row[0]: code for code, row in state.coupons.items()}
    for coupon_id in coupon_ids:
        row = state.coupons[by_id[coupon_id]]
        if row[3] != CouponStatus.ISSUED or row[2] != order.customer_id:
            raise CouponExhausted(
                "a coupon was used by another order at the same time",
                details={"coupon_ids": coupon_ids, "reason": "already_redeemed"},
            )
    limited = {g.promotion_id: g.per_customer for g in grants if g.per_customer is not None}
    mine = state.uses.get(order.customer_id, {})
    per_order = {p: sum(1 for g in grants if g.promotion_id == p) for p in limited}
    over = sorted(p for p, n in per_order.items() if mine.get(p, 0) + n > limited[p])
    if over:
        raise PromotionLimitReached(
            "you have used this promotion as often as it allows",
            details={"promotion_ids": over, "reason": "customer_limit"},
        )
    camp: dict[int, int] = {}
    for g in grants:
        if g.campaign_id is not None:
            camp[g.campaign_id] = camp.get(g.campaign_id, 0) + g.charged
    for cid, charged in camp.items():
        budget = state.campaigns.get(cid)
        if budget is not None and budget.amount_left < charged:
            raise PromotionLimitReached(
                "the campaign's budget ran out while this order was placed; try again",
                details={"campaign_ids": sorted(camp), "reason": "campaign_budget"},
            )
    # Everything holds: claim in memory, as the single hook's UPDATEs would.
    for pid, n in uses.items():
        rev, used, spent_now, c = state.promos[pid]
        state.promos[pid] = (rev, used + n, spent_now + spent[pid], c)
        batch.uses[pid] = batch.uses.get(pid, 0) + n
        batch.spent[pid] = batch.spent.get(pid, 0) + spent[pid]
    for coupon_id in coupon_ids:
        code = by_id[coupon_id]
        row = state.coupons[code]
        state.coupons[code] = (row[0], row[1], row[2], CouponStatus.REDEEMED, row[4], row[5])
        batch.coupons.append(
            {"cid": coupon_id, "owner": order.customer_id, "oid": order.id, "at": at}
        )
    for p, n in per_order.items():
        mine[p] = mine.get(p, 0) + n
        claimed = batch.customer_uses.setdefault(order.customer_id, {})
        claimed[p] = claimed.get(p, 0) + n
        batch.limits[p] = limited[p]
    state.uses[order.customer_id] = mine
    for cid, charged in camp.items():
        budget = state.campaigns.get(cid)
        if budget is not None:
            state.campaigns[cid] = dataclasses.replace(
                budget, amount_left=budget.amount_left - charged
            )
        totals = batch.campaigns.setdefault(cid, [0, 0])
        totals[0] += charged
        totals[1] += 1
    rows = redemption_rows(order, grants, granted, at)
    batch.redemptions.extend(rows)
    _defer_redemption_events(session, order, grants, rows, at)


def _defer_redemption_events(
    session: Session, order: Any, grants: Sequence[Any], rows: list[dict[str, Any]],
    at: dt.datetime,
) -> None:  # fmt: skip
    """`emit_redemption_events` deferred to the bulk checkout's write (no handler listens to
    these names): the same events, names, payloads and times, one `emit_many` per name."""
    applications = [(g.kind, row) for g, row in zip(grants, rows, strict=True)]
    payload = events.applied(order, applications)
    defer_event(session, events.PROMOTION_APPLIED, (events.ORDER_AGGREGATE, order.id, payload, at))
    used = [row for row in rows if row["coupon_id"] is not None]
    if used:
        moved = events.coupons_moved(order.id, order.customer_id, used)
        defer_event(session, events.COUPON_REDEEMED, (events.ORDER_AGGREGATE, order.id, moved, at))


_REDEEM = (
    update(Coupon.__table__)
    .where(
        Coupon.__table__.c.id == bindparam("cid"),
        Coupon.__table__.c.status == CouponStatus.ISSUED,
        Coupon.__table__.c.customer_id == bindparam("owner"),
    )
    .values(status=CouponStatus.REDEEMED, order_id=bindparam("oid"), redeemed_at=bindparam("at"))
)


def end(session: Session, write: bool) -> None:
    """Write the batch's claims (conditional, checked: 409 when a concurrent checkout took
    what the batch counted on), or drop them."""
    batch: _Batch | None = session.info.pop(BATCH_KEY, None)
    if batch is None or not write:
        return
    if batch.uses:
        _claim_counters(session, batch.uses, batch.spent)
    if batch.coupons:
        done = 0
        if session.get_bind().dialect.supports_sane_multi_rowcount:
            done = session.execute(_REDEEM, batch.coupons).rowcount  # type: ignore[attr-defined]
        else:
            for row in batch.coupons:
                done += session.execute(_REDEEM, row).rowcount  # type: ignore[attr-defined]
        if done != len(batch.coupons):
            raise CouponExhausted(
                "a coupon was used by another order at the same time",
                details={"reason": "already_redeemed"},
            )
    if batch.customer_uses:
        _claim_usage(session, batch.customer_uses, batch.limits)
    if batch.campaigns:
        c = Campaign
        charged = {k: v[0] for k, v in batch.campaigns.items()}
        orders = {k: v[1] for k, v in batch.campaigns.items()}
        res = session.execute(
            update(c)
            .where(
                c.id.in_(list(charged)),
                (c.budget_amount.is_(None))
                | (c.spent_amount + _case(c.id, charged) <= c.budget_amount),
            )
            .values(
                spent_amount=c.spent_amount + _case(c.id, charged),
                uses_count=c.uses_count + _case(c.id, orders),
            ),
            execution_options={"synchronize_session": False},
        )
        if res.rowcount != len(charged):  # type: ignore[attr-defined]
            raise PromotionLimitReached(
                "the campaign's budget ran out while this order was placed; try again",
                details={"campaign_ids": sorted(charged), "reason": "campaign_budget"},
            )
    if batch.redemptions:
        _INSERT_REDEMPTIONS.executemany(session.connection(), batch.redemptions)


_REDEMPTION_COLUMNS = [
    "promotion_id",
    "coupon_id",
    "campaign_id",
    "campaign_phase",
    "order_id",
    "customer_id",
    "code",
    "amount",
    "shipping_amount",
    "cashback",
    "gifts",
    "charged",
    "line_amounts",
    "status",
    "created_at",
]
# The batch's redemptions by one driver `executemany` (the rows `redemption_rows` builds).
_INSERT_REDEMPTIONS = DriverStatement(
    insert(Redemption.__table__), keys=_REDEMPTION_COLUMNS, rows=False
)


def _case(column: Any, values: dict[int, int]) -> Any:
    return case(
        {k: literal(v, Integer()) for k, v in values.items()}, value=column, else_=literal(0)
    )


def _claim_usage(
    session: Session, claimed: dict[int, dict[int, int]], limits: dict[int, int]
) -> None:
    """`_claim_customer_usage` for every customer of the batch in one upsert (each pair's
    limit by its promotion), its rows back counted: a pair that no longer fits is a 409."""
    pairs = [(p, c, n) for c, uses in sorted(claimed.items()) for p, n in sorted(uses.items())]
    if len(pairs) == 1:  # one compiled statement, not SQL text for one row
        ok = claim_usage_one(session, pairs[0][0], pairs[0][1], pairs[0][2], limits[pairs[0][0]])
    else:
        conn = session.connection()
        lims = sorted({p: limits[p] for p, _c, _n in pairs}.items())
        sql = _usage_sql(conn.dialect, len(pairs), len(lims))
        args = [v for row in pairs for v in row] + [v for pl in lims for v in pl]
        ok = len(run_on_cursor(conn, sql, args, many=False, rows=True)) == len(pairs)
    if not ok:
        raise PromotionLimitReached(
            "you have used this promotion as often as it allows",
            details={"reason": "customer_limit"},
        )


_USAGE_SQL: dict[tuple[str, int, int], str] = {}


def _usage_sql(dialect: Any, rows: int, limits: int) -> str:
    """`claim_usage_one`'s upsert for `rows` (promotion, customer, used) at once, the limit
    chosen by promotion (`limits` WHEN pairs); built once per dialect and size."""
    key = (dialect.name, rows, limits)
    sql = _USAGE_SQL.get(key)
    if sql is None:
        q = dialect.identifier_preparer.quote
        t = q(CustomerUsage.__table__.name)
        m = "?" if dialect.paramstyle == "qmark" else "%s"
        values = ", ".join([f"({m}, {m}, {m})"] * rows)
        whens = " ".join([f"WHEN {m} THEN {m}"] * limits)
        sql = _USAGE_SQL[key] = (
            f"INSERT INTO {t} (promotion_id, customer_id, used) VALUES {values} "
            "ON CONFLICT (promotion_id, customer_id) DO UPDATE SET used = "
            f"{t}.used + excluded.used WHERE {t}.used + excluded.used <= "
            f"CASE excluded.promotion_id {whens} END RETURNING promotion_id"
        )
    return sql
