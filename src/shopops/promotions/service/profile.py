"""What promotions need to know about a customer and the category tree, read through the
owning domains' services."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shopops.catalog import service as catalog
from shopops.members import service as members
from shopops.orders import service as orders
from shopops.promotions.rules import CustomerContext


def customer_context(session: Session, customer: Any) -> CustomerContext:
    """Tier, tags, first-order flag and birthday of the customer, for the engine.

    Uses `members.service.customer_profile` when it exists; otherwise the customer row gives
    the birthday, there is no tier or tag, and any earlier order (even unpaid or cancelled)
    means this is not a first order (conservative: a first-order offer is never given twice).
    """
    customer_profile = getattr(members, "customer_profile", None)
    if customer_profile is not None:
        prof = customer_profile(session, customer_id=customer.id)
        return CustomerContext(
            customer_id=customer.id,
            tier=prof.tier or "",
            segments=frozenset(prof.tags),
            is_first_order=prof.paid_orders == 0,
            birthday=prof.birthday,
        )
    _, earlier = orders.list_orders(session, customer_id=customer.id, limit=1)
    return CustomerContext(
        customer_id=customer.id,
        is_first_order=earlier == 0,
        birthday=getattr(customer, "birthday", None),
    )


def paid_orders(session: Session, *, customer_id: int) -> int:
    """How many orders the customer has paid (or placed, without a profile service)."""
    customer_profile = getattr(members, "customer_profile", None)
    if customer_profile is not None:
        return int(customer_profile(session, customer_id=customer_id).paid_orders)
    _, total = orders.list_orders(session, customer_id=customer_id, limit=1)
    return total


def category_children(session: Session) -> dict[int, list[int]]:
    """Each category's direct children (for filters that name a parent category)."""
    children: dict[int, list[int]] = {}
    for c in catalog.list_categories(session):
        if c.parent_id is not None:
            children.setdefault(c.parent_id, []).append(c.id)
    return children
