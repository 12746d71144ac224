"""Events of the members domain and their payloads (no contact details: the warehouse gets
the profile dimensions only)."""

from __future__ import annotations

from typing import Any

from shopops.members.models import Customer

CUSTOMER_REGISTERED = "customer.registered"
CUSTOMER_UPDATED = "customer.updated"

AGGREGATE = "customer"


def customer_profile(customer: Customer) -> dict[str, Any]:
    """The customer dimension's attributes: what segments and cohorts are cut by."""
    return {
        "customer_id": customer.id,
        "gender": customer.gender,
        "age_band": customer.age_band,
        "birth_month": customer.birthday.month if customer.birthday else None,
        "region": customer.region,
        "city": customer.city,
        "acquisition_channel": customer.acquisition_channel,
        "registered_at": customer.registered_at.isoformat(),
    }
