"""Registering new customers one by one vs in bulk: CPU per sign-up and the ratio.

    uv run python benchmarks/bench_bulk_signup.py [--signups N] [--batches 1,20,100]
                                                  [--database-url postgresql://…/scratch]

The simulator registers each new buyer with `register_customer`, `set_customer_tags` and
`add_address` (in a savepoint, the clock at the checkout), and `customer.registered` issues
the seed's registration coupon. This runs N such sign-ups (a fifth with a referral code, one
in fifty a phone already taken) through those single calls in one store and through
`members.register_customers` in another, in the same process, in units of work of the same
size either way (so commits weigh the same); checks that the stores end equal (customers,
addresses, coupons, template stock, outbox events; ids by natural key) and prints this
process's CPU ms per sign-up (`time.process_time`) and the bulk ÷ single ratio. Target: ≤ 0.2
at a batch of 20, ≤ 1.0 at a batch of 1. SQLite temporary files by default;
`--database-url` names a scratch PostgreSQL database next to which `_singleN` and `_bulkN`
databases are (re)created.
Exits non-zero only when the stores differ.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, make_url, select, text

import shopops.models  # noqa: F401  (every table, and every subscriber the app registers)
from shopops.db import Base, make_engine, session_scope, set_clock
from shopops.errors import ShopOpsError
from shopops.events import OutboxEvent
from shopops.members import rules
from shopops.members import service as members
from shopops.members.models import Address, Customer
from shopops.promotions import service as promotions
from shopops.promotions.models import Coupon, CouponTemplate
from shopops.sim import promotions as sim_promotions

T0 = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)
WARM_UP = 40
SEEDED = 50


def _engine(base: str | None, tmp: Path, name: str) -> Engine:
    if base is None:
        engine = make_engine(f"sqlite:///{tmp / (name + '.db')}")
    else:
        url = make_url(base)
        db = f"{url.database}_{name}"
        admin = create_engine(
            url.set(drivername="postgresql+psycopg", database="postgres"),
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}"'))
            conn.execute(text(f'CREATE DATABASE "{db}"'))
        admin.dispose()
        engine = make_engine(url.set(database=db).render_as_string(hide_password=False))
    Base.metadata.create_all(engine)
    promotions.clear_cache()
    with session_scope(engine) as s:
        set_clock(s, T0 - dt.timedelta(days=1))
        sim_promotions.create_standing(s, T0 - dt.timedelta(days=1))
        for i in range(SEEDED):
            members.register_customer(s, name=f"老客{i}", phone=f"137{i:08d}")
    return engine


def _signups(n: int, seed: int = 618) -> list[members.Signup]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        phone = f"139{i:08d}" if rng.random() > 0.02 else f"137{rng.randrange(SEEDED):08d}"
        code = rules.referral_code(rng.randrange(1, SEEDED + 1)) if rng.random() < 0.2 else None
        out.append(
            members.Signup(
                name=f"新客{i}", phone=phone, gender=rng.choice(["male", "female"]),
                birthday=dt.date(1970 + rng.randrange(35), 1 + rng.randrange(12), 1),
                region="浙江省", city="杭州市", acquisition_channel="search",
                registered_at=T0 + dt.timedelta(seconds=37 * i), referral_code=code,
                tags=[f"persona:{rng.choice('abcde')}"],
                address=members.NewAddress(
                    recipient=f"新客{i}", phone=phone, province="浙江省", city="杭州市",
                    detail=f"{rng.randint(1, 300)}号 {rng.randint(1, 30)}栋",
                ),
            )
        )  # fmt: skip
    return out


def _single(session: Any, batch: Sequence[members.Signup]) -> None:
    for u in batch:
        set_clock(session, u.registered_at)
        try:
            with session.begin_nested():
                c = members.register_customer(
                    session, name=u.name, phone=u.phone, gender=u.gender, birthday=u.birthday,
                    region=u.region, city=u.city, acquisition_channel=u.acquisition_channel,
                    registered_at=u.registered_at, referral_code=u.referral_code,
                )  # fmt: skip
                members.set_customer_tags(session, customer_id=c.id, tags=u.tags)
                a = u.address
                assert a is not None
                members.add_address(
                    session, customer_id=c.id, recipient=a.recipient, phone=a.phone,
                    province=a.province, city=a.city, detail=a.detail,
                )  # fmt: skip
        except ShopOpsError:
            pass


def _bulk(session: Any, batch: Sequence[members.Signup]) -> None:
    members.register_customers(session, signups=batch)


def _run(
    engine: Engine,
    signups: Sequence[members.Signup],
    size: int,
    call: Callable[[Any, Sequence[members.Signup]], None],
) -> float:
    """CPU ms per sign-up of the batches after the warm-up, one unit of work per batch."""
    cpu, timed = 0.0, 0
    for start in range(0, len(signups), size):
        batch = signups[start : start + size]
        t = time.process_time()
        with session_scope(engine) as s:
            call(s, batch)
        if start >= WARM_UP:
            cpu += time.process_time() - t
            timed += len(batch)
    return 1000 * cpu / max(timed, 1)


def _state(engine: Engine) -> dict[str, Any]:
    with session_scope(engine, readonly=True) as s:
        people = {c.id: c for c in s.scalars(select(Customer))}
        who = {cid: c.phone for cid, c in people.items()}

        def row(obj: Any, *drop: str) -> tuple[Any, ...]:
            cols = [c.key for c in obj.__table__.columns if c.key not in {"id", *drop}]
            return tuple((k, getattr(obj, k)) for k in cols)

        coupons = {c.id: c for c in s.scalars(select(Coupon))}
        ckey = {i: (who[c.customer_id], c.template_id) for i, c in coupons.items()}
        outbox = []
        for e in s.scalars(select(OutboxEvent)):
            p = dict(e.payload)
            for k in ("customer_id", "referred_by"):
                if k in p:
                    p[k] = who.get(p[k])
            if "coupon_id" in p:
                p["coupon_id"], p["code"] = ckey[p["coupon_id"]], None
            agg = who[int(e.aggregate_id)] if e.aggregate_type == "customer" else None
            agg = ckey[int(e.aggregate_id)] if e.aggregate_type == "coupon" else agg
            outbox.append(repr((e.name, agg, e.occurred_at, sorted(p.items()))))
        return {
            "customers": sorted(
                repr((row(c, "referred_by"), who.get(c.referred_by))) for c in people.values()
            ),
            "addresses": sorted(
                repr((row(a, "customer_id"), who[a.customer_id]))
                for a in s.scalars(select(Address))
            ),
            "coupons": sorted(
                repr((row(c, "code", "customer_id"), who[c.customer_id])) for c in coupons.values()
            ),
            "templates": sorted(repr(row(t)) for t in s.scalars(select(CouponTemplate))),
            "outbox": sorted(outbox),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--signups", type=int, default=600)
    parser.add_argument("--batches", default="1,20,100")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    sizes = [int(x) for x in args.batches.split(",")]
    signups = _signups(args.signups)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"{backend}: {len(signups)} sign-ups (the first {WARM_UP}+ untimed), CPU ms per sign-up")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            # The single calls in units of work of the same size: only the service cost differs.
            single = _engine(args.database_url, Path(tmp), f"single{size}")
            base = _run(single, signups, size, _single)
            expected = _state(single)
            single.dispose()
            bulk = _engine(args.database_url, Path(tmp), f"bulk{size}")
            cpu = _run(bulk, signups, size, _bulk)
            same = _state(bulk) == expected
            bulk.dispose()
            ok &= same
            print(
                f"batch {size:>4}: single {base:7.3f}  bulk {cpu:7.3f}  ratio {cpu / base:5.3f}"
                f"  stores equal: {same}"
            )
        made = len(expected["customers"]) - SEEDED
        print(f"each store: {made} registered, {len(expected['coupons'])} coupons")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
