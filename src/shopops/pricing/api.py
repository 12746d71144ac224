"""Routes of pricing: list prices and history, price lists, repricing proposals and flash
sales under /admin (operators set, staff read), and the live flash sales under /storefront."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from shopops.accounts.service import Principal
from shopops.api.deps import Operator, SessionDep, Shopper, Staff
from shopops.pricing import rules, service
from shopops.pricing.schemas import (
    FlashSaleCreate,
    FlashSaleRead,
    PriceChangeRead,
    PriceListCreate,
    PriceListItemsSet,
    PriceListRead,
    PriceListUpdate,
    PriceSet,
    RepriceApplied,
    RepriceProposalRead,
    RepriceRequest,
    ResolvedPrice,
    StorefrontFlashSale,
)

router = APIRouter(tags=["pricing"])

Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0)]


def actor(principal: Principal) -> str:
    """Who made a change, for the price history: the API key's name when it has one."""
    name = getattr(principal, "name", "") or ""
    return name or f"api_key:{principal.key_id}"


# ---- list prices ------------------------------------------------------------------------------


@router.put("/admin/prices/{sku_id}", response_model=PriceChangeRead | None)
def set_list_price(
    sku_id: int, body: PriceSet, session: SessionDep, principal: Operator
) -> PriceChangeRead | None:
    """Set a SKU's list price (history row + `price.changed`); null when it was that already.
    Outside the gross-margin band: 409 `margin_band_violated` unless `allow_outside_band`."""
    change = service.set_list_price(
        session,
        sku_id=sku_id,
        price=body.price,
        actor=actor(principal),
        reason=body.reason,
        allow_outside_band=body.allow_outside_band,
    )
    return PriceChangeRead.model_validate(change) if change is not None else None


@router.get("/admin/prices/{sku_id}/history", response_model=list[PriceChangeRead])
def price_history(
    sku_id: int, session: SessionDep, _: Staff, limit: Limit = 100, offset: Offset = 0
) -> list[PriceChangeRead]:
    rows = service.price_history(session, sku_id=sku_id, limit=limit, offset=offset)
    return [PriceChangeRead.model_validate(r) for r in rows]


@router.get("/admin/prices", response_model=list[ResolvedPrice])
def resolve_prices(
    session: SessionDep,
    _: Staff,
    sku_ids: Annotated[list[int], Query(min_length=1, max_length=200)],
    channel: Annotated[str, Query(min_length=1, max_length=32)] = "storefront",
    tier: Annotated[str, Query(max_length=20)] = "",
) -> list[ResolvedPrice]:
    """What each SKU costs a customer of `tier` on `channel` (list, member, channel price)."""
    prices = service.price_for(session, sku_ids=sku_ids, channel=channel, tier=tier)
    return [ResolvedPrice(sku_id=s, price=p) for s, p in sorted(prices.items())]


# ---- price lists ------------------------------------------------------------------------------


@router.post(
    "/admin/price-lists", response_model=PriceListRead, status_code=status.HTTP_201_CREATED
)
def create_price_list(
    body: PriceListCreate, session: SessionDep, principal: Operator
) -> PriceListRead:
    row = service.create_price_list(
        session,
        code=body.code,
        name=body.name,
        kind=body.kind,
        target=body.target,
        items={i.sku_id: i.price for i in body.items},
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        active=body.active,
        actor=actor(principal),
        reason=body.reason,
    )
    return PriceListRead.model_validate(row)


@router.get("/admin/price-lists", response_model=list[PriceListRead])
def list_price_lists(
    session: SessionDep,
    _: Staff,
    kind: Annotated[str | None, Query(pattern="^(member|channel)$")] = None,
) -> list[PriceListRead]:
    return [PriceListRead.model_validate(r) for r in service.list_price_lists(session, kind=kind)]


@router.get("/admin/price-lists/{price_list_id}", response_model=PriceListRead)
def get_price_list(price_list_id: int, session: SessionDep, _: Staff) -> PriceListRead:
    return PriceListRead.model_validate(
        service.get_price_list(session, price_list_id=price_list_id)
    )


@router.patch("/admin/price-lists/{price_list_id}", response_model=PriceListRead)
def update_price_list(
    price_list_id: int, body: PriceListUpdate, session: SessionDep, _: Operator
) -> PriceListRead:
    row = service.update_price_list(
        session,
        price_list_id=price_list_id,
        name=body.name,
        active=body.active,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
    )
    return PriceListRead.model_validate(row)


