"""Pure catalog rules: the listing state machine, listing readiness, the category tree.

Listing status: draft → in_review → listed → delisted, with in_review → draft (the review
rejected it) and delisted → in_review (relist goes through review again). A product enters
review or goes on sale only when it is sellable: at least one active SKU, and every active SKU
priced above zero and not below its cost.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class ProductRole(StrEnum):
    """Where a product stands in the range (引流款 / 爆款 / 长尾)."""

    TRAFFIC_DRIVER = "traffic_driver"
    HIT = "hit"
    LONG_TAIL = "long_tail"


class ProductTier(StrEnum):
    """基础 / 时尚 / 收藏 tiers of the seed's range plan."""

    BASIC = "basic"
    TREND = "trend"
    COLLECTOR = "collector"


class ListingStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    LISTED = "listed"
    DELISTED = "delisted"


L = ListingStatus

LISTING_TRANSITIONS: dict[ListingStatus, frozenset[ListingStatus]] = {
    L.DRAFT: frozenset({L.IN_REVIEW}),
    L.IN_REVIEW: frozenset({L.LISTED, L.DRAFT}),
    L.LISTED: frozenset({L.DELISTED}),
    L.DELISTED: frozenset({L.IN_REVIEW}),
}
# Statuses in which the product must stay sellable (checked on entry and on every SKU change).
REQUIRES_SELLABLE = frozenset({L.IN_REVIEW, L.LISTED})

MAX_IMAGES = 20
MAX_IMAGE_URL = 500
_IMAGE_URL = re.compile(r"^https?://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?$", re.IGNORECASE)
_SLUG = re.compile(r"[^a-z0-9]+")


class IllegalListingMove(ValueError):
    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"a {current} product cannot move to {target}")
        self.current = current
        self.target = target


def next_listing_status(current: ListingStatus | str, target: ListingStatus | str) -> ListingStatus:
    """`target` if the state machine allows the move from `current`, else `IllegalListingMove`."""
    cur, tgt = ListingStatus(current), ListingStatus(target)
    if tgt not in LISTING_TRANSITIONS[cur]:
        raise IllegalListingMove(cur, tgt)
    return tgt


class ProblemCode(StrEnum):
    NO_ACTIVE_SKU = "no_active_sku"
    SKU_UNPRICED = "sku_unpriced"
    SKU_BELOW_COST = "sku_below_cost"


@dataclass(frozen=True, slots=True)
class SkuFacts:
    """What listing readiness needs to know of a SKU."""

    sku_id: int
    active: bool
    list_price: int
    cost: int


@dataclass(frozen=True, slots=True)
class ListingProblem:
    code: ProblemCode
    message: str
    sku_id: int | None = None


def listing_problems(skus: Iterable[SkuFacts]) -> list[ListingProblem]:
    """Why the product cannot be in review or on sale; empty when it can."""
    active = [s for s in skus if s.active]
    if not active:
        return [ListingProblem(ProblemCode.NO_ACTIVE_SKU, "the product has no active SKU")]
    problems = []
    for s in sorted(active, key=lambda s: s.sku_id):
        if s.list_price <= 0:
            problems.append(
                ListingProblem(
                    ProblemCode.SKU_UNPRICED, f"SKU {s.sku_id} has no list price", s.sku_id
                )
            )
        elif s.cost > s.list_price:
            problems.append(
                ListingProblem(
                    ProblemCode.SKU_BELOW_COST,
                    f"SKU {s.sku_id} costs {s.cost} fen but sells for {s.list_price} fen",
                    s.sku_id,
                )
            )
    return problems


def is_image_url(url: str) -> bool:
    """An absolute http(s) URL with a dotted host, no spaces, of a sane length."""
    return len(url) <= MAX_IMAGE_URL and _IMAGE_URL.match(url) is not None


def bad_image_urls(urls: Sequence[str]) -> list[str]:
    return [u for u in urls if not is_image_url(u)]


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by '-'; empty for text with no ASCII letters or digits."""
    return _SLUG.sub("-", text.lower()).strip("-")[:80]


# ---- the category tree -------------------------------------------------------------------


def descendants(parent_of: Mapping[int, int | None], root: int) -> set[int]:
    """`root` and every category below it."""
    children: dict[int, list[int]] = {}
    for node, parent in parent_of.items():
        if parent is not None:
            children.setdefault(parent, []).append(node)
    found = {root}
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def creates_cycle(parent_of: Mapping[int, int | None], node: int, new_parent: int | None) -> bool:
    """Would hanging `node` under `new_parent` make the tree a cycle (node under itself)?"""
    seen: set[int] = set()
    current = new_parent
    while current is not None and current not in seen:
        if current == node:
            return True
        seen.add(current)
        current = parent_of.get(current)
    return False


@dataclass
class TreeNode:
    id: int
    parent_id: int | None
    name: str
    slug: str
    position: int
    children: list[TreeNode] = field(default_factory=list)


def build_tree(nodes: Iterable[TreeNode]) -> list[TreeNode]:
    """Nest flat nodes under their parents; siblings ordered by position, then id.

    A node whose parent is missing is shown at the root rather than lost.
    """
    by_id = {n.id: n for n in nodes}
    roots: list[TreeNode] = []
    for n in by_id.values():
        parent = by_id.get(n.parent_id) if n.parent_id is not None else None
        (parent.children if parent is not None else roots).append(n)

    def order(items: list[TreeNode]) -> None:
        items.sort(key=lambda n: (n.position, n.id))
        for n in items:
            order(n.children)

    order(roots)
    return roots
