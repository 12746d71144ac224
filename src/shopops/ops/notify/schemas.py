"""A notification channel as data (the `channels` list of <data_dir>/ops/channels.yaml)."""

from __future__ import annotations

import datetime as dt
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PLATFORMS = ("wecom", "dingtalk", "feishu", "slack", "email")


class ChannelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=60)
    platform: Literal["wecom", "dingtalk", "feishu", "slack", "email"]
    url: str | None = None  # the webhook (not e-mail)
    secret: str | None = None  # DingTalk / Feishu signing secret
    # e-mail
    smtp_host: str | None = None
    smtp_port: int = Field(25, ge=1, le=65535)
    sender: str | None = None
    to: list[str] = Field(default_factory=list)
    # routing: the levels it takes, and optionally only alerts on these metrics
    levels: list[int] = Field(default_factory=lambda: [1, 2, 3])
    metrics: list[str] | None = None
    # quiet hours in shop time, e.g. "22:00-08:00"; level 3 always goes through
    quiet_hours: str | None = None
    console_url: str = "http://127.0.0.1:8000/console/alerts"

    @field_validator("levels")
    @classmethod
    def _levels(cls, v: list[int]) -> list[int]:
        if not v or any(x not in (1, 2, 3) for x in v):
            raise ValueError("levels are among 1, 2, 3")
        return v

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            a, b = v.split("-")
            dt.time.fromisoformat(a.strip()), dt.time.fromisoformat(b.strip())
        except ValueError:
            raise ValueError("quiet_hours: HH:MM-HH:MM, e.g. 22:00-08:00") from None
        return v

    @model_validator(mode="after")
    def _target(self) -> ChannelSpec:
        if self.platform == "email":
            if not self.smtp_host or not self.sender or not self.to:
                raise ValueError("an e-mail channel needs smtp_host, sender and to")
            if any("@" not in a for a in [self.sender, *self.to]):
                raise ValueError("bad e-mail address")
            return self
        if not self.url:
            raise ValueError(f"a {self.platform} channel needs its webhook url")
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"bad webhook url {self.url!r}: http(s)://host/...")
        return self
