"""`shopops verify` finds each kind of broken invariant, and passes on consistent data."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from tests import factories

from shopops.verify import run_checks


def _broken(engine) -> set[str]:  # type: ignore[no-untyped-def]
    return {r.check.name for r in run_checks(engine) if not r.ok}


def test_consistent_store_passes(engine, uow):
    with uow() as s:
        factories.product(s, stock=5)
    assert _broken(engine) == set()


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("UPDATE stock_level SET on_hand = on_hand + 1", {"ledger_on_hand"}),
        (
            "UPDATE stock_level SET reserved = 1",
            {"ledger_reserved", "reserved_open_reservations"},
        ),
    ],
)
def test_tampering_is_caught(engine, uow, sql, expected):
    with uow() as s:
        factories.product(s, stock=5)
    with engine.begin() as conn:
        conn.execute(text(sql))
    assert _broken(engine) == expected
