"""Shared pieces of the catalog use cases: lookups that raise typed errors, pages."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopops.catalog.errors import (
    BrandNotFound,
    CategoryNotFound,
    InvalidProductField,
)
from shopops.catalog.models import Brand, Category

T = TypeVar("T")


class _Keep:
    """Marks an optional argument the caller did not pass (distinct from an explicit None)."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final[Any] = _Keep()


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def parse_enum(kind: type[StrEnum], value: str, field_name: str) -> str:
    try:
        return kind(value).value
    except ValueError as exc:
        raise InvalidProductField(
            f"{field_name} must be one of {', '.join(m.value for m in kind)}",
            details={"field": field_name, "value": value, "allowed": [m.value for m in kind]},
        ) from exc


def require_category(session: Session, category_id: int) -> Category:
    row = session.get(Category, category_id)
    if row is None:
        raise CategoryNotFound(f"no category {category_id}", details={"category_id": category_id})
    return row


def require_brand(session: Session, brand_id: int) -> Brand:
    row = session.get(Brand, brand_id)
    if row is None:
        raise BrandNotFound(f"no brand {brand_id}", details={"brand_id": brand_id})
    return row


def parent_map(session: Session) -> dict[int, int | None]:
    return {cid: parent for cid, parent in session.execute(select(Category.id, Category.parent_id))}
