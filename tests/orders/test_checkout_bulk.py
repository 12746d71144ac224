"""Bulk checkout (`place_orders`): the same rows and events as `place_order` on each request in
turn, refused requests writing nothing, and no oversell."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, select, text
from tests.conftest import PG_URL, sibling_database
from tests.orders.bulk_store import BulkShop, build_bulk_shop, dump, last_seq
from tests.orders.shop import broken_invariants, build_shop, new_customer, order_count, stock

from shopops.db import Base, make_engine, session_scope, set_clock
from shopops.errors import Conflict, ShopOpsError
from shopops.events import OutboxEvent
from shopops.inventory.errors import OutOfStock
from shopops.orders import pricing
from shopops.orders import service as orders
from shopops.orders.pricing import register_order_hook, unregister_order_hook
from shopops.orders.service.checkout_bulk import CheckoutRequest, PlacedOrder, place_orders
from shopops.promotions.errors import CouponExhausted
from shopops.promotions.models import Coupon, CustomerUsage, PromotionDef
from shopops.promotions.service import checkout_batch


@pytest.fixture
def twin(engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    """A second empty store on the same backend as `engine`."""
    if engine.dialect.name == "sqlite":
        other = make_engine(f"sqlite:///{tmp_path / 'twin.db'}")
    else:
        assert PG_URL is not None
        other = make_engine(sibling_database(PG_URL, "bulk_twin"))
        with other.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    Base.metadata.create_all(other)
    yield other
    other.dispose()


class _Refusal(Conflict):
    code = "test_refusal"


def _late_refusal(session, order, priced, offers):  # type: ignore[no-untyped-def]
    # Refuses after the promotions' claim wrote: the batch must undo that claim.
    if offers.points == 300:
        raise _Refusal("refused by a test hook", details={})


@pytest.fixture
def refusing_hook() -> Iterator[None]:
    register_order_hook(_late_refusal)
    yield
    unregister_order_hook(_late_refusal)


def _script(shop: BulkShop) -> list[CheckoutRequest]:
    c, k, sku = shop.customers, shop.coupons, shop.skus
    items: list[tuple[int, list[tuple[int, int]], list[str], int]] = [
        (c["c1"], [(sku["A"], 2)], [], 0),  # A whole from W1 (3 → 1 free)
        (c["c2"], [(sku["A"], 2), (sku["B"], 1)], [], 0),  # A split W1 + W2
        (c["c3"], [(sku["C"], 1)], [k["c3a"]], 0),  # coupon + automatic promotion
        (c["c1"], [(sku["C"], 1)], [], 0),  # out of stock: #3 took the last C
        (c["c2"], [(sku["B"], 1)], [k["c3b"]], 0),  # coupon_not_yours
        (c["c1"], [(sku["B"], 1)], ["NOSUCHCODE"], 0),  # coupon_unknown
        (c["c3"], [(sku["B"], 1)], [k["c3a"]], 0),  # already redeemed by #3
        (999_999, [(sku["B"], 1)], [], 0),  # customer_not_found
        (c["bare"], [(sku["B"], 1)], [], 0),  # no_default_address
        (c["c1"], [(sku["X"], 1)], [], 0),  # sku_not_sellable
        (c["c1"], [(sku["B"], 0)], [], 0),  # quantity_out_of_range
        (c["c1"], [], [], 0),  # cart_empty
        (c["c1"], [(sku["B"], 2), (sku["B"], 2)], [], 400),  # merged; points 1000 → 600
        (c["c1"], [(sku["B"], 1), (sku["A"], 1)], [], 700),  # points_insufficient now
        (c["c1"], [(sku["A"], 1)], [k["c1a"]], 300),  # refused by the test hook, late
        (c["c2"], [(sku["A"], 1)], [k["c2a"]], 0),  # the last A, with a coupon
        (c["c3"], [(sku["B"], 1)], [], 0),  # B: the last unit
    ]
    return [
        CheckoutRequest(cust, lines, codes, points, shop.base + dt.timedelta(minutes=3 * i))
        for i, (cust, lines, codes, points) in enumerate(items)
    ]


def _single(engine: Engine, reqs: list[CheckoutRequest]) -> list[PlacedOrder | str]:
    """`place_order` on each request in one unit of work, each in a savepoint (as the
    simulator calls it)."""
    out: list[PlacedOrder | str] = []
    with session_scope(engine) as s:
        for r in reqs:
            assert r.at is not None
            set_clock(s, r.at)
            try:
                with s.begin_nested():
                    o = orders.place_order(
                        s,
                        customer_id=r.customer_id,
                        lines=list(r.lines),
                        coupon_codes=r.coupon_codes,
                        points=r.points,
                    )
                out.append(
                    PlacedOrder(
                        o.id,
                        o.number,
                        o.customer_id,
                        o.items_subtotal,
                        o.discount_total,
                        o.shipping_fee,
                        o.total,
                        o.placed_at,
                        o.expires_at,
                    )
                )
            except ShopOpsError as exc:
                out.append(exc.code)
    return out


def _bulk(engine: Engine, reqs: list[CheckoutRequest], size: int) -> list[PlacedOrder | str]:
    out: list[PlacedOrder | str] = []
    with session_scope(engine) as s:
        for start in range(0, len(reqs), size):
            for r in place_orders(s, requests=reqs[start : start + size]):
                out.append(r.code if isinstance(r, ShopOpsError) else r)
    return out


def _placed(results: list[PlacedOrder | str]) -> tuple[list[int], list[str]]:
    done = [r for r in results if isinstance(r, PlacedOrder)]
    return [r.id for r in done], [r.number for r in done]


def _money(results: list[PlacedOrder | str]) -> list[object]:
    return [
        r if isinstance(r, str) else (r.customer_id, r.items_subtotal, r.discount_total, r.total)
        for r in results
    ]


EXPECTED = [
    "placed",
    "placed",
    "placed",
    "out_of_stock",
    "coupon_not_yours",
    "coupon_unknown",
    "coupon_exhausted",
    "customer_not_found",
    "no_address",
    "sku_not_sellable",
    "quantity_out_of_range",
    "cart_empty",
    "placed",
    "points_insufficient",
    "test_refusal",
    "placed",
    "placed",
]


@pytest.mark.parametrize("size", [1, 5, 40])
def test_bulk_equals_single_calls(
    engine: Engine, twin: Engine, refusing_hook: None, size: int
) -> None:
    shop_a = build_bulk_shop(engine)
    shop_b = build_bulk_shop(twin, base=shop_a.base)
    seq_a, seq_b = last_seq(engine), last_seq(twin)
    single = _single(engine, _script(shop_a))
    bulk = _bulk(twin, _script(shop_b), size)
    assert [r if isinstance(r, str) else "placed" for r in single] == EXPECTED
    assert _money(bulk) == _money(single)
    got_a = dump(engine, *_placed(single), seq_a, shop_a.base)
    got_b = dump(twin, *_placed(bulk), seq_b, shop_b.base)
    for name in got_a:
        only_a = sorted(set(got_a[name]) - set(got_b[name]))
        only_b = sorted(set(got_b[name]) - set(got_a[name]))
        assert (only_a, only_b) == ([], []), name
        assert got_b[name] == got_a[name], name
    assert broken_invariants(twin) == []
    with session_scope(twin, readonly=True) as s:  # the limits were reached, not skirted
        assert s.scalar(select(PromotionDef.used_count).where(PromotionDef.name == "满50减5")) == 2
        assert s.scalar(select(CustomerUsage.used).where(CustomerUsage.customer_id == 1)) == 1


def _order_timelines(engine: Engine, ids: list[int], since_seq: int) -> list[list[str]]:
    """Each placed order's events (aggregate "order") by name, in seq order."""
    at = {str(oid): i for i, oid in enumerate(ids)}
    out: list[list[str]] = [[] for _ in ids]
    with session_scope(engine, readonly=True) as s:
        rows = s.execute(
            select(OutboxEvent.aggregate_id, OutboxEvent.name)
            .where(OutboxEvent.seq > since_seq, OutboxEvent.aggregate_type == "order")
            .order_by(OutboxEvent.seq)
        )
        for agg, name in rows:
            out[at[agg]].append(name)
    return out


