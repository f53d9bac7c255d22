"""Two languages (English and German): gettext catalogues read with Babel, and dates,
numbers, money and durations in the reader's locale.

The catalogues live beside this module (``locale/<lang>/LC_MESSAGES/messages.po`` and the
compiled ``.mo``, both committed so a fresh install needs no build step; ``make messages``
extracts, updates and compiles them). English is the source language: the msgids are the
English text, so ``en`` needs no catalogue.

Who reads is a :class:`Reader` (locale, time format, first day of the week) in a context
variable: a page request sets it once its principal is known (``web/pages/session.py``), a
job building a mail or a PDF passes :func:`texts_for` the recipient's locale instead.
Catalogues are loaded once per process (:func:`load_catalogues` at start-up warms them).
"""

from __future__ import annotations

import contextvars
import gettext as _gettext
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal
from babel.support import Translations

from core.money import format_minor, round_half_even
from core.texts import LOCALES, PLAIN, Texts

__all__ = [
    "DEFAULT_READER",
    "LOCALE_DIR",
    "BabelTexts",
    "Reader",
    "best_locale",
    "current",
    "gettext",
    "load_catalogues",
    "ngettext",
    "reading",
    "texts_for",
]

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"


@dataclass(frozen=True, slots=True)
class Reader:
    """How one person reads: ``time_format`` "hm" (1:30) or "decimal" (1.50 hours)."""

    locale: str = "en"
    time_format: str = "hm"
    week_starts_on: str = "monday"


DEFAULT_READER = Reader()
_reader: contextvars.ContextVar[Reader] = contextvars.ContextVar("stint_reader", default=DEFAULT_READER)


@cache
def catalogue(locale: str) -> _gettext.NullTranslations:
    """The locale's messages (English, the source language, is the msgids themselves)."""
    if locale not in LOCALES or locale == LOCALES[0]:
        return _gettext.NullTranslations()
    return Translations.load(str(LOCALE_DIR), [locale], DOMAIN)


def load_catalogues() -> None:
    """Read every catalogue now, so no request pays for it."""
    for locale in LOCALES:
        catalogue(locale)


def current() -> Reader:
    return _reader.get()


def reading(reader: Reader) -> contextvars.Token[Reader]:
    """Make ``reader`` the current one (for this request or task); returns the reset token."""
    return _reader.set(reader)


def stop_reading(token: contextvars.Token[Reader]) -> None:
    _reader.reset(token)


def gettext(message: str, **values: Any) -> str:
    """``message`` in the current reader's language, ``%(name)s`` fields filled from ``values``."""
    text = catalogue(current().locale).gettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    text = catalogue(current().locale).ngettext(singular, plural, n)
    return text % {"num": n, **values}


def best_locale(accept_language: str | None) -> str:
    """The first of the browser's languages Stint speaks (for pages nobody signed in to)."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().replace("_", "-").lower()
        base = tag.split("-")[0]
        if base in LOCALES:
            return base
    return LOCALES[0]


def valid_locale(tag: str) -> bool:
    try:
        Locale.parse(tag)
    except (UnknownLocaleError, ValueError):
        return False
    return True


# Formatting. English keeps the forms Stint always printed (1,234.56 USD, ISO dates, 1:30),
# so pages and documents read by English users do not change; other locales ask Babel.

def _major(amount: int) -> Decimal:
    return Decimal(amount).scaleb(-2)


def money(amount: int, currency: str, locale: str) -> str:
    if locale == "en":
        return f"{format_minor(amount)} {currency}"
    return format_currency(_major(amount), currency, locale=locale)


def number(value: Fraction | int, places: int, locale: str) -> str:
    """Exact minor units as major units to ``places`` decimals, rounded once, half to even."""
    if locale == "en":
        return PLAIN.number(value, places)
    scaled = round_half_even(Fraction(value) * 10**places / 100)
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(Decimal(scaled).scaleb(-places), format=pattern, locale=locale)


def day(value: date, locale: str) -> str:
    """06.12.2026 in German; ISO (2026-12-06) in English, as before."""
    return value.isoformat() if locale == "en" else format_date(value, "medium", locale=locale)


def moment(value: datetime, locale: str) -> str:
    if locale == "en":
        return f"{value:%Y-%m-%d %H:%M}"
    return f"{format_date(value, 'medium', locale=locale)} {format_time(value, 'HH:mm', locale=locale)}"


def weekday_day(value: date, locale: str) -> str:
    """A day in a week's list: Mon 07 Dec / Mo. 07. Dez."""
    if locale == "en":
        return value.strftime("%a %d %b")
    return format_date(value, "EEE dd. MMM", locale=locale)


def weekday_name(value: date, locale: str) -> str:
    """A column of days: Mon / Mo."""
    return value.strftime("%a") if locale == "en" else format_date(value, "EEE", locale=locale)


def month_title(value: date, locale: str) -> str:
    """A month's heading: January 2026 / Januar 2026."""
    return value.strftime("%B %Y") if locale == "en" else format_date(value, "LLLL yyyy", locale=locale)


def weekday_short(value: date, locale: str) -> str:
    """A day in a row of days: Mon 07 / Mo. 07."""
    if locale == "en":
        return value.strftime("%a %d")
    return format_date(value, "EEE dd.", locale=locale)


def duration(seconds: int | None, time_format: str, locale: str) -> str:
    """1:30 (``hm``) or 1.50 / 1,50 (``decimal`` hours, two places, half to even); under a
    minute with its seconds in either format, 0:00:04 (a short track is kept with its
    seconds and shown as such, docs/tracking.md)."""
    value = int(seconds or 0)
    if 0 < value < 60:
        return f"0:00:{value:02d}"
    if time_format == "decimal":
        hundredths = round_half_even(Fraction(value, 36))
        return number(hundredths, 2, locale)
    return f"{value // 3600}:{value % 3600 // 60:02d}"


class BabelTexts:
    """:class:`core.texts.Texts` for one locale, from its catalogue and Babel's formats."""

    def __init__(self, locale: str) -> None:
        self._locale = locale if locale in LOCALES else LOCALES[0]

    @property
    def locale(self) -> str:
        return self._locale

    def tr(self, message: str, **values: object) -> str:
        text = catalogue(self._locale).gettext(message)
        return text % values if values else text

    def plural(self, singular: str, plural: str, n: int, **values: object) -> str:
        return catalogue(self._locale).ngettext(singular, plural, n) % {"num": n, **values}

    def money(self, amount: int, currency: str) -> str:
        return money(amount, currency, self._locale)

    def day(self, value: date) -> str:
        return day(value, self._locale)

    def moment(self, value: datetime) -> str:
        return moment(value, self._locale)

    def number(self, value: Fraction | int, places: int) -> str:
        return number(value, places, self._locale)


def texts_for(locale: str | None) -> Texts:
    """The reader's language for a mail or document (``None``: English)."""
    return BabelTexts(locale or LOCALES[0])
