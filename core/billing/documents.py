"""The invoice as a document (a PDF): who sells, who buys, and the invoice with its work.

Rendering is an adapter's job (``plugins/invoice_pdf.py``); what the document must say is
decided here and in :func:`explain_line`, so every rendering shows the same arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from core.proration import Invoice, InvoiceLine
from core.texts import PLAIN, Texts

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
    #: The reader's language; English when left out.
    texts: Texts = PLAIN


class InvoiceRenderer(Protocol):
    """Turns an invoice document into a file (PDF)."""

    media_type: str

    def render(self, document: InvoiceDocument) -> bytes: ...


def day_amount_text(value: Fraction, places: int = 4) -> str:
    """An exact amount of minor units as major units with ``places`` decimals (half-even):
    the precision the quote shows its day values with."""
    return PLAIN.number(value, places)


def explain_line(line: InvoiceLine, currency: str, texts: Texts = PLAIN) -> tuple[str, ...]:
    """The per-day computation of a prorated line, in words, one sentence a line; empty for
    a line that bills whole periods (or a prorated one stored before the work was kept).
    ``texts`` is the reader's language (English, as always, when left out)."""
    work = line.work
    if work is None:
        return ()
    t = texts
    old, new = work.old_day_value, work.new_day_value
    old_total = t.number(work.old_seats * work.old_seat_price, 2)
    new_total = t.number(work.new_seats * work.new_seat_price, 2)
    # Each day value as the exact fraction the arithmetic uses, and to four places to read.
    old_exact, new_exact = f"{old_total}/{work.old_days}", f"{new_total}/{work.new_days}"
    return (
        t.tr("L = %(left)s days left of the %(days)s-day period (%(start)s to %(end)s,"
             " the day of the change counted).",
             left=work.days_left, days=work.period_days, start=t.day(line.starts_on),
             end=t.day(line.ends_on)),
        t.tr("Day value before: %(seats)s seats × %(price)s / %(days)s days"
             " = %(exact)s = %(value)s %(currency)s.",
             seats=work.old_seats, price=t.number(work.old_seat_price, 2), days=work.old_days,
             exact=old_exact, value=t.number(old, 4), currency=currency),
        t.tr("Day value after: %(seats)s seats × %(price)s / %(days)s days"
             " = %(exact)s = %(value)s %(currency)s.",
             seats=work.new_seats, price=t.number(work.new_seat_price, 2), days=work.new_days,
             exact=new_exact, value=t.number(new, 4), currency=currency),
        t.tr("Amount = L × (day value after - day value before) = %(left)s × (%(new)s - %(old)s)"
             " = %(exact)s %(currency)s"
             " (day values exact; shown to four places above), rounded once, half to even, to the cent:"
             " %(amount)s.",
             left=work.days_left, new=new_exact, old=old_exact, exact=t.number(work.exact_amount, 4),
             currency=currency, amount=t.money(line.amount, currency)),
    )