@pytest.mark.parametrize("size", [5, 40])
def test_bulk_keeps_each_orders_events_in_emit_order(
    engine: Engine, twin: Engine, refusing_hook: None, size: int
) -> None:
    # The promotions' events are deferred to the batch's write: still before order.created.
    shop_a = build_bulk_shop(engine)
    shop_b = build_bulk_shop(twin, base=shop_a.base)
    seq_a, seq_b = last_seq(engine), last_seq(twin)
    single = _single(engine, _script(shop_a))
    bulk = _bulk(twin, _script(shop_b), size)
    want = _order_timelines(engine, _placed(single)[0], seq_a)
    assert ["promotion.applied", "coupon.redeemed", "order.created"] in want
    assert _order_timelines(twin, _placed(bulk)[0], seq_b) == want


@pytest.fixture
def batch_write_lost_once() -> Iterator[list[int]]:
    """The promotions' batch write finds its state taken once (as after a concurrent claim)."""
    calls: list[int] = []
    i = next(i for i, (b, _e) in enumerate(pricing._batches) if b is checkout_batch.begin)

    def end(session, write):  # type: ignore[no-untyped-def]
        if write and not calls:
            calls.append(1)
            checkout_batch.end(session, False)
            raise CouponExhausted("taken meanwhile", details={})
        checkout_batch.end(session, write)

    pricing._batches[i] = (checkout_batch.begin, end)
    yield calls
    pricing._batches[i] = (checkout_batch.begin, checkout_batch.end)


