"""The batch's per-customer usage claim (`checkout_batch._claim_usage`): every (promotion,
customer) pair of a batch in one upsert, each within its promotion's limit, or a 409."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.promotions.store import make_promotion, percent

from shopops.db import session_scope
from shopops.members.models import Customer
from shopops.promotions.errors import PromotionLimitReached
from shopops.promotions.models import CustomerUsage
from shopops.promotions.service.checkout_batch import _claim_usage
from shopops.promotions.service.claims import claim_usage_one


def _usage(s) -> list[tuple[int, int, int]]:  # type: ignore[no-untyped-def]
    rows = s.execute(
        select(CustomerUsage.promotion_id, CustomerUsage.customer_id, CustomerUsage.used)
    ).all()
    return sorted(tuple(r) for r in rows)


def test_a_batch_claims_every_pair_in_one_statement_within_each_limit(engine, shop):
    two = make_promotion(engine, **percent(500, limits={"per_customer": 2}))
    one = make_promotion(engine, **percent(300, limits={"per_customer": 1}))
    with session_scope(engine) as s:
        c2 = Customer(name="乙", phone="13900000002")
        s.add(c2)
        s.flush()
        a, b = shop.customer_id, c2.id
        assert claim_usage_one(s, two, a, 1, 2)  # a row already there: updated, not inserted
        _claim_usage(s, {a: {two: 1, one: 1}, b: {two: 2}}, {two: 2, one: 1})
        assert _usage(s) == sorted([(two, a, 2), (one, a, 1), (two, b, 2)])


def test_a_batch_pair_over_its_limit_is_refused(engine, shop):
    # As after a concurrent checkout took the use the batch counted on: nothing may count.
    two = make_promotion(engine, **percent(500, limits={"per_customer": 2}))
    one = make_promotion(engine, **percent(300, limits={"per_customer": 1}))
    with session_scope(engine) as s:
        c2 = Customer(name="乙", phone="13900000002")
        s.add(c2)
        s.flush()
        a, b = shop.customer_id, c2.id
        assert claim_usage_one(s, one, b, 1, 1)
        with pytest.raises(PromotionLimitReached) as err, s.begin_nested():
            _claim_usage(s, {a: {two: 2}, b: {one: 1}}, {two: 2, one: 1})
        assert err.value.details == {"reason": "customer_limit"}
        assert _usage(s) == [(one, b, 1)]
