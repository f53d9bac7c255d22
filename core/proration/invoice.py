"""Invoices Stint writes: purchases, proration charges and renewals, paid from credit first.

A positive proration line becomes an invoice; a negative one never does — it
becomes credit in the ledger. Every invoice uses the available credit before
asking the customer for money, so ``amount_due = total − credit applied ≥ 0``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from fractions import Fraction
from typing import Literal

from core.errors import Conflict, ValidationFailed
from core.money import format_minor
from core.periods import Period

from .credit import CreditLedger
from .line import ProrationLine
from .quote import Quote
from .terms import Terms, interval_days

__all__ = [
    "Invoice",
    "InvoiceLine",
    "InvoiceLineKind",
    "InvoiceStatus",
    "LineWork",
    "format_invoice_number",
    "issue_invoice",
    "proration_charge_line",
    "purchase_invoice",
    "renewal_invoice",
    "settle_quote",
]

InvoiceLineKind = Literal["purchase", "proration_charge", "renewal"]
InvoiceStatus = Literal["due", "paid", "void"]


@dataclass(frozen=True, slots=True)
class CreditNote:
    """A document that lowers one invoice's amount due; the invoice keeps its lines and total.

    ``description``, ``days_left``, ``period_days`` and ``exact_amount`` are the day
    arithmetic of the proration line the credit came from, so the note shows its work.
    """

    id: str
    invoice_id: str
    amount: int
    reason: str
    description: str
    issued_on: date
    days_left: int
    period_days: int
    exact_amount: Fraction
    currency: str = "USD"

    def __post_init__(self) -> None:
        if type(self.amount) is not int or self.amount <= 0:
            raise ValidationFailed(
                f"a credit note credits a positive amount: {self.amount!r}", field="amount"
            )


#: The printed form of an invoice number: the year of issue and the account's sequence.
NUMBER_PREFIX = "STINT"


def format_invoice_number(issued_on: date, number: int) -> str | None:
    """``STINT-2026-000123``: the year the invoice was issued and its number in the billing
    account's one sequence (it does not restart each year); None before it has a number."""
    if number <= 0:
        return None
    return f"{NUMBER_PREFIX}-{issued_on.year:04d}-{number:06d}"


