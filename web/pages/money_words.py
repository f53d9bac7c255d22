"""What a purchase or a change costs, in one plain sentence for the confirmation:
"Pay 432.00 USD now, renews on 2027-12-06 at 432.00 USD." The per-day arithmetic stays in
the quote (folded under "How is this computed?"); this is what a buyer reads first.

``confirmation_key`` is what the confirmed sentence was about (the terms and the amount):
the page sends it back with the confirmation, and a purchase or change whose key no longer
matches (the form changed after the sentence was shown) is not made but shown again.
"""

from __future__ import annotations

from datetime import date

from core.proration import Quote
from plugins import i18n
from plugins.i18n import gettext

__all__ = ["change_sentence", "confirmation_key", "purchase_sentence"]

# Each clause is a message of its own and each way of joining them too, so a language can
# order them (German: "…; das Abonnement verlängert sich am …"). Amounts and dates are in the
# reader's format; English keeps "432.00 USD" and ISO dates.


def _money(amount: int, currency: str) -> str:
    return i18n.money(amount, currency, i18n.current().locale)


def _day(on: date) -> str:
    return i18n.day(on, i18n.current().locale)


def _renews(on: date, amount: int, currency: str) -> str:
    if amount == 0:
        return gettext("renews on %(day)s free of charge", day=_day(on))
    return gettext("renews on %(day)s at %(amount)s", day=_day(on), amount=_money(amount, currency))


def _pay_now(total: int, credit: int, currency: str) -> str:
    used = min(max(credit, 0), total)
    if used == 0:
        return gettext("Pay %(amount)s now", amount=_money(total, currency))
    if used == total:
        return gettext("Pay nothing now (%(amount)s comes out of your credit balance)",
                       amount=_money(total, currency))
    return gettext("Pay %(due)s now (%(total)s less %(credit)s of credit)",
                   due=_money(total - used, currency), total=_money(total, currency),
                   credit=_money(used, currency))


def purchase_sentence(*, total: int, credit: int, renews_on: date, currency: str) -> str:
    """Buy Now: the first period's price now (credit first), then the same at each renewal."""
    return gettext("%(pay)s, %(renews)s.", pay=_pay_now(total, credit, currency),
                   renews=_renews(renews_on, total, currency))


def change_sentence(quote: Quote, *, credit: int, against_invoices: int = 0) -> str:
    """A change: what is paid or credited today, and what the next renewal costs."""
    c = quote.currency
    renews_on = quote.scheduled_for or quote.period.end
    renewal = _renews(renews_on, quote.new.amount, c)
    if quote.scheduled_for is not None:
        then = (
            gettext("from then on it is free of charge") if quote.new.amount == 0
            else gettext("it renews then at %(amount)s", amount=_money(quote.new.amount, c))
        )
        return gettext("Nothing to pay now: the change takes effect on %(day)s; %(then)s.",
                       day=_day(quote.scheduled_for), then=then)
    if quote.total > 0:
        return gettext("%(pay)s, %(renews)s.", pay=_pay_now(quote.total, credit, c), renews=renewal)
    if quote.total < 0:
        back = -quote.total
        to_balance = back - against_invoices
        parts = []
        if against_invoices:
            parts.append(gettext("%(amount)s comes off your unpaid invoices",
                                 amount=_money(against_invoices, c)))
        if to_balance:
            parts.append(gettext("%(amount)s goes to your credit balance", amount=_money(to_balance, c)))
        said = (gettext("%(first)s and %(second)s", first=parts[0], second=parts[1]) if len(parts) == 2
                else parts[0])
        return gettext("Nothing to pay now: %(parts)s; it %(renews)s.", parts=said, renews=renewal)
    return gettext("Nothing to pay now; it %(renews)s.", renews=renewal)


def confirmation_key(plan: str, interval: str, seats: int | None, total: int) -> str:
    return f"{plan}|{interval}|{seats if seats is not None else ''}|{total}"


