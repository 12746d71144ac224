"""Receiving goods against a purchase order: partial deliveries, units accepted into stock
(through inventory, ref_type `purchase_order` and the order number) or rejected for quality."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.orm import Session

from shopops.db import now
from shopops.events import emit
from shopops.inventory.service.restock_bulk import receive_stock_many
from shopops.purchasing import events
from shopops.purchasing.errors import (
    InvalidPurchasingField,
    LineNotOnOrder,
    NotReceivable,
    OverReceipt,
)
from shopops.purchasing.models import PurchaseReceipt, PurchaseReceiptLine
from shopops.purchasing.rules import (
    RECEIVABLE,
    LineState,
    PoStatus,
    is_on_time,
    over_receipt,
    status_after_receipt,
)
from shopops.purchasing.service._common import check_quantity, check_text, require_order

REF_TYPE = "purchase_order"


@dataclass(frozen=True, slots=True)
class ReceiptSpec:
    """Units of one SKU in a delivery: accepted into stock, rejected for quality."""

    sku_id: int
    accepted: int
    rejected: int = 0


def receive_purchase_order(
    session: Session, *, po_id: int, lines: Sequence[ReceiptSpec], note: str = ""
) -> PurchaseReceipt:
    """Record a delivery at the clock's time. Checked first, then applied, so a refused
    receipt changes nothing: every SKU must be on the order, and accepted + rejected may not
    exceed what is still outstanding on its line (`OverReceipt`, 409). Accepted units go
    on hand in the order's warehouse; the order becomes partially received or received."""
    note = check_text(note, "note", high=200)
    po = require_order(session, po_id, for_update=True)
    if PoStatus(po.status) not in RECEIVABLE:
        raise NotReceivable(
            f"a {po.status} purchase order cannot receive goods",
            details={"purchase_order_id": po.id, "status": po.status},
        )
    by_sku = {ln.sku_id: ln for ln in po.lines}
    seen: set[int] = set()
    units: list[tuple[int, int, int]] = []
    for spec in lines:
        check_quantity(spec.accepted, "accepted", low=0)
        check_quantity(spec.rejected, "rejected", low=0)
        line = by_sku.get(spec.sku_id)
        if line is None or spec.sku_id in seen:
            raise LineNotOnOrder(
                f"SKU {spec.sku_id} is not on purchase order {po.number} (or named twice)",
                details={"purchase_order_id": po.id, "sku_id": spec.sku_id},
            )
        seen.add(spec.sku_id)
        state = LineState(line.quantity, line.accepted, line.rejected)
        excess = over_receipt(state, spec.accepted, spec.rejected)
        if excess:
            raise OverReceipt(
                f"{excess} units more than outstanding on SKU {spec.sku_id} of {po.number}",
                details={
                    "purchase_order_id": po.id,
                    "sku_id": spec.sku_id,
                    "outstanding": state.outstanding,
                    "received": spec.accepted + spec.rejected,
                },
            )
        if spec.accepted or spec.rejected:
            units.append((spec.sku_id, spec.accepted, spec.rejected))
    if not units:
        raise InvalidPurchasingField(
            "a receipt has at least one unit", details={"purchase_order_id": po.id}
        )
    at = now(session)
    receipt = PurchaseReceipt(order_id=po.id, received_at=at, note=note)
    session.add(receipt)
    session.flush()
    session.execute(
        insert(PurchaseReceiptLine),
        [
            {"receipt_id": receipt.id, "line_id": by_sku[s].id, "accepted": a, "rejected": r}
            for s, a, r in units
        ],
    )
    # Ascending sku_id: inventory's lock order for many SKUs in one transaction.
    for sku_id, accepted, rejected in sorted(units):
        line = by_sku[sku_id]
        line.accepted += accepted
        line.rejected += rejected
    # The accepted units in one set of statements (`receive_stock` of each SKU in that order).
    receive_stock_many(
        session,
        warehouse_id=po.warehouse_id,
        lines=[(sku_id, accepted) for sku_id, accepted, _ in sorted(units) if accepted],
        ref_type=REF_TYPE,
        ref_id=po.number,
        note=(note or "采购到货 purchase order received")[:200],
    )
    po.status = status_after_receipt(
        LineState(ln.quantity, ln.accepted, ln.rejected) for ln in po.lines
    ).value
    if po.status == PoStatus.RECEIVED:
        po.closed_at = at
    session.flush()
    emit(
        session,
        events.PO_RECEIVED,
        aggregate_type=events.PO_AGGREGATE,
        aggregate_id=po.id,
        occurred_at=at,
        payload=events.received_payload(
            po, receipt, units, on_time=is_on_time(at, po.expected_at), at=at
        ),
    )
    return receipt


def receive_in_full(
    session: Session, *, po_id: int, rejected: dict[int, int] | None = None, note: str = ""
) -> PurchaseReceipt:
    """Receive everything outstanding; `rejected` ({sku_id: units}) of it fails inspection."""
    po = require_order(session, po_id)
    rejected = rejected or {}
    specs = []
    for ln in po.lines:
        left = ln.quantity - ln.accepted - ln.rejected
        if left <= 0:
            continue
        bad = min(left, rejected.get(ln.sku_id, 0))
        specs.append(ReceiptSpec(ln.sku_id, left - bad, bad))
    return receive_purchase_order(session, po_id=po_id, lines=specs, note=note)
