"""Routes of the fulfillment domain."""

from fastapi import APIRouter

router = APIRouter(tags=["fulfillment"])
