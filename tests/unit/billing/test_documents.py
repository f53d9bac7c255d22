"""What an invoice document says about a prorated line (core.billing.explain_line)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from core.billing import explain_line
from core.billing.documents import day_amount_text
from core.periods import Interval, first_period
from core.proration import Change, CreditLedger, Terms, purchase_invoice, quote_change, settle_quote

YEAR = first_period(date(2026, 1, 1), Interval.ANNUAL)
TEAM = Terms("team", Interval.ANNUAL, 10, 14_400, plan_name="Team")


def _charged(change: Change, on: date) -> tuple[str, ...]:
    prices = {Interval.ANNUAL: 14_400, Interval.MONTHLY: 1_500}
    quote = quote_change(TEAM, YEAR, on, change, lambda plan, interval: prices[interval], lambda plan: False)
    invoice, _ = settle_quote(quote, CreditLedger(), invoice_id="inv")
    assert invoice is not None
    [line] = invoice.lines
    return explain_line(line, "USD")


def test_day_amounts_read_as_major_units_to_four_places_half_even() -> None:
    assert day_amount_text(Fraction(144_000, 365)) == "3.9452"
    assert day_amount_text(Fraction(1, 200)) == "0.0000"  # 0.00005 → even
    assert day_amount_text(Fraction(3, 200)) == "0.0002"  # 0.00015 → even
    assert day_amount_text(Fraction(-123_456_789, 1)) == "-1,234,567.8900"


def test_a_seat_increase_shows_l_both_day_values_and_the_formula() -> None:
    said = _charged(Change(seats=50), date(2026, 1, 22))
    assert said[0].startswith("L = 344 days left of the 365-day period (2026-01-22 to 2027-01-01")
    assert said[1] == "Day value before: 10 seats × 144.00 / 365 days = 1,440.00/365 = 3.9452 USD."
    assert said[2] == "Day value after: 50 seats × 144.00 / 365 days = 7,200.00/365 = 19.7260 USD."
    assert "= 344 × (7,200.00/365 - 1,440.00/365) = 5,428.6027 USD" in said[3]
    assert said[3].endswith("to the cent: 5,428.60 USD.")


def test_an_interval_change_gives_each_day_value_its_own_interval_days() -> None:
    # Annual 10 seats → monthly 10 seats on day 0: a monthly day is 150.00/31 against 1,440.00/365.
    said = _charged(Change(interval=Interval.MONTHLY, seats=20), date(2026, 1, 1))
    assert "/ 365 days = 1,440.00/365" in said[1]
    assert "20 seats × 15.00 / 31 days = 300.00/31" in said[2]


def test_a_whole_period_line_has_no_per_day_work() -> None:
    invoice, _ = purchase_invoice("inv", TEAM, YEAR, CreditLedger())
    assert explain_line(invoice.lines[0], "USD") == ()
