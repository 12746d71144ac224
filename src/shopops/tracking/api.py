"""Routes of tracking: public event ingestion (like PostHog's capture endpoints: storefront
pages call them without a secret), identify on sign-in (the shopper's own key), and our
tracking script."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from shopops.api.deps import Shopper
from shopops.config import Settings
from shopops.tracking import service
from shopops.tracking.errors import BatchTooLarge, InvalidEvent
from shopops.tracking.schemas import BatchAccepted, IdentifyIn, IdentifyRead, RejectedEvent

router = APIRouter(tags=["tracking"])

# A full batch of MAX_BATCH events of up to a few KB each; larger bodies are refused unread.
MAX_BODY_BYTES = 4 * 1024 * 1024
_SCRIPT = Path(__file__).with_name("static") / "shopops.js"
# sendBeacon and cross-origin storefront pages read nothing back, but fetch() callers may.
_CORS = {"Access-Control-Allow-Origin": "*"}


def _store(request: Request) -> service.EventStore:
    settings: Settings = request.app.state.settings
    return service.open_store(settings.data_dir, timezone=settings.timezone)


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BatchTooLarge(
            f"the body is larger than {MAX_BODY_BYTES} bytes", details={"max": MAX_BODY_BYTES}
        )
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY_BYTES:
            raise BatchTooLarge(
                f"the body is larger than {MAX_BODY_BYTES} bytes", details={"max": MAX_BODY_BYTES}
            )
    return data


def _context(request: Request) -> dict[str, Any]:
    return {
        "user_agent": request.headers.get("user-agent", ""),
        # Header values are ASCII: a Chinese province name comes percent-encoded (UTF-8).
        "province": unquote(request.headers.get("x-shopops-province", "")),
        "project": request.headers.get("x-shopops-project", ""),
    }


@router.post("/t/batch", response_model=BatchAccepted)
async def ingest_batch(request: Request) -> Any:
    """Public. A JSON array of events, or `{"batch": [...], "sent_at": ...}` (at most
    1,000). Answers once the accepted events are on disk; malformed events are refused one by
    one with their index and reasons, the rest kept. Any content type (sendBeacon sends
    text/plain)."""
    data = await _body(request)
    result = await run_in_threadpool(
        service.ingest_batch, _store(request), body=data, **_context(request)
    )
    body = BatchAccepted(
        accepted=result.accepted,
        rejected=[RejectedEvent(index=r.index, reasons=r.reasons) for r in result.rejected],
    )
    return Response(body.model_dump_json(), media_type="application/json", headers=_CORS)


@router.post("/t/events", response_model=BatchAccepted)
async def ingest_event(request: Request) -> Any:
    """Public. One event `{event, distinct_id, uuid?, timestamp?, properties?}`; a malformed
    one is refused with 422 `invalid_event` and its reasons."""
    data = await _body(request)
    event = service.parse_body(data)
    if not isinstance(event, dict):
        raise InvalidEvent("the body must be one event object", details={})
    await run_in_threadpool(service.ingest_event, _store(request), event=event, **_context(request))
    body = BatchAccepted(accepted=1, rejected=[])
    return Response(body.model_dump_json(), media_type="application/json", headers=_CORS)


@router.post("/t/identify", response_model=IdentifyRead)
def identify(request: Request, body: IdentifyIn, principal: Shopper) -> IdentifyRead:
    """The signed-in shopper (their storefront key) claims an anonymous distinct id: its
    events, before and after, belong to them."""
    assert principal.customer_id is not None  # storefront keys always act for a customer
    person = service.identify(
        _store(request), distinct_id=body.distinct_id, customer_id=principal.customer_id
    )
    return IdentifyRead(distinct_id=body.distinct_id, person_id=person)


@router.get("/t/shopops.js", include_in_schema=False)
def tracking_script() -> Response:
    """Public: our tracking script for storefront pages."""
    return Response(
        _SCRIPT.read_bytes(),
        media_type="application/javascript",
        headers={"Cache-Control": "public, max-age=3600"},
    )
