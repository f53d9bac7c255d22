"""Money as integer minor units plus an ISO currency, and the one rounding rule.

Amounts are computed with exact rationals (:class:`fractions.Fraction`) and
rounded exactly once per line, half-even, to the minor unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

__all__ = ["Money", "format_minor", "round_half_even"]


def round_half_even(value: Fraction) -> int:
    """Round an exact amount of minor units to an integer, ties to even.

    ``round()`` on a Fraction already rounds half to even; it is named here so
    that every place that rounds money says so, and so there is one to grep for.
    """
    return round(value)


def format_minor(amount: int, *, exponent: int = 2) -> str:
    """Render minor units as a plain decimal with a thousands separator: 544060 → '5,440.60'."""
    sign = "-" if amount < 0 else ""
    whole, part = divmod(abs(amount), 10**exponent)
    return f"{sign}{whole:,}.{part:0{exponent}d}" if exponent else f"{sign}{whole:,}"


@dataclass(frozen=True, slots=True, order=True)
class Money:
    """An amount of money: integer minor units (cents) of one ISO currency."""

    amount: int
    currency: str = "USD"

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an int of minor units")
        if len(self.currency) != 3 or not self.currency.isupper():
            raise ValueError(f"not an ISO currency code: {self.currency!r}")

    @classmethod
    def zero(cls, currency: str = "USD") -> Money:
        return cls(0, currency)

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __str__(self) -> str:
        return f"{format_minor(self.amount)} {self.currency}"

    def as_dict(self) -> dict[str, int | str]:
        """The wire form of API.md: ``{"amount": <int minor units>, "currency": "USD"}``."""
        return {"amount": self.amount, "currency": self.currency}
