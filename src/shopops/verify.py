"""Store invariants, checked over the whole database (`shopops verify`).

Like the warehouse loader, this reads across every domain's tables and writes nothing. Each
check is one SQL query that returns the rows breaking the invariant; an empty result is a pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, text


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    sql: str


@dataclass
class CheckResult:
    check: Check
    violations: int
    examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.violations == 0


CHECKS: tuple[Check, ...] = (
    Check(
        "ledger_on_hand",
        "stock on hand = sum of ledger movements, per SKU and warehouse",
        """
        SELECT s.sku_id, s.warehouse_id, s.on_hand, COALESCE(m.total, 0) AS ledger
        FROM stock_level s LEFT JOIN (
            SELECT sku_id, warehouse_id, SUM(on_hand_delta) AS total
            FROM stock_movement GROUP BY sku_id, warehouse_id
        ) m ON m.sku_id = s.sku_id AND m.warehouse_id = s.warehouse_id
        WHERE s.on_hand <> COALESCE(m.total, 0)
        """,
    ),
    Check(
        "ledger_reserved",
        "stock reserved = sum of ledger reservation movements, per SKU and warehouse",
        """
        SELECT s.sku_id, s.warehouse_id, s.reserved, COALESCE(m.total, 0) AS ledger
        FROM stock_level s LEFT JOIN (
            SELECT sku_id, warehouse_id, SUM(reserved_delta) AS total
            FROM stock_movement GROUP BY sku_id, warehouse_id
        ) m ON m.sku_id = s.sku_id AND m.warehouse_id = s.warehouse_id
        WHERE s.reserved <> COALESCE(m.total, 0)
        """,
    ),
    Check(
        "ledger_without_stock_row",
        "every ledger movement belongs to a stock row",
        """
        SELECT m.sku_id, m.warehouse_id, COUNT(*) AS movements
        FROM stock_movement m LEFT JOIN stock_level s
          ON s.sku_id = m.sku_id AND s.warehouse_id = m.warehouse_id
        WHERE s.id IS NULL GROUP BY m.sku_id, m.warehouse_id
        """,
    ),
    Check(
        "reserved_open_reservations",
        "stock reserved = open (active) reservations, per SKU and warehouse",
        """
        SELECT s.sku_id, s.warehouse_id, s.reserved, COALESCE(r.total, 0) AS open_reservations
        FROM stock_level s LEFT JOIN (
            SELECT sku_id, warehouse_id, SUM(quantity) AS total
            FROM reservation WHERE status = 'active' GROUP BY sku_id, warehouse_id
        ) r ON r.sku_id = s.sku_id AND r.warehouse_id = s.warehouse_id
        WHERE s.reserved <> COALESCE(r.total, 0)
        """,
    ),
    Check(
        "no_negative_stock",
        "no negative on hand or reserved, and reserved never above on hand",
        """
        SELECT sku_id, warehouse_id, on_hand, reserved FROM stock_level
        WHERE on_hand < 0 OR reserved < 0 OR reserved > on_hand
        """,
    ),
    Check(
        "order_total",
        "order total = items subtotal − discounts + shipping",
        """
        SELECT id, number, items_subtotal, discount_total, shipping_fee, total FROM sales_order
        WHERE total <> items_subtotal - discount_total + shipping_fee
        """,
    ),
    Check(
        "order_lines_add_up",
        "order items subtotal and discounts = the sums over its lines",
        """
        SELECT o.id, o.number, o.items_subtotal, l.subtotal, o.discount_total, l.discount
        FROM sales_order o JOIN (
            SELECT order_id, SUM(subtotal) AS subtotal, SUM(discount) AS discount
            FROM order_line GROUP BY order_id
        ) l ON l.order_id = o.id
        WHERE o.items_subtotal <> l.subtotal OR o.discount_total <> l.discount
        """,
    ),
    Check(
        "line_totals",
        "each line: subtotal = unit price × quantity, total = subtotal − discount",
        """
        SELECT id, order_id, unit_price, quantity, subtotal, discount, total FROM order_line
        WHERE subtotal <> unit_price * quantity OR total <> subtotal - discount
           OR discount < 0 OR discount > subtotal
        """,
    ),
    Check(
        "order_discounts_add_up",
        "order discount total = the sum of its applied discounts",
        """
        SELECT o.id, o.number, o.discount_total, COALESCE(d.total, 0) AS discounts
        FROM sales_order o LEFT JOIN (
            SELECT order_id, SUM(amount) AS total FROM order_discount GROUP BY order_id
        ) d ON d.order_id = o.id
        WHERE o.discount_total <> COALESCE(d.total, 0)
        """,
    ),
    Check(
        "paid_amount",
        "order paid amount = its successful payments (less those reversed at once)",
        """
        SELECT o.id, o.number, o.paid_amount, COALESCE(p.total, 0) AS payments
        FROM sales_order o LEFT JOIN (
            SELECT order_id, SUM(amount) AS total FROM payment
            WHERE status = 'succeeded' AND NOT EXISTS (
                SELECT 1 FROM refund r WHERE r.payment_id = payment.id AND r.kind = 'reversal'
            )
            GROUP BY order_id
        ) p ON p.order_id = o.id
        WHERE o.paid_amount <> COALESCE(p.total, 0)
        """,
    ),
    Check(
        "refunded_amount",
        "order refunded amount = its successful refunds, and never above what was paid",
        """
        SELECT o.id, o.number, o.paid_amount, o.refunded_amount, COALESCE(r.total, 0) AS refunds
        FROM sales_order o LEFT JOIN (
            SELECT order_id, SUM(amount) AS total FROM refund
            WHERE status = 'succeeded' AND kind = 'order' GROUP BY order_id
        ) r ON r.order_id = o.id
        WHERE o.refunded_amount <> COALESCE(r.total, 0) OR o.refunded_amount > o.paid_amount
        """,
    ),
    Check(
        "reversals_return_the_payment",
        "a payment the order could not take (late or duplicate) is returned in full",
        """
        SELECT r.id, r.payment_id, r.amount, p.amount AS paid FROM refund r
        JOIN payment p ON p.id = r.payment_id
        WHERE r.kind = 'reversal' AND (r.amount <> p.amount OR r.status <> 'succeeded')
        """,
    ),
    Check(
        "refund_lines_add_up",
        "each refund = the sum of its line parts",
        """
        SELECT r.id, r.amount, COALESCE(l.total, 0) AS lines
        FROM refund r LEFT JOIN (
            SELECT refund_id, SUM(amount) AS total FROM refund_line GROUP BY refund_id
        ) l ON l.refund_id = r.id
        WHERE r.kind = 'order' AND r.amount <> COALESCE(l.total, 0)
        """,
    ),
    Check(
        "line_refunds",
        "each order line's refunded amount = its successful refund parts, within its total",
        """
        SELECT ol.id, ol.order_id, ol.total, ol.refunded_amount, COALESCE(x.total, 0) AS refunds
        FROM order_line ol LEFT JOIN (
            SELECT rl.order_line_id, SUM(rl.amount) AS total
            FROM refund_line rl JOIN refund r ON r.id = rl.refund_id
            WHERE r.status = 'succeeded' AND rl.order_line_id IS NOT NULL
            GROUP BY rl.order_line_id
        ) x ON x.order_line_id = ol.id
        WHERE ol.refunded_amount <> COALESCE(x.total, 0) OR ol.refunded_amount > ol.total
        """,
    ),
    Check(
        "points_ledger",
        "points balance = sum of ledger entries = the last entry's balance, never negative",
        """
        SELECT c.id AS customer_id, c.points_balance, COALESCE(e.total, 0) AS ledger
        FROM customer c
        LEFT JOIN (SELECT customer_id, SUM(amount) AS total FROM points_entry
                   GROUP BY customer_id) e ON e.customer_id = c.id
        WHERE c.points_balance <> COALESCE(e.total, 0) OR c.points_balance < 0
           OR c.points_balance <> COALESCE((SELECT p.balance_after FROM points_entry p
                WHERE p.customer_id = c.id ORDER BY p.id DESC LIMIT 1), 0)
        """,
    ),
    Check(
        "purchase_receipts_in_ledger",
        "units accepted on purchase orders = the ledger's purchase_order receipts, per order, "
        "SKU and warehouse",
        """
        SELECT number, sku_id, warehouse_id, SUM(accepted) AS accepted, SUM(ledger) AS ledger
        FROM (
            SELECT po.number, pl.sku_id, po.warehouse_id, rl.accepted, 0 AS ledger
            FROM purchase_receipt_line rl
            JOIN purchase_order_line pl ON pl.id = rl.line_id
            JOIN purchase_order po ON po.id = pl.order_id
            UNION ALL
            SELECT ref_id, sku_id, warehouse_id, 0, on_hand_delta FROM stock_movement
            WHERE ref_type = 'purchase_order'
        ) x
        GROUP BY number, sku_id, warehouse_id
        HAVING SUM(accepted) <> SUM(ledger)
        """,
    ),
    Check(
        "purchase_lines_add_up",
        "each purchase-order line's accepted and rejected units = its receipts, within ordered",
        """
        SELECT pl.id, pl.order_id, pl.quantity, pl.accepted, pl.rejected,
               COALESCE(r.accepted, 0) AS receipts_accepted,
               COALESCE(r.rejected, 0) AS receipts_rejected
        FROM purchase_order_line pl LEFT JOIN (
            SELECT line_id, SUM(accepted) AS accepted, SUM(rejected) AS rejected
            FROM purchase_receipt_line GROUP BY line_id
        ) r ON r.line_id = pl.id
        WHERE pl.accepted <> COALESCE(r.accepted, 0) OR pl.rejected <> COALESCE(r.rejected, 0)
           OR pl.accepted + pl.rejected > pl.quantity
        """,
    ),
)


def run_checks(engine: Engine, *, examples: int = 5) -> list[CheckResult]:
    """Run every check in one read-only transaction; results in `CHECKS` order."""
    results = []
    with engine.connect() as conn:
        for check in CHECKS:
            rows = [dict(r._mapping) for r in conn.execute(text(check.sql))]
            results.append(CheckResult(check, len(rows), rows[:examples]))
    return results
