"""The invoice as a document (a PDF): who sells, who buys, and the invoice with its work.

Rendering is an adapter's job (``plugins/invoice_pdf.py``); what the document must say is
decided here and in :func:`explain_line`, so every rendering shows the same arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from core.money import format_minor, round_half_even
from core.proration import Invoice, InvoiceLine

__all__ = ["InvoiceDocument", "InvoiceRenderer", "Party", "day_amount_text", "explain_line"]


@dataclass(frozen=True, slots=True)
class Party:
    """A seller or a buyer as the document names them: a name and the lines under it."""

    name: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    """Everything a rendered invoice shows. ``account`` is the billing account (subscription)
    id, which an on-premises activation also asks for."""

    invoice: Invoice
    kind: str
    seller: Party
    buyer: Party
    account: str


class InvoiceRenderer(Protocol):
    """Turns an invoice document into a file (PDF)."""

    media_type: str

    def render(self, document: InvoiceDocument) -> bytes: ...


def day_amount_text(value: Fraction, places: int = 4) -> str:
    """An exact amount of minor units as major units with ``places`` decimals (half-even):
    the precision the quote shows its day values with."""
    scaled = round_half_even(value * 10**places / 100)
    sign = "-" if scaled < 0 else ""
    whole, part = divmod(abs(scaled), 10**places)
    return f"{sign}{whole:,}.{part:0{places}d}"


def explain_line(line: InvoiceLine, currency: str) -> tuple[str, ...]:
    """The per-day computation of a prorated line, in words, one sentence a line; empty for
    a line that bills whole periods (or a prorated one stored before the work was kept)."""
    work = line.work
    if work is None:
        return ()
    old, new = work.old_day_value, work.new_day_value
    old_total = format_minor(work.old_seats * work.old_seat_price)
    new_total = format_minor(work.new_seats * work.new_seat_price)
    # Each day value as the exact fraction the arithmetic uses, and to four places to read.
    old_exact, new_exact = f"{old_total}/{work.old_days}", f"{new_total}/{work.new_days}"
    return (
        f"L = {work.days_left} days left of the {work.period_days}-day period "
        f"({line.starts_on.isoformat()} to {line.ends_on.isoformat()}, the day of the change counted).",
        f"Day value before: {work.old_seats} seats × {format_minor(work.old_seat_price)}"
        f" / {work.old_days} days = {old_exact} = {day_amount_text(old)} {currency}.",
        f"Day value after: {work.new_seats} seats × {format_minor(work.new_seat_price)}"
        f" / {work.new_days} days = {new_exact} = {day_amount_text(new)} {currency}.",
        f"Amount = L × (day value after - day value before) = {work.days_left} × "
        f"({new_exact} - {old_exact}) = {day_amount_text(work.exact_amount)} {currency}"
        f" (day values exact; shown to four places above),"
        f" rounded once, half to even, to the cent: {format_minor(line.amount)} {currency}.",
    )
