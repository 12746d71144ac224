"""Routes of the payments domain."""

from fastapi import APIRouter

router = APIRouter(tags=["payments"])
