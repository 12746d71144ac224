"""Routes for API keys (admin only)."""

from __future__ import annotations

from fastapi import APIRouter, status

from shopops.accounts import service
from shopops.accounts.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from shopops.api.deps import Admin, SessionDep

router = APIRouter(prefix="/admin/api-keys", tags=["access"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated)
def create_key(body: ApiKeyCreate, session: SessionDep, _: Admin) -> ApiKeyCreated:
    row, plain = service.create_api_key(
        session, role=body.role, name=body.name, customer_id=body.customer_id
    )
    return ApiKeyCreated(**ApiKeyRead.model_validate(row).model_dump(), key=plain)


@router.get("", response_model=list[ApiKeyRead])
def list_keys(session: SessionDep, _: Admin) -> list[ApiKeyRead]:
    return [ApiKeyRead.model_validate(k) for k in service.list_api_keys(session)]


@router.delete("/{key_id}", response_model=ApiKeyRead)
def revoke_key(key_id: int, session: SessionDep, _: Admin) -> ApiKeyRead:
    return ApiKeyRead.model_validate(service.revoke_api_key(session, key_id=key_id))
