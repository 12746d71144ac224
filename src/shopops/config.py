"""Settings: environment variables with the SHOPOPS_ prefix, one data directory."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable; read from `SHOPOPS_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="SHOPOPS_", env_file=".env", extra="ignore")

    data_dir: Path = Path("./shopops-data")
    database_url: str | None = None
    timezone: str = "Asia/Shanghai"
    currency: str = "CNY"
    host: str = "127.0.0.1"
    port: int = 8000
    # `shopops serve` worker processes; None: one per CPU.
    workers: int | None = Field(default=None, ge=1, le=64)
    # Public storefront product pages/lists are served from an in-process cache for this many
    # seconds (invalidated on commit in the process that made the change); 0 disables it.
    storefront_cache_seconds: float = Field(default=2.0, ge=0, le=300)
    # Unpaid orders cancel themselves after this many minutes and release their stock.
    unpaid_order_timeout_minutes: int = Field(default=30, ge=1)
    # How long a cart's stock reservation lives before it may be reclaimed.
    reservation_minutes: int = Field(default=30, ge=1)
    # Largest quantity of one SKU on one order line; guards against absurd input.
    max_line_quantity: int = Field(default=999, ge=1)
    max_cart_lines: int = Field(default=100, ge=1)
    # Free shipping when the discounted item subtotal reaches this (fen); 0 disables.
    free_shipping_threshold: int = Field(default=9900, ge=0)
    base_shipping_fee: int = Field(default=1000, ge=0)
    # 7-day no-reason return window (7天无理由), in days from delivery.
    return_window_days: int = Field(default=7, ge=0)
    # Returns for a quality problem (not no-reason) are accepted this long after delivery.
    quality_return_window_days: int = Field(default=15, ge=0)
    # Delivered orders complete themselves (确认收货) after this many days.
    auto_complete_days: int = Field(default=10, ge=1)
    # Requests a minute per caller (API key or client address); 0 turns the limit off.
    rate_limit_per_minute: int = Field(default=60_000, ge=0)
    rate_limit_burst: int = Field(default=2_000, ge=1)
    # Shared secret of the simulated payment gateway's signed callbacks.
    gateway_secret: str = "shopops-dev-gateway-secret"
    # Simulated payment gateway: success rate and latency per channel.
    gateway_success_rate: dict[str, float] = {"wechat_pay": 0.92, "alipay": 0.93, "unionpay": 0.88}
    gateway_latency_ms: dict[str, int] = {"wechat_pay": 0, "alipay": 0, "unionpay": 0}

    # Membership and points (F-12): points earned per whole yuan paid (× the tier multiplier),
    # points worth ¥1 when redeemed, and the most of an order's remaining items they may pay.
    points_per_yuan_earned: int = Field(default=1, ge=0)
    points_per_yuan_redeemed: int = Field(default=100, ge=1)
    points_redeem_cap_bp: int = Field(default=5_000, ge=0, le=10_000)
    # Earned points expire (FIFO) this many months after they were credited.
    points_expiry_months: int = Field(default=12, ge=1)
    points_sign_in: int = Field(default=5, ge=0)
    # Growth value (成长值): per whole yuan paid, per paid order, per daily sign-in.
    growth_per_yuan: int = Field(default=1, ge=0)
    growth_per_order: int = Field(default=10, ge=0)
    growth_sign_in: int = Field(default=1, ge=0)
    # The periodic tier re-evaluation counts the growth of this many trailing months.
    tier_window_months: int = Field(default=12, ge=1)
    # Referral (裂变) rewards once the new customer's first order completes: points each, or
    # a coupon template (promotions) when one is set. ¥10 + ¥8 = the seed's ¥18 per new customer.
    referral_referrer_points: int = Field(default=1_000, ge=0)
    referral_new_customer_points: int = Field(default=800, ge=0)
    referral_referrer_coupon_template_id: int | None = None
    referral_new_customer_coupon_template_id: int | None = None

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'shop.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests build their own `Settings`)."""
    return Settings()
