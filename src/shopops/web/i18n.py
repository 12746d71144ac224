"""Translations and number/date formatting: Babel catalogs compiled from the .po at start-up."""

from __future__ import annotations

import datetime as dt
import gettext
import io
from functools import cache
from pathlib import Path

from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

from shopops.money import format_money

LOCALE_DIR = Path(__file__).parent / "locale"
LOCALES = ("zh_CN", "en")


@cache
def translations(locale: str) -> gettext.GNUTranslations:
    """The catalog of `locale`, built in memory from its .po files (no build step for users).

    Every `*.po` in the locale's folder is merged (one file per area: pages, operations,
    catalog…) so areas can grow their messages without touching each other's files."""
    folder = LOCALE_DIR / locale / "LC_MESSAGES"
    catalog = None
    for path in sorted(folder.glob("*.po")):
        with path.open("rb") as fh:
            part = read_po(fh, locale=locale)
        if catalog is None:
            catalog = part
            continue
        for message in part:
            if message.id:
                catalog[message.id] = message
    assert catalog is not None, f"no catalog in {folder}"
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


class Formatter:
    """What a template needs to speak one locale: `_`, money, numbers, percents, dates."""

    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in LOCALES else LOCALES[0]
        self._t = translations(self.locale)

    def gettext(self, text: str) -> str:
        return self._t.gettext(text)

    def money(self, fen: int | float | None) -> str:
        return "—" if fen is None else format_money(round(fen), self.locale)

    def number(self, value: int | float | None, digits: int = 0) -> str:
        if value is None:
            return "—"
        if self.locale == "zh_CN" and abs(value) >= 100_000:
            # Chinese readers count in 万 (ten thousands).
            return format_decimal(value / 10_000, "#,##0.0", locale=self.locale) + "万"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, pattern, locale=self.locale)

    def percent(self, value: float | None, digits: int = 2) -> str:
        if value is None:
            return "—"
        return format_percent(value, "#,##0." + "0" * digits + "%", locale=self.locale)

    def change(self, value: float | None) -> str:
        if value is None:
            return "—"
        sign = "+" if value > 0 else ""
        return sign + format_percent(value, "#,##0.0%", locale=self.locale)

    def date(self, day: dt.date | dt.datetime | None) -> str:
        return "—" if day is None else format_date(day, "medium", locale=self.locale)

    def metric(self, fmt: str, value: float | int | None) -> str:
        """A registry metric value by its format (money, percent, decimal, count...)."""
        if fmt == "money":
            return self.money(value)
        if fmt == "percent":
            return self.percent(value)
        if fmt == "decimal":
            return self.number(value, 2)
        return self.number(value)