@dataclass(frozen=True, slots=True)
class LineWork:
    """The per-day arithmetic behind a prorated line, kept so the invoice can show it.

    ``L`` days were left of a ``period_days``-day period on the change day. A day of the
    old terms was worth ``old_seats × old_seat_price / old_days``, a day of the new ones
    ``new_seats × new_seat_price / new_days`` (the days of each interval from the period's
    start); the line is ``L × (new day value − old day value)``, exact, rounded once.
    """

    days_left: int
    period_days: int
    old_seats: int
    old_seat_price: int
    old_days: int
    new_seats: int
    new_seat_price: int
    new_days: int
    exact_amount: Fraction

    @property
    def old_day_value(self) -> Fraction:
        return Fraction(self.old_seats * self.old_seat_price, self.old_days)

    @property
    def new_day_value(self) -> Fraction:
        return Fraction(self.new_seats * self.new_seat_price, self.new_days)

    @classmethod
    def of(cls, line: ProrationLine) -> LineWork:
        return cls(
            days_left=line.days_left,
            period_days=line.period_days,
            old_seats=line.old.seats,
            old_seat_price=line.old.seat_price,
            old_days=interval_days(line.period, line.old.interval),
            new_seats=line.new.seats,
            new_seat_price=line.new.seat_price,
            new_days=interval_days(line.period, line.new.interval),
            exact_amount=line.exact_amount,
        )


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One charge on an invoice, for the service days ``[starts_on, ends_on)``.

    ``work`` is the per-day arithmetic of a prorated line (None for whole periods, and for
    prorated lines stored before it was kept).
    """

    kind: InvoiceLineKind
    description: str
    amount: int
    starts_on: date
    ends_on: date
    work: LineWork | None = None

    def __post_init__(self) -> None:
        if type(self.amount) is not int or self.amount < 0:
            # Money owed to the customer is credit, never a negative invoice line.
            raise ValidationFailed(f"an invoice line is a charge ≥ 0: {self.amount!r}", field="amount")


@dataclass(frozen=True, slots=True)
class Invoice:
    """An invoice: its lines, their total, the credit applied and what is left to pay.

    ``amount_due = total − credit_applied − Σ credit notes``: a credit note lowers what is
    left to pay and leaves the lines and total as they were issued.
    """

    id: str
    issued_on: date
    lines: tuple[InvoiceLine, ...]
    total: int
    credit_applied: int
    amount_due: int
    status: InvoiceStatus
    currency: str = "USD"
    credit_notes: tuple[CreditNote, ...] = ()
    #: The billing account's sequence number, given when the invoice is stored (0: not yet).
    number: int = 0

    @property
    def number_text(self) -> str | None:
        """The human invoice number, ``STINT-2026-000123`` (None before it is stored)."""
        return format_invoice_number(self.issued_on, self.number)

    @property
    def credited(self) -> int:
        """What credit notes took off this invoice."""
        return sum(note.amount for note in self.credit_notes)

    def mark_paid(self) -> Invoice:
        """The invoice paid; paying it again changes nothing (webhooks arrive twice)."""
        if self.status == "void":
            raise Conflict(f"invoice {self.id} is void and cannot be paid")
        return self if self.status == "paid" else replace(self, status="paid")

    def void(self, ledger: CreditLedger, *, on: date) -> tuple[Invoice, CreditLedger]:
        """The invoice voided, and the credit it had used given back to the ledger."""
        if self.status == "paid":
            raise Conflict(f"invoice {self.id} is paid and cannot be voided")
        if self.status == "void":
            return self, ledger
        if self.credit_applied:
            ledger = ledger.add_credit(
                self.credit_applied, "credit returned from a void invoice", self.id, on
            )
        return replace(self, status="void"), ledger


def issue_invoice(
    id: str,
    issued_on: date,
    lines: tuple[InvoiceLine, ...],
    ledger: CreditLedger,
    currency: str = "USD",
) -> tuple[Invoice, CreditLedger]:
    """An invoice for ``lines``, paid from ``ledger`` first: (the invoice, the ledger after)."""
    if not lines:
        raise ValidationFailed("an invoice needs at least one line", field="lines")
    if ledger.currency != currency:
        raise ValidationFailed(
            f"credit in {ledger.currency} cannot pay an invoice in {currency}", field="currency"
        )
    total = sum(line.amount for line in lines)
    applied, ledger = ledger.apply_to(total, reference=id, on=issued_on)
    due = total - applied
    # Fully covered by credit means nothing is left to collect: it is paid now.
    status: InvoiceStatus = "paid" if due == 0 else "due"
    return Invoice(id, issued_on, lines, total, applied, due, status, currency), ledger


def _seats_line(kind: InvoiceLineKind, terms: Terms, period: Period) -> InvoiceLine:
    text = (
        f"{terms.plan_label} {terms.interval.value}: {terms.seats} seats × {format_minor(terms.seat_price)}"
    )
    return InvoiceLine(kind, text, terms.amount, period.start, period.end)


def purchase_invoice(
    id: str, terms: Terms, period: Period, ledger: CreditLedger, currency: str = "USD"
) -> tuple[Invoice, CreditLedger]:
    """The first invoice: seats × seat price for the whole first period, issued on its start."""
    return issue_invoice(id, period.start, (_seats_line("purchase", terms, period),), ledger, currency)


def renewal_invoice(
    id: str, terms: Terms, period: Period, ledger: CreditLedger, currency: str = "USD"
) -> tuple[Invoice, CreditLedger]:
    """A renewal: seats × seat price for the whole new period, paid from credit first."""
    return issue_invoice(id, period.start, (_seats_line("renewal", terms, period),), ledger, currency)


def proration_charge_line(line: ProrationLine) -> InvoiceLine:
    """The invoice line for a positive proration line, covering ``[on, period end)``."""
    if line.amount <= 0:
        raise ValidationFailed("only a charge becomes an invoice line; credit goes to the ledger")
    return InvoiceLine(
        "proration_charge", line.description, line.amount, line.on, line.period.end, LineWork.of(line)
    )


def settle_quote(
    quote: Quote, ledger: CreditLedger, *, invoice_id: str
) -> tuple[Invoice | None, CreditLedger]:
    """Apply a quoted change when no invoice of the period is unpaid: its charges on one
    invoice, its credits in the ledger (:func:`~.settlement.settle_change` is the whole rule).

    ``invoice_id`` also references any credit entry, so both trace back to the change.
    """
    for line in quote.lines:
        if line.amount < 0:
            ledger = ledger.add_credit(-line.amount, line.description, invoice_id, line.on)
    charges = tuple(proration_charge_line(line) for line in quote.lines if line.amount > 0)
    if not charges:
        return None, ledger
    return issue_invoice(invoice_id, quote.on, charges, ledger, quote.currency)
