"""Categories (a tree without cycles) and brands."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopops.catalog.errors import (
    CategoryCycle,
    CategoryNotFound,
    DuplicateSlug,
)
from shopops.catalog.models import Brand, Category
from shopops.catalog.rules import (
    TreeNode,
    build_tree,
    creates_cycle,
    slugify,
)
from shopops.catalog.service._common import parent_map, require_brand, require_category


def _free_slug(
    session: Session, model: type[Category] | type[Brand], slug: str | None, name: str
) -> str:
    """The given slug if unused (else 409), or one derived from the name, made unique."""
    if slug is not None:
        if session.scalar(select(model.id).where(model.slug == slug)) is not None:
            raise DuplicateSlug(f"slug {slug!r} is taken", details={"slug": slug})
        return slug
    base = slugify(name)
    if not base:
        # Chinese names have no ASCII to slug from; a random suffix keeps them unique.
        return f"{model.__tablename__}-{secrets.token_hex(4)}"
    taken = session.scalar(select(model.id).where(model.slug == base))
    return base if taken is None else f"{base}-{secrets.token_hex(3)}"


def create_category(
    session: Session,
    *,
    name: str,
    slug: str | None = None,
    parent_id: int | None = None,
    position: int = 0,
) -> Category:
    """A new category, at the root or under `parent_id`."""
    if parent_id is not None:
        require_category(session, parent_id)
    row = Category(
        name=name,
        slug=_free_slug(session, Category, slug, name),
        parent_id=parent_id,
        position=position,
    )
    session.add(row)
    session.flush()
    return row


def update_category(
    session: Session,
    *,
    category_id: int,
    name: str | None = None,
    slug: str | None = None,
    position: int | None = None,
) -> Category:
    row = require_category(session, category_id)
    if slug is not None and slug != row.slug:
        row.slug = _free_slug(session, Category, slug, row.name)
    if name is not None:
        row.name = name
    if position is not None:
        row.position = position
    session.flush()
    return row


def move_category(
    session: Session, *, category_id: int, parent_id: int | None, position: int | None = None
) -> Category:
    """Hang a category (and its subtree) under `parent_id` (None: the root); no cycles."""
    row = require_category(session, category_id)
    parent_of = parent_map(session)
    if parent_id is not None and parent_id not in parent_of:
        raise CategoryNotFound(f"no category {parent_id}", details={"parent_id": parent_id})
    if creates_cycle(parent_of, category_id, parent_id):
        raise CategoryCycle(
            f"category {category_id} cannot move under its own subtree",
            details={"category_id": category_id, "parent_id": parent_id},
        )
    row.parent_id = parent_id
    if position is not None:
        row.position = position
    session.flush()
    return row


def get_category(session: Session, *, category_id: int) -> Category:
    return require_category(session, category_id)


def list_categories(session: Session) -> list[Category]:
    return list(session.scalars(select(Category).order_by(Category.position, Category.id)))


def category_tree(session: Session) -> list[TreeNode]:
    """Every category, nested; one query."""
    rows = session.execute(
        select(Category.id, Category.parent_id, Category.name, Category.slug, Category.position)
    )
    return build_tree(TreeNode(*r) for r in rows)


def create_brand(session: Session, *, name: str, slug: str | None = None) -> Brand:
    row = Brand(name=name, slug=_free_slug(session, Brand, slug, name))
    session.add(row)
    session.flush()
    return row


def update_brand(
    session: Session, *, brand_id: int, name: str | None = None, slug: str | None = None
) -> Brand:
    row = require_brand(session, brand_id)
    if slug is not None and slug != row.slug:
        row.slug = _free_slug(session, Brand, slug, row.name)
    if name is not None:
        row.name = name
    session.flush()
    return row


def list_brands(session: Session) -> list[Brand]:
    return list(session.scalars(select(Brand).order_by(Brand.name, Brand.id)))
