"""Ad spend from CSV: `date,channel,campaign_id,spend,impressions,clicks`, one row per channel
(and campaign) per day.

`spend` is in yuan as written by ad platforms' exports (`1234.5`, at most 2 decimals) and is
stored as integer fen, converted exactly (Decimal, never float); a file may instead carry a
`spend_fen` column of integer fen. Bad rows are rejected one by one with their line number and
reason; the good rows load. Pure parsing here; the loader writes the partitions.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

REQUIRED = ("date", "channel", "campaign_id", "impressions", "clicks")
MAX_SPEND_FEN = 10**13  # ¥100 billion a day: anything above is a unit mistake


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str


@dataclass
class AdSpend:
    rows: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def yuan_to_fen(text: str) -> int:
    """'12.34' → 1234 exactly; more than 2 decimals, negatives and non-numbers are errors."""
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"spend {text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"spend {text!r} is not a number")
    if value < 0:
        raise ValueError(f"spend {text!r} is negative")
    fen = value * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"spend {text!r} has more than 2 decimals (yuan)")
    return int(fen)


def _count(text: str, name: str) -> int:
    text = text.strip()
    if not text.isdigit():
        raise ValueError(f"{name} {text!r} is not a whole number ≥ 0")
    return int(text)


def parse_row(raw: dict[str, str], channels: Iterable[str], spend_column: str) -> dict[str, Any]:
    """One CSV row → a `fact_ad_spend` row; ValueError says what is wrong."""
    try:
        day = dt.date.fromisoformat((raw.get("date") or "").strip())
    except ValueError:
        raise ValueError(f"date {raw.get('date')!r} is not YYYY-MM-DD") from None
    channel = (raw.get("channel") or "").strip()
    if channel not in set(channels):
        raise ValueError(f"unknown channel {channel!r}")
    campaign_text = (raw.get("campaign_id") or "").strip()
    campaign = _count(campaign_text, "campaign_id") if campaign_text else None
    spend_text = raw.get(spend_column) or ""
    if not spend_text.strip():
        raise ValueError(f"{spend_column} is empty")
    spend = (
        _count(spend_text, "spend_fen") if spend_column == "spend_fen" else yuan_to_fen(spend_text)
    )
    if spend > MAX_SPEND_FEN:
        raise ValueError(f"spend {spend_text!r} is implausibly large")
    impressions = _count(raw.get("impressions") or "", "impressions")
    clicks = _count(raw.get("clicks") or "", "clicks")
    if impressions and clicks > impressions:
        raise ValueError(f"clicks ({clicks}) exceed impressions ({impressions})")
    return {
        "date": day,
        "channel": channel,
        "campaign_id": campaign,
        "spend": spend,
        "impressions": impressions,
        "clicks": clicks,
    }


def parse_csv(text: str, channels: Iterable[str]) -> AdSpend:
    """Every row of the file, good ones parsed, bad ones rejected with their line number.
    A second row for the same (date, channel, campaign) is rejected: spend is never summed
    twice by accident."""
    known = frozenset(channels)
    out = AdSpend()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    spend_column = "spend" if "spend" in header else "spend_fen"
    missing = [h for h in (*REQUIRED, spend_column) if h not in header]
    if missing:
        out.rejected.append(Rejected(1, f"the header lacks {', '.join(missing)}"))
        return out
    seen: dict[tuple[Any, ...], int] = {}
    for raw in reader:
        line = reader.line_num
        if None in raw:
            out.rejected.append(Rejected(line, "more fields than the header"))
            continue
        if not any((v or "").strip() for v in raw.values()):
            continue  # blank line
        try:
            row = parse_row(raw, known, spend_column)
        except ValueError as exc:
            out.rejected.append(Rejected(line, str(exc)))
            continue
        key = (row["date"], row["channel"], row["campaign_id"])
        if key in seen:
            out.rejected.append(
                Rejected(line, f"same date, channel and campaign as line {seen[key]}")
            )
            continue
        seen[key] = line
        out.rows.append(row)
    return out


def merge(existing: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A day's rows after loading `new`: a (channel, campaign) in `new` replaces the old row,
    so loading the same file twice changes nothing."""
    replaced = {(r["channel"], r["campaign_id"]) for r in new}
    kept = [r for r in existing if (r["channel"], r["campaign_id"]) not in replaced]
    return sorted(
        kept + new,
        key=lambda r: (r["channel"], r["campaign_id"] is not None, r["campaign_id"] or 0),
    )
