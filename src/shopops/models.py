"""Imports every domain's tables, so `Base.metadata` is complete for Alembic and tests, and
every domain's handlers (checkout hooks, event subscribers), so the app, CLI, simulator and
tests all run the same reactions."""

import importlib

from shopops.accounts import models as accounts
from shopops.aftersales import models as aftersales
from shopops.catalog import models as catalog
from shopops.events import OutboxEvent
from shopops.fulfillment import models as fulfillment
from shopops.inventory import models as inventory
from shopops.members import models as members
from shopops.ops.alerts import models as ops_alerts
from shopops.ops.goals import models as ops_goals
from shopops.ops.notify import models as ops_notify
from shopops.orders import models as orders
from shopops.payments import models as payments
from shopops.pricing import models as pricing
from shopops.promotions import models as promotions
from shopops.purchasing import models as purchasing
from shopops.reviews import models as reviews

__all__ = [
    "OutboxEvent",
    "accounts",
    "aftersales",
    "catalog",
    "fulfillment",
    "inventory",
    "members",
    "ops_alerts",
    "ops_goals",
    "ops_notify",
    "orders",
    "payments",
    "pricing",
    "promotions",
    "purchasing",
    "reviews",
]

# Checkout discount hooks run in this order, each on what the previous left: promotions and
# coupons, then flash sales and price lists, then points (capped on what is left to pay).
HANDLERS = ("promotions", "pricing", "members", "reviews")
for _name in HANDLERS:
    importlib.import_module(f"shopops.{_name}.handlers")
