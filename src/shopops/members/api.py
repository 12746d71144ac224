"""Routes of the members domain."""

from fastapi import APIRouter

router = APIRouter(tags=["members"])
