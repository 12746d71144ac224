"""Pure catalog rules: the listing state machine, readiness, the category tree, image URLs."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopops.catalog.rules import (
    LISTING_TRANSITIONS,
    IllegalListingMove,
    ListingStatus,
    ProblemCode,
    SkuFacts,
    TreeNode,
    build_tree,
    creates_cycle,
    descendants,
    is_image_url,
    listing_problems,
    next_listing_status,
    slugify,
)

L = ListingStatus


def test_the_life_of_a_listing():
    status = L.DRAFT
    for target in (L.IN_REVIEW, L.LISTED, L.DELISTED, L.IN_REVIEW, L.DRAFT, L.IN_REVIEW):
        status = next_listing_status(status, target)
    assert status is L.IN_REVIEW


@pytest.mark.parametrize("current", list(L))
@pytest.mark.parametrize("target", list(L))
def test_every_pair_is_in_the_table_or_refused(current, target):
    allowed = {
        (L.DRAFT, L.IN_REVIEW),
        (L.IN_REVIEW, L.LISTED),
        (L.IN_REVIEW, L.DRAFT),
        (L.LISTED, L.DELISTED),
        (L.DELISTED, L.IN_REVIEW),
    }
    if (current, target) in allowed:
        assert next_listing_status(current, target) is target
    else:
        with pytest.raises(IllegalListingMove):
            next_listing_status(current, target)


@given(st.lists(st.sampled_from(list(L)), max_size=30))
def test_listed_is_only_ever_reached_through_review(targets):
    """Whatever moves are attempted, accepted ones follow the graph, and a product is listed
    only straight after review; a refused move changes nothing."""
    status = L.DRAFT
    for target in targets:
        try:
            new = next_listing_status(status, target)
        except IllegalListingMove:
            assert target not in LISTING_TRANSITIONS[status]
            continue
        assert new in LISTING_TRANSITIONS[status]
        if new is L.LISTED:
            assert status is L.IN_REVIEW
        status = new


def test_a_product_without_active_skus_is_not_sellable():
    assert [p.code for p in listing_problems([])] == [ProblemCode.NO_ACTIVE_SKU]
    inactive = SkuFacts(1, active=False, list_price=100, cost=50)
    assert [p.code for p in listing_problems([inactive])] == [ProblemCode.NO_ACTIVE_SKU]


def test_each_active_sku_needs_a_price_at_or_above_cost():
    problems = listing_problems(
        [
            SkuFacts(3, True, 100, 150),
            SkuFacts(1, True, 0, 0),
            SkuFacts(2, True, 100, 100),
            SkuFacts(4, False, 0, 999),  # inactive SKUs are not checked
        ]
    )
    assert [(p.code, p.sku_id) for p in problems] == [
        (ProblemCode.SKU_UNPRICED, 1),
        (ProblemCode.SKU_BELOW_COST, 3),
    ]
    assert listing_problems([SkuFacts(1, True, 100, 100)]) == []


@given(
    st.lists(
        st.builds(
            SkuFacts,
            st.integers(1, 50),
            st.booleans(),
            st.integers(0, 1000),
            st.integers(0, 1000),
        ),
        max_size=8,
    )
)
def test_sellable_means_an_active_sku_and_every_active_sku_priced_above_cost(skus):
    active = [s for s in skus if s.active]
    ok = bool(active) and all(s.list_price > 0 and s.cost <= s.list_price for s in active)
    assert (listing_problems(skus) == []) is ok


def _parents():
    # 1 ─ 2 ─ 4      5
    #   └ 3
    return {1: None, 2: 1, 3: 1, 4: 2, 5: None}


def test_descendants_include_the_root_and_every_level_below():
    assert descendants(_parents(), 1) == {1, 2, 3, 4}
    assert descendants(_parents(), 2) == {2, 4}
    assert descendants(_parents(), 5) == {5}
    assert descendants(_parents(), 99) == {99}


@pytest.mark.parametrize(
    ("node", "parent", "cycle"),
    [
        (1, 4, True),  # under its own grandchild
        (2, 2, True),  # under itself
        (2, 4, True),
        (2, 3, False),
        (4, None, False),
        (1, 5, False),
        (5, 4, False),
    ],
)
def test_moves_that_would_make_a_cycle_are_detected(node, parent, cycle):
    assert creates_cycle(_parents(), node, parent) is cycle


def test_build_tree_nests_and_orders_by_position():
    nodes = [
        TreeNode(1, None, "数码", "digital", 1),
        TreeNode(2, 1, "充电器", "chargers", 2),
        TreeNode(3, 1, "数据线", "cables", 1),
        TreeNode(4, 2, "快充", "fast", 0),
        TreeNode(5, None, "家居", "home", 0),
        TreeNode(6, 99, "orphan", "orphan", 5),
    ]
    tree = build_tree(nodes)
    assert [n.id for n in tree] == [5, 1, 6]
    digital = tree[1]
    assert [n.id for n in digital.children] == [3, 2]
    assert [n.id for n in digital.children[1].children] == [4]


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://img.example.com/a.jpg", True),
        ("http://cdn.shop.cn/p/1.png?x=1", True),
        ("ftp://example.com/a.jpg", False),
        ("https://localhost/a.jpg", False),
        ("javascript:alert(1)", False),
        ("https://example.com/a b.jpg", False),
        ("https://example.com/" + "a" * 600, False),
    ],
)
def test_image_urls(url, ok):
    assert is_image_url(url) is ok


def test_slugify():
    assert slugify("USB-C Cables & Chargers") == "usb-c-cables-chargers"
    assert slugify("充电器") == ""
