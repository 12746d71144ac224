"""Pure inventory rules: merging lines, allocating over warehouses, stock checks."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopops.inventory.rules import (
    MAX_QUANTITY,
    BadQuantity,
    LevelView,
    WarehouseChoice,
    adjustment_problem,
    allocate_line,
    below_safety,
    merge_lines,
    pick_return_warehouse,
    plan_reservation,
)


def test_merge_lines_sums_duplicates_and_sorts_by_sku():
    assert merge_lines([(5, 1), (2, 3), (5, 4)]) == [(2, 3), (5, 5)]
    assert merge_lines([]) == []


@pytest.mark.parametrize("quantity", [0, -1, MAX_QUANTITY + 1, True, 1.5])
def test_merge_lines_refuses_bad_quantities(quantity):
    with pytest.raises(BadQuantity):
        merge_lines([(1, quantity)])


def test_merged_duplicates_are_checked_against_the_limit_together():
    with pytest.raises(BadQuantity):
        merge_lines([(1, 6), (1, 6)], limit=10)


def lv(level_id, warehouse_id, priority, available, sku_id=1):
    return LevelView(level_id, sku_id, warehouse_id, priority, available)


def test_allocation_fills_by_priority_and_splits():
    levels = [lv(1, 1, 100, 5), lv(2, 2, 10, 3), lv(3, 3, 50, 10)]
    got, left = allocate_line(6, levels)
    assert [(a.level.warehouse_id, a.quantity) for a in got] == [(2, 3), (3, 3)]
    assert left == 0
    got, left = allocate_line(3, levels)
    assert [(a.level.warehouse_id, a.quantity) for a in got] == [(2, 3)]
    got, left = allocate_line(30, levels)
    assert left == 12
    assert sum(a.quantity for a in got) == 18


def test_priority_ties_go_to_the_lower_warehouse_id():
    got, _ = allocate_line(1, [lv(1, 9, 10, 5), lv(2, 4, 10, 5)])
    assert got[0].level.warehouse_id == 4


def test_plan_is_in_lock_order_or_lists_every_shortage():
    levels = [
        lv(10, 2, 1, 5, sku_id=7),
        lv(11, 1, 9, 5, sku_id=7),
        lv(12, 1, 1, 2, sku_id=3),
    ]
    plan = plan_reservation({7: 8, 3: 2}, levels)
    assert plan.ok
    assert [(a.level.sku_id, a.level.warehouse_id, a.quantity) for a in plan.allocations] == [
        (3, 1, 2),
        (7, 1, 3),
        (7, 2, 5),
    ]
    plan = plan_reservation({7: 11, 3: 3, 4: 1}, levels)
    assert not plan.ok
    assert plan.allocations == []
    assert [(s.sku_id, s.requested, s.available) for s in plan.shortages] == [
        (3, 3, 2),
        (4, 1, 0),
        (7, 11, 10),
    ]


levels_strategy = st.lists(
    st.tuples(st.integers(1, 3), st.integers(0, 200), st.integers(0, 20)),
    max_size=6,
).map(
    lambda rows: [
        LevelView(i + 1, sku, i + 1, prio, avail) for i, (sku, prio, avail) in enumerate(rows)
    ]
)


@given(levels_strategy, st.dictionaries(st.integers(1, 3), st.integers(1, 40), max_size=3))
def test_plans_never_take_more_than_there_is_and_fill_exactly(levels, needed):
    plan = plan_reservation(needed, levels)
    by_id = {lv.level_id: lv for lv in levels}
    have = {s: sum(lv.available for lv in levels if lv.sku_id == s) for s in needed}
    assert plan.ok is all(have[s] >= q for s, q in needed.items())
    if not plan.ok:
        return
    keys = [a.level.lock_key for a in plan.allocations]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    for a in plan.allocations:
        assert 0 < a.quantity <= by_id[a.level.level_id].available
    for s, q in needed.items():
        mine = [a for a in plan.allocations if a.level.sku_id == s]
        assert sum(a.quantity for a in mine) == q
        # A less preferred warehouse is used only when every preferred one is emptied.
        used = {a.level.level_id: a.quantity for a in mine}
        rank = sorted(
            (lv for lv in levels if lv.sku_id == s), key=lambda lv: (lv.priority, lv.warehouse_id)
        )
        used_ranks = [i for i, lv in enumerate(rank) if lv.level_id in used]
        if used_ranks:
            for lv in rank[: max(used_ranks)]:
                assert used.get(lv.level_id, 0) == lv.available


@pytest.mark.parametrize(
    ("on_hand", "reserved", "delta", "problem"),
    [
        (10, 0, -10, None),
        (10, 0, -11, "negative_stock"),
        (10, 4, -6, None),
        (10, 4, -7, "stock_below_reserved"),
        (0, 0, 5, None),
    ],
)
def test_adjustments(on_hand, reserved, delta, problem):
    assert adjustment_problem(on_hand, reserved, delta) == problem


def test_below_safety():
    assert below_safety(4, 5)
    assert not below_safety(5, 5)
    assert not below_safety(0, 0)


def test_returns_go_to_a_warehouse_that_stocks_the_sku_first():
    choices = [
        WarehouseChoice(1, 10, stocks_sku=False),
        WarehouseChoice(2, 50, stocks_sku=True),
        WarehouseChoice(3, 20, stocks_sku=True),
    ]
    assert pick_return_warehouse(choices) == 3
    assert pick_return_warehouse([WarehouseChoice(4, 9, False), WarehouseChoice(5, 1, False)]) == 5
    assert pick_return_warehouse([]) is None
