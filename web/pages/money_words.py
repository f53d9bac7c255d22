"""What a purchase or a change costs, in one plain sentence for the confirmation:
"Pay 432.00 USD now, renews on 2027-12-06 at 432.00 USD." The per-day arithmetic stays in
the quote (folded under "How is this computed?"); this is what a buyer reads first.

``confirmation_key`` is what the confirmed sentence was about (the terms and the amount):
the page sends it back with the confirmation, and a purchase or change whose key no longer
matches (the form changed after the sentence was shown) is not made but shown again.
"""

from __future__ import annotations

from datetime import date

from core.money import format_minor
from core.proration import Quote

__all__ = ["change_sentence", "confirmation_key", "purchase_sentence"]


def _money(amount: int, currency: str) -> str:
    return f"{format_minor(amount)} {currency}"


def _renews(on: date, amount: int, currency: str) -> str:
    if amount == 0:
        return f"renews on {on.isoformat()} free of charge"
    return f"renews on {on.isoformat()} at {_money(amount, currency)}"


def _pay_now(total: int, credit: int, currency: str) -> str:
    used = min(max(credit, 0), total)
    if used == 0:
        return f"Pay {_money(total, currency)} now"
    if used == total:
        return f"Pay nothing now ({_money(total, currency)} comes out of your credit balance)"
    return (
        f"Pay {_money(total - used, currency)} now ({_money(total, currency)} less"
        f" {_money(used, currency)} of credit)"
    )


def purchase_sentence(*, total: int, credit: int, renews_on: date, currency: str) -> str:
    """Buy Now: the first period's price now (credit first), then the same at each renewal."""
    return f"{_pay_now(total, credit, currency)}, {_renews(renews_on, total, currency)}."


def change_sentence(quote: Quote, *, credit: int, against_invoices: int = 0) -> str:
    """A change: what is paid or credited today, and what the next renewal costs."""
    c = quote.currency
    renews_on = quote.scheduled_for or quote.period.end
    renewal = _renews(renews_on, quote.new.amount, c)
    if quote.scheduled_for is not None:
        then = (
            "from then on it is free of charge" if quote.new.amount == 0
            else f"it renews then at {_money(quote.new.amount, c)}"
        )
        return f"Nothing to pay now: the change takes effect on {quote.scheduled_for.isoformat()}; {then}."
    if quote.total > 0:
        return f"{_pay_now(quote.total, credit, c)}, {renewal}."
    if quote.total < 0:
        back = -quote.total
        to_balance = back - against_invoices
        parts = []
        if against_invoices:
            parts.append(f"{_money(against_invoices, c)} comes off your unpaid invoices")
        if to_balance:
            parts.append(f"{_money(to_balance, c)} goes to your credit balance")
        return f"Nothing to pay now: {' and '.join(parts)}; it {renewal}."
    return f"Nothing to pay now; it {renewal}."


def confirmation_key(plan: str, interval: str, seats: int | None, total: int) -> str:
    return f"{plan}|{interval}|{seats if seats is not None else ''}|{total}"


