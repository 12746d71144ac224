"""Routes of the aftersales domain."""

from fastapi import APIRouter

router = APIRouter(tags=["aftersales"])
