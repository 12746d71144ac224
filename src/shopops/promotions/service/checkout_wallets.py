"""The coupon a shopper would pick from the wallet at checkout, for many shoppers at once.

`usable_coupons` answers, for each (customer, moment), what the first usable entry of
`wallet(session, customer_id=…)` would be with the clock at that moment: the newest issued
coupon inside its validity window whose promotion is running. One statement for all of them,
compiled once (the customers travel as an expanding parameter).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from shopops.promotions.models import (
    Coupon,
    CouponStatus,
    CouponTemplate,
    PromotionDef,
    PromotionStatus,
)

_C, _T, _P = Coupon.__table__.c, CouponTemplate.__table__.c, PromotionDef.__table__.c
# wallet()'s joins and filter (issued only), newest first per customer.
_ISSUED = (
    select(_C.customer_id, _C.code, _C.valid_from, _C.valid_until, _P.status)
    .select_from(
        Coupon.__table__.join(CouponTemplate.__table__, _T.id == _C.template_id).join(
            PromotionDef.__table__, _P.id == _C.promotion_id
        )
    )
    .where(
        _C.customer_id.in_(bindparam("customer_ids", expanding=True)),
        _C.status == CouponStatus.ISSUED,
    )
    .order_by(_C.customer_id, _C.id.desc())
)

_Row = tuple[str, dt.datetime, dt.datetime | None, str]


def usable_coupons(
    session: Session, *, wanted: Sequence[tuple[int, dt.datetime]]
) -> list[str | None]:
    """Per (customer id, at): the code of the newest coupon `wallet` calls usable at `at`
    (None: none is)."""
    if not wanted:
        return []
    if session.autoflush:  # a Core read: see pending rows as wallet's ORM query would
        session.flush()
    held: dict[int, list[_Row]] = {}
    ids = sorted({c for c, _ in wanted})
    for cid, code, start, until, status in session.connection().execute(
        _ISSUED, {"customer_ids": ids}
    ):
        held.setdefault(cid, []).append((code, start, until, status))
    out: list[str | None] = []
    for cid, at in wanted:
        out.append(
            next(
                (
                    code
                    for code, start, until, status in held.get(cid, ())
                    if start <= at
                    and (until is None or at < until)
                    and status == PromotionStatus.ACTIVE
                ),
                None,
            )
        )
    return out
