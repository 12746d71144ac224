"""The per-customer usage claim: one compiled upsert that counts a use only within the limit."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.promotions.store import make_promotion, percent

from shopops.db import session_scope
from shopops.promotions.errors import PromotionLimitReached
from shopops.promotions.models import CustomerUsage
from shopops.promotions.service.claims import _claim_customer_usage, claim_usage_one


def test_a_use_is_counted_only_within_the_limit(engine, shop):
    pid = make_promotion(engine, **percent(500, limits={"per_customer": 2}))
    other = make_promotion(engine, **percent(300, limits={"per_customer": 1}))
    cid = shop.customer_id
    with session_scope(engine) as s:
        assert [claim_usage_one(s, pid, cid, 1, 2) for _ in range(3)] == [True, True, False]
        # A first use is inserted as it comes (pricing refused it if over); then the limit holds.
        assert claim_usage_one(s, other, cid, 1, 1) is True
        assert claim_usage_one(s, other, cid, 1, 1) is False
        with pytest.raises(PromotionLimitReached) as err:
            _claim_customer_usage(s, cid, {pid: 1}, {pid: 2})
        assert err.value.details == {"promotion_ids": [pid], "reason": "customer_limit"}
        rows = s.execute(
            select(CustomerUsage.promotion_id, CustomerUsage.used).order_by(
                CustomerUsage.promotion_id
            )
        ).all()
        assert [tuple(r) for r in rows] == [(pid, 2), (other, 1)]