def test_lost_batch_write_redoes_the_batch_through_single_hooks(
    engine: Engine, twin: Engine, refusing_hook: None, batch_write_lost_once: list[int]
) -> None:
    shop_a = build_bulk_shop(engine)
    shop_b = build_bulk_shop(twin, base=shop_a.base)
    seq_a, seq_b = last_seq(engine), last_seq(twin)
    single = _single(engine, _script(shop_a))
    bulk = _bulk(twin, _script(shop_b), 40)
    assert batch_write_lost_once == [1]
    assert _money(bulk) == _money(single)
    got_a = dump(engine, *_placed(single), seq_a, shop_a.base)
    got_b = dump(twin, *_placed(bulk), seq_b, shop_b.base)
    assert got_b == got_a


def test_refused_items_write_nothing(engine: Engine, refusing_hook: None) -> None:
    shop = build_bulk_shop(engine)
    seq = last_seq(engine)
    before = dump(engine, [], [], seq, shop.base)
    reqs = [r for r in _script(shop) if r.points == 300 or not r.lines or r.customer_id > 10**5]
    assert _bulk(engine, reqs, 10) == ["customer_not_found", "cart_empty", "test_refusal"]
    assert dump(engine, [], [], seq, shop.base) == before
    with session_scope(engine, readonly=True) as s:
        assert s.scalar(select(Coupon.status).where(Coupon.code == shop.coupons["c1a"])) == (
            "issued"
        )


def test_no_requests_read_and_write_nothing(engine: Engine) -> None:
    shop = build_bulk_shop(engine)
    seq = last_seq(engine)
    before = dump(engine, [], [], seq, shop.base)
    statements: list[str] = []
    with session_scope(engine) as s:
        s.connection()  # the transaction's own BEGIN is not the call's

        def log(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", log)
        try:
            assert place_orders(s, requests=[]) == []
        finally:
            event.remove(engine, "before_cursor_execute", log)
    assert statements == []
    assert dump(engine, [], [], seq, shop.base) == before


def test_no_oversell_across_a_batch(engine: Engine, twin: Engine) -> None:
    shop = build_bulk_shop(engine)
    c, sku = shop.customers, shop.skus
    reqs = [
        CheckoutRequest(c["c1" if i % 2 else "c2"], [(sku["A"], 1)], at=shop.base) for i in range(8)
    ]
    results = _bulk(engine, reqs, 8)
    assert [isinstance(r, PlacedOrder) for r in results] == [True] * 5 + [False] * 3
    assert results[5:] == ["out_of_stock"] * 3
    assert broken_invariants(engine) == []


def test_concurrent_batches_and_single_checkouts_never_oversell(engine: Engine) -> None:
    units, batches = 7, 4
    shop = build_shop(engine, stock=units)
    sku, other = shop.skus[0], shop.skus[1]
    customers = [new_customer(engine) for _ in range(batches + 2)]
    barrier = threading.Barrier(batches + 2)
    placed: list[int] = []
    errors: list[BaseException] = []

    def batch(customer_id: int) -> None:
        try:
            barrier.wait(timeout=10)
            with session_scope(engine) as s:
                reqs = [CheckoutRequest(customer_id, [(other, 1), (sku, 1)]) for _ in range(3)]
                results = place_orders(s, requests=reqs)
            placed.extend(r.id for r in results if isinstance(r, PlacedOrder))
            assert {r.code for r in results if isinstance(r, ShopOpsError)} <= {"out_of_stock"}
        except BaseException as exc:  # collected: a thread's failure must fail the test
            errors.append(exc)

    def single(customer_id: int) -> None:
        try:
            barrier.wait(timeout=10)
            with session_scope(engine) as s:
                placed.append(orders.place_order(s, customer_id=customer_id, lines=[(sku, 1)]).id)
        except OutOfStock:
            pass
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=batch, args=(c,)) for c in customers[:batches]]
    threads += [threading.Thread(target=single, args=(c,)) for c in customers[batches:]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(placed) == units == order_count(engine)
    assert stock(engine, sku) == (units, units)
    assert broken_invariants(engine) == []
