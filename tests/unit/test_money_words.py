"""The one sentence a buyer confirms (web/pages/money_words.py): what is paid now, where a
credit goes, and when the subscription renews at what price."""

from __future__ import annotations

from datetime import date

from core.periods import Interval, first_period
from core.proration import Change, Quote, Terms, quote_change
from plugins import i18n
from web.pages.money_words import change_sentence, confirmation_key, purchase_sentence

YEAR = first_period(date(2026, 1, 1), Interval.ANNUAL)
TEAM = Terms("team", Interval.ANNUAL, 10, 14_400, plan_name="Team")


def _quote(change: Change, on: date = date(2026, 1, 1)) -> Quote:
    prices = {
        ("team", Interval.ANNUAL): 14_400, ("team", Interval.MONTHLY): 1_500,
        ("free", Interval.ANNUAL): 0, ("free", Interval.MONTHLY): 0,
    }
    return quote_change(TEAM, YEAR, on, change, lambda p, i: prices[(p, i)], lambda p: p == "free")


def test_a_purchase_says_the_amount_now_and_the_renewal() -> None:
    assert purchase_sentence(total=43_200, credit=0, renews_on=date(2027, 12, 6), currency="USD") == (
        "Pay 432.00 USD now, renews on 2027-12-06 at 432.00 USD."
    )


def test_credit_on_the_account_is_named_when_it_pays_part_or_all() -> None:
    part = purchase_sentence(total=43_200, credit=10_000, renews_on=date(2027, 12, 6), currency="USD")
    assert part == (
        "Pay 332.00 USD now (432.00 USD less 100.00 USD of credit), renews on 2027-12-06 at 432.00 USD."
    )
    whole = purchase_sentence(total=43_200, credit=50_000, renews_on=date(2027, 12, 6), currency="USD")
    assert whole.startswith("Pay nothing now (432.00 USD comes out of your credit balance), renews on")


def test_an_increase_is_paid_now_and_renews_at_the_new_terms() -> None:
    quote = _quote(Change(seats=12))
    assert change_sentence(quote, credit=0) == "Pay 288.00 USD now, renews on 2027-01-01 at 1,728.00 USD."


def test_a_decrease_says_what_comes_off_unpaid_invoices_and_what_becomes_credit() -> None:
    quote = _quote(Change(seats=5))  # −720.00 on the first day
    assert change_sentence(quote, credit=0, against_invoices=50_000) == (
        "Nothing to pay now: 500.00 USD comes off your unpaid invoices and 220.00 USD goes to your"
        " credit balance; it renews on 2027-01-01 at 720.00 USD."
    )
    assert change_sentence(quote, credit=0) == (
        "Nothing to pay now: 720.00 USD goes to your credit balance; it renews on 2027-01-01 at 720.00 USD."
    )


def test_a_move_to_free_is_scheduled_for_the_period_end() -> None:
    quote = _quote(Change(plan_id="free"))
    assert change_sentence(quote, credit=0) == (
        "Nothing to pay now: the change takes effect on 2027-01-01; from then on it is free of charge."
    )


def test_the_confirmation_key_changes_with_the_terms_or_the_amount() -> None:
    assert confirmation_key("team", "annual", 3, 43_200) == "team|annual|3|43200"
    assert confirmation_key("team", "annual", 4, 57_600) != confirmation_key("team", "annual", 3, 43_200)
    assert confirmation_key("", "", None, 0) == "|||0"


def test_a_german_buyer_reads_the_sentence_in_german_with_german_money_and_dates() -> None:
    """It was English ("Pay 432.00 USD now, renews on 2027-12-06 …") on the German Subscription
    page, under German labels: the sentence the buyer confirms with money."""
    token = i18n.reading(i18n.Reader(locale="de"))
    try:
        bought = purchase_sentence(total=43_200, credit=10_000, renews_on=date(2027, 12, 6), currency="EUR")
        smaller = change_sentence(_quote(Change(seats=5)), credit=0, against_invoices=50_000)
        free = change_sentence(_quote(Change(plan_id="free")), credit=0)
    finally:
        i18n.stop_reading(token)
    assert bought == ("Jetzt 332,00\xa0€ zahlen (432,00\xa0€ abzüglich 100,00\xa0€ Guthaben); "
                      "das Abonnement verlängert sich am 06.12.2027 zu 432,00\xa0€.")
    assert smaller == ("Jetzt nichts zu zahlen: 500,00\xa0$ werden von Ihren offenen Rechnungen abgezogen "
                       "und 220,00\xa0$ werden Ihrem Guthaben gutgeschrieben; das Abonnement verlängert sich "
                       "am 01.01.2027 zu 720,00\xa0$.")
    assert free == "Jetzt nichts zu zahlen: Die Änderung gilt ab 01.01.2027; ab dann ist es kostenlos."
