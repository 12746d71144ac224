"""Routes of the inventory domain."""

from fastapi import APIRouter

router = APIRouter(tags=["inventory"])
