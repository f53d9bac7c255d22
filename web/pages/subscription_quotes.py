"""What the Subscription page's Buy Now and change forms hold, and the previews they show
(``subscription.py`` is the page): the seats, plan and interval posted, the amount Buy Now
would charge, and the one sentence the buyer confirms (``money_words.py``), whose key the
form posts back so that only what was confirmed is bought or changed."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar.enums import RequestEncodingType
from litestar.params import Body

from core.clock import today_in
from core.errors import ValidationFailed
from core.periods import Interval, first_period
from core.services.changes import ChangePreview
from core.services.subscriptions import view_subscription
from plugins.bootstrap import Stint

from .money_words import change_sentence, confirmation_key, purchase_sentence
from .render import Page

__all__ = ["PlanBody", "PlanForm", "buy_now_preview", "change_words", "seats_of"]

_URL_ENCODED = Body(media_type=RequestEncodingType.URL_ENCODED)


class PlanForm(msgspec.Struct):
    plan: Annotated[str, msgspec.Meta(max_length=32)] = ""
    interval: Literal["", "monthly", "annual"] = ""
    seats: Annotated[str, msgspec.Meta(max_length=9)] = ""
    #: The terms and amount of the sentence the buyer confirmed (money_words.confirmation_key).
    confirmed: Annotated[str, msgspec.Meta(max_length=120)] = ""


PlanBody = Annotated[PlanForm, _URL_ENCODED]


def seats_of(text: str, *, required: bool) -> int | None:
    if not text.strip():
        if required:
            raise ValidationFailed("say how many seats", field="seats")
        return None
    try:
        seats = int(text.strip())
    except ValueError:
        raise ValidationFailed(f"{text!r} is not a number of seats", field="seats") from None
    if not 1 <= seats <= 1_000_000:
        raise ValidationFailed("seats must be between 1 and 1,000,000", field="seats")
    return seats


async def buy_now_preview(
    stint: Stint, page: Page, plan_id: str, interval_text: str, seats: int, *, credit: int | None = None
) -> dict[str, Any]:
    """What Buy Now would charge: seats × the plan's price for the interval, the renewal day,
    and the one sentence the buyer confirms."""
    tenant = page.principal.tenant
    async with stint.uow() as work:
        plan = (await work.directory.catalogue.load()).get(plan_id)
    interval = Interval(interval_text or "annual")
    if credit is None:
        credit = (await view_subscription(stint.uow, stint.clock, tenant=tenant)).credit_balance
    total = seats * plan.seat_price(interval)
    renews_on = first_period(today_in(stint.clock, tenant.time_zone), interval).end
    return {
        "plan": plan,
        "interval": interval,
        "seats": seats,
        "seat_price": plan.seat_price(interval),
        "total": total,
        "currency": plan.currency,
        "renews_on": renews_on,
        "sentence": purchase_sentence(
            total=total, credit=credit, renews_on=renews_on, currency=plan.currency
        ),
        "key": confirmation_key(plan.id, interval.value, seats, total),
    }


def change_words(preview: ChangePreview, data: PlanForm, credit: int) -> dict[str, Any]:
    quote = preview.quote
    return {
        "sentence": change_sentence(quote, credit=credit, against_invoices=preview.against_invoices),
        "key": confirmation_key(data.plan, data.interval, seats_of(data.seats, required=False), quote.total),
    }
