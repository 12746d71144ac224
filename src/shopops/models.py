"""Imports every domain's tables, so `Base.metadata` is complete for Alembic and tests."""

from shopops.accounts import models as accounts
from shopops.aftersales import models as aftersales
from shopops.catalog import models as catalog
from shopops.events import OutboxEvent
from shopops.fulfillment import models as fulfillment
from shopops.inventory import models as inventory
from shopops.members import models as members
from shopops.orders import models as orders
from shopops.payments import models as payments

__all__ = [
    "OutboxEvent",
    "accounts",
    "aftersales",
    "catalog",
    "fulfillment",
    "inventory",
    "members",
    "orders",
    "payments",
]
