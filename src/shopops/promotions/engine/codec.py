"""Promotion parameters and item filters to and from plain JSON values, for storage."""

from __future__ import annotations

import dataclasses
from typing import Any

from shopops.promotions.engine.model import (
    PARAMS_OF_KIND,
    BuyXGetY,
    ItemFilter,
    MemberPrice,
    Params,
    PromotionKind,
)

_TIERED = ("tiers",)


def filter_to_dict(f: ItemFilter) -> dict[str, list[int]]:
    """Only the non-empty id sets, sorted, so equal filters serialise equally."""
    return {
        field.name: sorted(getattr(f, field.name))
        for field in dataclasses.fields(f)
        if getattr(f, field.name)
    }


def filter_from_dict(data: dict[str, Any]) -> ItemFilter:
    names = {field.name for field in dataclasses.fields(ItemFilter)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"unknown item filter fields: {sorted(unknown)}")
    return ItemFilter(**{name: frozenset(int(i) for i in ids) for name, ids in data.items()})


def params_to_dict(params: Params) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in dataclasses.fields(params):  # type: ignore[arg-type]
        value = getattr(params, field.name)
        if isinstance(value, ItemFilter):
            value = filter_to_dict(value)
        elif isinstance(params, MemberPrice) and field.name == "prices":
            value = {str(sku): price for sku, price in sorted(value.items())}
        elif field.name in _TIERED:
            value = [list(tier) for tier in value]
        out[field.name] = value
    return out


def params_from_dict(kind: PromotionKind, data: dict[str, Any]) -> Params:
    """The parameters of `kind` from their JSON form; ValueError on unknown or missing fields."""
    cls = PARAMS_OF_KIND[kind]
    names = {field.name for field in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"unknown {kind.value} parameters: {sorted(unknown)}")
    values = dict(data)
    if "tiers" in values:
        values["tiers"] = tuple((int(a), int(b)) for a, b in values["tiers"])
    if cls is MemberPrice and "prices" in values:
        values["prices"] = {int(sku): int(price) for sku, price in values["prices"].items()}
    if cls is BuyXGetY and values.get("get_items") is not None:
        values["get_items"] = filter_from_dict(values["get_items"])
    try:
        return cls(**values)  # type: ignore[no-any-return]
    except TypeError as exc:
        raise ValueError(f"bad {kind.value} parameters: {exc}") from exc
