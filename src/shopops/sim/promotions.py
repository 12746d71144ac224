"""The seed's promotions, set up and used through the promotions service.

Standing offers from opening day: 满300减30 / 满500减60 (spend-save tiers) and the new-customer
coupon (首单立减 ¥18, the seed's acquisition cost per new customer), issued on registration.
Dated ones created as the calendar reaches them: member day (会员日 95折 on the 18th) and the
campaign peaks (满400减50 during 618 / 双11 / 年货节 爆发期). Shoppers use a coupon they hold
as often as their persona does; returning customers sometimes pay part with points.
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from shopops.members import service as members
from shopops.members.service.checkout_bulk import points_balances
from shopops.promotions import service as promotions
from shopops.promotions.schemas import PromotionCreate, TemplateCreate
from shopops.promotions.service.checkout_wallets import usable_coupons
from shopops.sim import calendar
from shopops.sim.personas import Persona

FIRST_ORDER_FEN = 1800
POINTS_USE = 0.3  # a returning customer with points redeems some this often
POINTS_MAX = 2000  # at most ¥20 of points on one order


def _start(session: Session, spec: PromotionCreate) -> int:
    row = promotions.create_promotion(session, spec=spec)
    promotions.change_status(session, promotion_id=row.id, action="activate")
    return row.id


def create_standing(session: Session, at: dt.datetime) -> int:
    """The always-on offers; returns the new-customer coupon template id."""
    _start(
        session,
        PromotionCreate(
            name="满300减30 / 满500减60",
            kind="spend_save",
            params={"tiers": [[30000, 3000], [50000, 6000]]},
            combines_with=["order", "shipping"],
            starts_at=at,
        ),
    )
    first = _start(
        session,
        PromotionCreate(
            name="新人首单立减18元 first-order coupon",
            kind="first_order",
            combines_with=["order", "shipping"],
            params={"amount": FIRST_ORDER_FEN},
            requires_coupon=True,
            limits={"per_customer": 1},
            starts_at=at,
        ),
    )
    template = promotions.create_template(
        session,
        spec=TemplateCreate(
            promotion_id=first, name="新人券 ¥18", trigger="registration", valid_days=7
        ),
    )
    return template.id


def open_day(session: Session, day: dt.date, tz: ZoneInfo, made: set[str]) -> list[str]:
    """Create the day's dated promotions (once each); returns the names created."""
    out: list[str] = []
    start = dt.datetime.combine(day, dt.time(0), tz)
    if calendar.is_member_day(day) and f"member-{day}" not in made:
        made.add(f"member-{day}")
        name = f"会员日95折 member day {day:%Y-%m-%d}"
        _start(
            session,
            PromotionCreate(
                name=name,
                kind="percent_off",
                params={"percent_bp": 500},
                combines_with=["order", "shipping"],
                starts_at=start,
                ends_at=start + dt.timedelta(days=1),
            ),
        )
        out.append(name)
    phase = calendar.phase_of(day)
    if phase is not None and phase.phase == "peak" and f"peak-{phase.start}" not in made:
        made.add(f"peak-{phase.start}")
        name = f"{phase.campaign} 爆发期 满400减50"
        end = dt.datetime.combine(phase.end + dt.timedelta(days=1), dt.time(0), tz)
        _start(
            session,
            PromotionCreate(
                name=name,
                kind="spend_save",
                params={"tiers": [[40000, 5000]]},
                combines_with=["order", "shipping"],
                starts_at=start,
                ends_at=end,
            ),
        )
        out.append(name)
    return out


def offers(
    session: Session, rng: random.Random, persona: Persona, customer_id: int, returning: bool
) -> tuple[list[str], int]:
    """(coupon codes, points) this shopper brings to checkout."""
    codes: list[str] = []
    if rng.random() < persona.coupon_use:
        for coupon, _name, usable in promotions.wallet(session, customer_id=customer_id):
            if usable:
                codes.append(coupon.code)
                break
    points = 0
    if returning and rng.random() < POINTS_USE:
        balance = members.balance(session, customer_id=customer_id)
        points = min(balance, POINTS_MAX) // 100 * 100
    return codes, points


def offers_many(
    session: Session,
    rng: random.Random,
    shoppers: list[tuple[Persona, int, bool, dt.datetime]],
) -> list[tuple[list[str], int]]:
    """`offers` for each (persona, customer id, returning, at) in turn, the clock at `at`:
    the same draws in the same order, the wallets and balances read once for all."""
    draws = [
        (cid, at, rng.random() < persona.coupon_use, returning and rng.random() < POINTS_USE)
        for persona, cid, returning, at in shoppers
    ]
    found = iter(usable_coupons(session, wanted=[(c, at) for c, at, use, _ in draws if use]))
    balances = points_balances(session, customer_ids=[c for c, _, _, pts in draws if pts])
    out: list[tuple[list[str], int]] = []
    for cid, _at, use, pts in draws:
        code = next(found) if use else None
        points = min(balances[cid], POINTS_MAX) // 100 * 100 if pts else 0
        out.append(([code] if code is not None else [], points))
    return out