@router.put("/admin/price-lists/{price_list_id}/items", response_model=PriceListRead)
def set_price_list_items(
    price_list_id: int, body: PriceListItemsSet, session: SessionDep, principal: Operator
) -> PriceListRead:
    """Set or (with `price: null`) remove SKUs; each change is a history row."""
    row = service.set_price_list_items(
        session,
        price_list_id=price_list_id,
        items={i.sku_id: i.price for i in body.items},
        actor=actor(principal),
        reason=body.reason,
    )
    return PriceListRead.model_validate(row)


# ---- repricing --------------------------------------------------------------------------------


@router.post(
    "/admin/repricing/proposals",
    response_model=RepriceProposalRead,
    status_code=status.HTTP_201_CREATED,
)
def propose_reprice(
    body: RepriceRequest, session: SessionDep, principal: Operator
) -> RepriceProposalRead:
    """Propose a list price from competitor prices and stock cover, inside the margin band."""
    row = service.propose_reprice(
        session,
        sku_id=body.sku_id,
        competitor_prices=body.competitor_prices,
        daily_sales=body.daily_sales,
        policy=rules.RepricePolicy(
            min_margin_bp=body.min_margin_bp, max_margin_bp=body.max_margin_bp
        ),
        actor=actor(principal),
    )
    return RepriceProposalRead.model_validate(row)


@router.get("/admin/repricing/proposals", response_model=list[RepriceProposalRead])
def list_proposals(
    session: SessionDep,
    _: Staff,
    status_: Annotated[
        str | None, Query(alias="status", pattern="^(proposed|applied|dismissed)$")
    ] = None,
    sku_id: Annotated[int | None, Query(gt=0)] = None,
    limit: Limit = 100,
) -> list[RepriceProposalRead]:
    rows = service.list_proposals(session, status=status_, sku_id=sku_id, limit=limit)
    return [RepriceProposalRead.model_validate(r) for r in rows]


@router.post("/admin/repricing/proposals/{proposal_id}/apply", response_model=RepriceApplied)
def apply_reprice(proposal_id: int, session: SessionDep, principal: Operator) -> RepriceApplied:
    row, change = service.apply_reprice(session, proposal_id=proposal_id, actor=actor(principal))
    return RepriceApplied(
        proposal=RepriceProposalRead.model_validate(row),
        change=PriceChangeRead.model_validate(change) if change is not None else None,
    )


@router.post("/admin/repricing/proposals/{proposal_id}/dismiss", response_model=RepriceProposalRead)
def dismiss_reprice(proposal_id: int, session: SessionDep, _: Operator) -> RepriceProposalRead:
    return RepriceProposalRead.model_validate(
        service.dismiss_reprice(session, proposal_id=proposal_id)
    )


# ---- flash sales ------------------------------------------------------------------------------


@router.post(
    "/admin/flash-sales", response_model=FlashSaleRead, status_code=status.HTTP_201_CREATED
)
def create_flash_sale(
    body: FlashSaleCreate, session: SessionDep, principal: Operator
) -> FlashSaleRead:
    sale = service.create_flash_sale(
        session,
        name=body.name,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        per_customer_limit=body.per_customer_limit,
        items=[service.FlashItemSpec(i.sku_id, i.flash_price, i.pool) for i in body.items],
        actor=actor(principal),
    )
    return FlashSaleRead.of(sale)


@router.get("/admin/flash-sales", response_model=list[FlashSaleRead])
def list_flash_sales(
    session: SessionDep,
    _: Staff,
    status_: Annotated[str | None, Query(alias="status", pattern="^(active|ended)$")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[FlashSaleRead]:
    sales = service.list_flash_sales(session, status=status_, limit=limit, offset=offset)
    return [FlashSaleRead.of(s) for s in sales]


@router.get("/admin/flash-sales/{flash_sale_id}", response_model=FlashSaleRead)
def get_flash_sale(flash_sale_id: int, session: SessionDep, _: Staff) -> FlashSaleRead:
    return FlashSaleRead.of(service.get_flash_sale(session, flash_sale_id=flash_sale_id))


@router.post("/admin/flash-sales/{flash_sale_id}/end", response_model=FlashSaleRead)
def end_flash_sale(flash_sale_id: int, session: SessionDep, _: Operator) -> FlashSaleRead:
    """End a sale now (or cancel one not started): its SKUs sell at their normal price."""
    return FlashSaleRead.of(service.end_flash_sale(session, flash_sale_id=flash_sale_id))


@router.get("/storefront/flash-sales", response_model=list[StorefrontFlashSale])
def live_flash_sales(session: SessionDep, _: Shopper) -> list[StorefrontFlashSale]:
    """Flash sales running now, with the units left of each SKU."""
    return [StorefrontFlashSale.of(s) for s in service.live_flash_sales(session)]
