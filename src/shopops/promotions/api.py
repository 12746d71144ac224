"""Routes of promotions: setup for operators under /admin (promotions, coupons, campaigns),
the shopper's wallet and public-coupon claims under /storefront."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status

from shopops.api.deps import Analyst, Operator, SessionDep, Shopper
from shopops.promotions import service
from shopops.promotions.schemas import (
    AttachRequest,
    BatchRead,
    CampaignCreate,
    CampaignRead,
    CouponRead,
    IssueRequest,
    PromotionCreate,
    PromotionRead,
    PromotionUpdate,
    TemplateCreate,
    TemplateRead,
    WalletCoupon,
)

router = APIRouter(tags=["promotions"])


# --- promotions ------------------------------------------------------------------------------


@router.post("/admin/promotions", response_model=PromotionRead, status_code=status.HTTP_201_CREATED)
def create_promotion(body: PromotionCreate, session: SessionDep, _: Operator) -> Any:
    return service.create_promotion(session, spec=body)


@router.get("/admin/promotions", response_model=list[PromotionRead])
def list_promotions(
    session: SessionDep,
    _: Operator,
    status_: Annotated[str | None, Query(alias="status", max_length=16)] = None,
    campaign_id: int | None = None,
) -> Any:
    return service.list_promotions(session, status=status_, campaign_id=campaign_id)


@router.get("/admin/promotions/{promotion_id}", response_model=PromotionRead)
def read_promotion(promotion_id: int, session: SessionDep, _: Operator) -> Any:
    return service.get_promotion(session, promotion_id=promotion_id)


@router.patch("/admin/promotions/{promotion_id}", response_model=PromotionRead)
def update_promotion(
    promotion_id: int, body: PromotionUpdate, session: SessionDep, _: Operator
) -> Any:
    return service.update_promotion(session, promotion_id=promotion_id, changes=body)


@router.post("/admin/promotions/{promotion_id}/{action}", response_model=PromotionRead)
def change_promotion_status(
    promotion_id: int,
    action: Literal["activate", "pause", "end"],
    session: SessionDep,
    _: Operator,
) -> Any:
    return service.change_status(session, promotion_id=promotion_id, action=action)


# --- coupons -------------------------------------------------------------------------------------


@router.post(
    "/admin/coupons/templates", response_model=TemplateRead, status_code=status.HTTP_201_CREATED
)
def create_template(body: TemplateCreate, session: SessionDep, _: Operator) -> Any:
    return service.create_template(session, spec=body)


@router.get("/admin/coupons/templates", response_model=list[TemplateRead])
def list_templates(session: SessionDep, _: Operator) -> Any:
    return service.list_templates(session)


@router.post(
    "/admin/coupons/templates/{template_id}/issue",
    response_model=BatchRead,
    status_code=status.HTTP_201_CREATED,
)
def issue_coupons(template_id: int, body: IssueRequest, session: SessionDep, _: Operator) -> Any:
    batch, skipped = service.issue_bulk(
        session,
        template_id=template_id,
        customer_ids=body.customer_ids,
        match=body.match,
        reason=body.reason,
    )
    return BatchRead(batch_id=batch.id, issued=batch.issued, skipped=skipped)


# --- campaigns -----------------------------------------------------------------------------------


@router.post("/admin/campaigns", response_model=CampaignRead, status_code=status.HTTP_201_CREATED)
def create_campaign(body: CampaignCreate, session: SessionDep, _: Operator) -> Any:
    row = service.create_campaign(session, spec=body)
    return service.campaign_view(session, campaign_id=row.id)


@router.get("/admin/campaigns", response_model=list[CampaignRead])
def list_campaigns(session: SessionDep, _: Operator) -> Any:
    return [
        service.campaign_view(session, campaign_id=c.id) for c in service.list_campaigns(session)
    ]


@router.get("/admin/campaigns/{campaign_id}", response_model=CampaignRead)
def read_campaign(campaign_id: int, session: SessionDep, _: Operator) -> Any:
    return service.campaign_view(session, campaign_id=campaign_id)


@router.post("/admin/campaigns/{campaign_id}/promotions", response_model=PromotionRead)
def attach_promotion(
    campaign_id: int, body: AttachRequest, session: SessionDep, _: Operator
) -> Any:
    return service.attach_promotion(
        session, campaign_id=campaign_id, promotion_id=body.promotion_id, phase=body.phase
    )


@router.get("/admin/campaigns/{campaign_id}/results")
def campaign_results(
    campaign_id: int, session: SessionDep, _: Analyst
) -> dict[str, dict[str, int]]:
    return service.campaign_results(session, campaign_id=campaign_id)


# --- the shopper's wallet ------------------------------------------------------------------------


@router.get("/storefront/coupons", response_model=list[WalletCoupon])
def my_coupons(
    session: SessionDep,
    principal: Shopper,
    include_used: Annotated[bool, Query(alias="all")] = False,
) -> Any:
    assert principal.customer_id is not None
    return [
        WalletCoupon.model_validate(
            {**CouponRead.model_validate(c).model_dump(), "name": name, "usable": usable}
        )
        for c, name, usable in service.wallet(
            session, customer_id=principal.customer_id, include_used=include_used
        )
    ]


@router.get("/storefront/coupon-templates", response_model=list[TemplateRead])
def claimable_coupons(session: SessionDep, _: Shopper) -> Any:
    return service.list_templates(session, claimable=True)


@router.post(
    "/storefront/coupons/claim/{template_id}",
    response_model=CouponRead,
    status_code=status.HTTP_201_CREATED,
)
def claim_coupon(template_id: int, session: SessionDep, principal: Shopper) -> Any:
    assert principal.customer_id is not None
    return service.claim_coupon(session, template_id=template_id, customer_id=principal.customer_id)
