"""The simulated payment gateway behind every channel (WeChat Pay, Alipay, UnionPay).

It plays the part of the real providers: it accepts a charge, decides the outcome with a
per-channel success rate, takes a per-channel latency, and answers with a callback signed with
the shared secret, exactly as the provider would post it to `/payments/callback`. Outcomes come
from an injectable `random.Random`, so a seeded simulator replays the same successes and
failures; transaction ids are random UUIDs so that reruns never collide in the database.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from shopops.config import Settings, get_settings
from shopops.payments import rules
from shopops.payments.models import PaymentChannel

# Why a simulated attempt fails, with how often each reason occurs among failures.
FAILURE_CODES: tuple[tuple[str, int], ...] = (
    ("user_cancelled", 50),
    ("insufficient_funds", 30),
    ("bank_declined", 20),
)

TXN_PREFIX = {
    PaymentChannel.WECHAT_PAY: "wx",
    PaymentChannel.ALIPAY: "ali",
    PaymentChannel.UNIONPAY: "up",
}


@dataclass(frozen=True, slots=True)
class ChargeResult:
    """The gateway's answer to a charge: its transaction id and the outcome."""

    gateway_txn_id: str
    channel: str
    amount: int
    succeeded: bool
    failure_code: str
    latency_ms: int


@dataclass(frozen=True, slots=True)
class RefundResult:
    gateway_refund_id: str
    succeeded: bool


class SimulatedGateway:
    """One interface for every channel; outcomes drawn from `rng`, latency per channel."""

    def __init__(
        self,
        *,
        secret: str,
        success_rate: Mapping[str, float],
        latency_ms: Mapping[str, int] | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.secret = secret
        self.success_rate = dict(success_rate)
        self.latency_ms = dict(latency_ms or {})
        self.rng = rng or random.Random()
        # None: the latency is only reported (the simulator's clock moves, the process doesn't).
        self.sleep = sleep

    @classmethod
    def from_settings(
        cls,
        settings: Settings | None = None,
        *,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] | None = time.sleep,
    ) -> SimulatedGateway:
        settings = settings or get_settings()
        return cls(
            secret=settings.gateway_secret,
            success_rate=settings.gateway_success_rate,
            latency_ms=settings.gateway_latency_ms,
            rng=rng,
            sleep=sleep,
        )

    def new_txn_id(self, channel: str) -> str:
        """A fresh transaction id, prefixed by channel (`wx…`, `ali…`, `up…`)."""
        return f"{TXN_PREFIX.get(PaymentChannel(channel), 'pay')}{uuid.uuid4().hex}"

    def charge(self, *, channel: str, amount: int, gateway_txn_id: str) -> ChargeResult:
        """Ask the provider to take `amount`; the outcome follows the channel's success rate."""
        latency = int(self.latency_ms.get(channel, 0))
        if latency and self.sleep is not None:
            self.sleep(latency / 1000)
        succeeded = self.rng.random() < float(self.success_rate.get(channel, 1.0))
        failure = ""
        if not succeeded:
            codes, weights = zip(*FAILURE_CODES, strict=True)
            failure = self.rng.choices(codes, weights=weights)[0]
        return ChargeResult(gateway_txn_id, channel, amount, succeeded, failure, latency)

    def callback_payload(self, result: ChargeResult) -> dict[str, object]:
        """The signed body the provider posts to `/payments/callback` for `result`."""
        fields: dict[str, object] = {
            "gateway_txn_id": result.gateway_txn_id,
            "status": "succeeded" if result.succeeded else "failed",
            "failure_code": result.failure_code,
            "amount": result.amount,
        }
        fields[rules.SIGNATURE_FIELD] = rules.sign(fields, self.secret)
        return fields

    def refund(self, *, gateway_txn_id: str, amount: int) -> RefundResult:
        """Return `amount` of a captured transaction; the simulated provider always accepts."""
        return RefundResult(gateway_refund_id=f"rf{uuid.uuid4().hex}", succeeded=True)
