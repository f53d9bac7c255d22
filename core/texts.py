"""Words and numbers for a reader: the seam through which the core's mails and documents speak
the recipient's language without the core knowing any catalogue or locale library.

A use case that writes for a person (a mail, an invoice's per-day computation) takes a
:class:`Texts` for that person's locale. The core calls ``tr("English %(name)s", name=…)``;
the adapter (``plugins/i18n``, Babel and gettext catalogues) looks the English message up
in the locale's catalogue and formats dates, numbers and money the locale's way.
:data:`PLAIN` is English with the forms Stint always wrote (``1,234.56 USD``, ISO dates),
for callers and tests that pass none. ``tr`` is the extraction keyword (``babel.cfg``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from fractions import Fraction
from typing import Protocol

from core.money import format_minor, round_half_even

__all__ = ["LOCALES", "N_", "PLAIN", "Language", "PlainTexts", "Texts", "english"]

#: The languages Stint's catalogues hold; the first is what a user without a choice reads.
LOCALES: tuple[str, ...] = ("en", "de")


class Texts(Protocol):
    """One reader's language (a port: the implementation lives in ``plugins/i18n``)."""

    @property
    def locale(self) -> str: ...

    def tr(self, message: str, **values: object) -> str:
        """``message`` in the reader's language, with ``%(name)s`` fields filled from ``values``."""
        ...

    def plural(self, singular: str, plural: str, n: int, **values: object) -> str:
        """The form for ``n`` (``%(num)s`` is ``n``), in the reader's language's plural rules."""
        ...

    def money(self, amount: int, currency: str) -> str: ...

    def day(self, value: date) -> str: ...

    def moment(self, value: datetime) -> str:
        """A local date and time to the minute (``value`` already in the reader's zone)."""
        ...

    def number(self, value: Fraction | int, places: int) -> str:
        """An exact amount of minor units as major units to ``places`` decimals (half-even)."""
        ...


class PlainTexts:
    """English, in the forms every page, mail and PDF used before catalogues existed."""

    locale = "en"

    def tr(self, message: str, **values: object) -> str:
        return message % values if values else message

    def plural(self, singular: str, plural: str, n: int, **values: object) -> str:
        return (singular if n == 1 else plural) % {"num": n, **values}

    def money(self, amount: int, currency: str) -> str:
        return f"{format_minor(amount)} {currency}"

    def day(self, value: date) -> str:
        return value.isoformat()

    def moment(self, value: datetime) -> str:
        return f"{value:%Y-%m-%d %H:%M}"

    def number(self, value: Fraction | int, places: int) -> str:
        scaled = round_half_even(Fraction(value) * 10**places / 100)
        sign = "-" if scaled < 0 else ""
        whole, part = divmod(abs(scaled), 10**places)
        return f"{sign}{whole:,}.{part:0{places}d}"


PLAIN: Texts = PlainTexts()


#: A reader's language by locale code: what a job writing to several people is handed.
Language = Callable[[str], Texts]


def english(locale: str) -> Texts:
    """Every reader gets English (the default where no catalogue is wired in)."""
    return PLAIN


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it here (a label table the
    pages translate when they show it)."""
    return message
