"""Pure after-sales rules: the return state machine, return windows, returnable quantities.

requested → approved / rejected; approved → in_transit (the customer ships it back) →
received → refunded (a return) or exchanged (an exchange). Anything else is refused.

Windows follow the 7-day no-reason rule (网络购买商品七日无理由退货暂行办法): the days are
counted from the day after delivery, in the shop's time zone, and the last day counts whole —
delivered on the 1st, a 7-day window is open until the end of the 8th.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum
from zoneinfo import ZoneInfo

from shopops.aftersales.errors import (
    IllegalReturnTransition,
    ReturnQuantityExceeded,
    ReturnWindowClosed,
    UnknownOrderLine,
)


class ReturnKind(StrEnum):
    RETURN = "return"
    EXCHANGE = "exchange"


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    REFUNDED = "refunded"
    EXCHANGED = "exchanged"


class ReturnAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    SHIP = "ship"
    RECEIVE = "receive"
    REFUND = "refund"
    EXCHANGE = "exchange"


S, A, K = ReturnStatus, ReturnAction, ReturnKind

TRANSITIONS: dict[ReturnStatus, dict[ReturnAction, ReturnStatus]] = {
    S.REQUESTED: {A.APPROVE: S.APPROVED, A.REJECT: S.REJECTED},
    S.APPROVED: {A.SHIP: S.IN_TRANSIT},
    S.IN_TRANSIT: {A.RECEIVE: S.RECEIVED},
    S.RECEIVED: {A.REFUND: S.REFUNDED, A.EXCHANGE: S.EXCHANGED},
    S.REJECTED: {},
    S.REFUNDED: {},
    S.EXCHANGED: {},
}
# A return ends in a refund, an exchange in a replacement; never the other way round.
KIND_ONLY = {A.REFUND: K.RETURN, A.EXCHANGE: K.EXCHANGE}
# Returns whose units count as on their way back (a rejected request frees its units again).
OPEN_OR_DONE = frozenset(S) - {S.REJECTED}


def next_status(
    status: ReturnStatus | str, action: ReturnAction | str, *, kind: ReturnKind | str
) -> ReturnStatus:
    """The status after `action`, or `IllegalReturnTransition` (409)."""
    current, act, knd = ReturnStatus(status), ReturnAction(action), ReturnKind(kind)
    target = TRANSITIONS[current].get(act)
    if target is None or KIND_ONLY.get(act, knd) is not knd:
        raise IllegalReturnTransition(
            f"cannot {act.value} a {knd.value} request that is {current.value}",
            details={"status": current.value, "action": act.value, "kind": knd.value},
        )
    return target


def return_deadline(
    delivered_at: dt.datetime, *, window_days: int, timezone: str = "Asia/Shanghai"
) -> dt.datetime:
    """The first moment (UTC) a return is too late: midnight after the window's last day."""
    local = delivered_at.astimezone(ZoneInfo(timezone))
    last_day = local.date() + dt.timedelta(days=window_days)
    closes = dt.datetime.combine(
        last_day + dt.timedelta(days=1), dt.time(0), tzinfo=ZoneInfo(timezone)
    )
    return closes.astimezone(dt.UTC)


def check_return_window(
    delivered_at: dt.datetime,
    at: dt.datetime,
    *,
    no_reason: bool,
    return_window_days: int,
    quality_window_days: int,
    timezone: str = "Asia/Shanghai",
) -> dt.datetime:
    """The deadline that applies; `ReturnWindowClosed` (409) when `at` is past it.

    A no-reason return has the short window; a return for a quality problem the long one.
    """
    days = return_window_days if no_reason else quality_window_days
    deadline = return_deadline(delivered_at, window_days=days, timezone=timezone)
    if at >= deadline:
        kind = "no-reason" if no_reason else "quality"
        raise ReturnWindowClosed(
            f"the {days}-day {kind} return window closed at {deadline.isoformat()}",
            details={
                "deadline": deadline.isoformat(),
                "delivered_at": delivered_at.isoformat(),
                "window_days": days,
                "no_reason": no_reason,
            },
        )
    return deadline


def check_return_quantities(
    requested: Mapping[int, int], *, bought: Mapping[int, int], taken: Mapping[int, int]
) -> None:
    """Each requested line is on the order and asks at most bought − already taken back.

    `taken`: units of a line already in other (non-rejected) returns or refunded without one.
    """
    unknown = sorted(set(requested) - set(bought))
    if unknown:
        raise UnknownOrderLine(
            f"order line(s) {unknown} are not on this order", details={"order_line_ids": unknown}
        )
    for line_id, quantity in sorted(requested.items()):
        returnable = bought[line_id] - taken.get(line_id, 0)
        if quantity > returnable:
            raise ReturnQuantityExceeded(
                f"line {line_id} has {max(returnable, 0)} unit(s) left to return, not {quantity}",
                details={
                    "order_line_id": line_id,
                    "requested": quantity,
                    "returnable": max(returnable, 0),
                },
            )
