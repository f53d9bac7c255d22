"""``/settings/subscription`` (collection admins only): the subscription, Buy Now with a
preview, seat/plan/interval changes with a live per-day quote, cancel and resume,
invoices, and on-premises activation. The use cases are the API's
(``core.services.subscriptions`` and ``core.services.changes``)."""

from __future__ import annotations

import importlib
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from core.errors import ValidationFailed
from core.licensing.access import Action
from core.licensing.deployment import Deployment
from core.periods import Interval
from core.services.changes import RequestedChange, change_subscription, quote_subscription_change
from core.services.subscriptions import (
    cancel_subscription,
    purchase,
    resume_subscription,
    view_subscription,
)

from .render import Page, open_page, render, stint_of

__all__ = ["SubscriptionPageController"]

_URL_ENCODED = Body(media_type=RequestEncodingType.URL_ENCODED)


class PlanForm(msgspec.Struct):
    plan: Annotated[str, msgspec.Meta(max_length=32)] = ""
    interval: Literal["", "monthly", "annual"] = ""
    seats: Annotated[str, msgspec.Meta(max_length=9)] = ""


PlanBody = Annotated[PlanForm, _URL_ENCODED]


def _seats(text: str, *, required: bool) -> int | None:
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


def _activation_service() -> Any:
    """The activation engineer's use cases, when they exist in this build (else None)."""
    try:
        return importlib.import_module("core.services.activation")
    except ImportError:
        return None


async def _context(request: Request[Any, Any, Any], page: Page, **extra: Any) -> dict[str, Any]:
    stint = stint_of(request)
    tenant = page.principal.tenant
    view = await view_subscription(stint.uow, stint.clock, tenant=tenant)
    async with stint.uow() as work:
        catalogue = await work.directory.catalogue.load()
        invoices = await (await work.tenant(tenant.id).billing()).list(after="", limit=50)
    plans = [p for p in catalogue if p.purchasable and tenant.deployment in p.deployments]
    sub = view.subscription
    current = catalogue.get(sub.plan_id) if sub.plan_id in {p.id for p in catalogue} else None
    return page.context(
        view=view,
        sub=sub,
        current_plan=current,
        plans=plans,
        invoices=[invoice for invoice, _ in invoices],
        paid_period=sub.period is not None and sub.seats is not None and sub.interval is not None,
        activation=_activation_service() if tenant.deployment is Deployment.ONPREM else None,
        **extra,
    )


def _full_or(request: Request[Any, Any, Any], partial: str, context: dict[str, Any]) -> Template:
    return render(request, "settings/subscription.html", partial, context)


class SubscriptionPageController(Controller):
    path = "/settings/subscription"
    include_in_schema = False

    @get("/", name="subscription")
    async def show(self, request: Request[Any, Any, Any]) -> Template:
        page = await open_page(request, Action.VIEW_SUBSCRIPTION)
        return _full_or(request, "settings/_subscription.html", await _context(request, page))

    @post("/purchase-preview", status_code=200)
    async def purchase_preview(self, request: Request[Any, Any, Any], data: PlanBody) -> Template:
        """Buy Now's preview: the first invoice is seats × the plan's price for the interval."""
        page = await open_page(request, Action.PURCHASE)
        stint = stint_of(request)
        seats = _seats(data.seats, required=True)
        assert seats is not None
        async with stint.uow() as work:
            plan = (await work.directory.catalogue.load()).get(data.plan)
        interval = Interval(data.interval or "annual")
        context = page.context(
            plan=plan,
            interval=interval,
            seats=seats,
            seat_price=plan.seat_price(interval),
            total=seats * plan.seat_price(interval),
            currency=plan.currency,
        )
        return render(request, "settings/subscription.html", "settings/_purchase_preview.html", context)

    @post("/purchase", status_code=200)
    async def buy(self, request: Request[Any, Any, Any], data: PlanBody) -> Template:
        page = await open_page(request, Action.PURCHASE)
        stint = stint_of(request)
        p = page.principal
        seats = _seats(data.seats, required=True)
        assert seats is not None
        _, invoice = await purchase(
            stint.uow,
            stint.billing,
            stint.clock,
            tenant=p.tenant,
            actor=p.user,
            plan_id=data.plan,
            interval=data.interval or "annual",
            seats=seats,
        )
        # Ask again: the banner (and everything else) now follows the new subscription.
        page = await open_page(request, Action.VIEW_SUBSCRIPTION)
        context = await _context(
            request, page, done=f"Bought. Invoice {invoice.id} was issued.", banner_oob=True
        )
        return _full_or(request, "settings/_subscription_and_banner.html", context)

    @post("/quote", status_code=200)
    async def quote(self, request: Request[Any, Any, Any], data: PlanBody) -> Template:
        page = await open_page(request, Action.MANAGE_SUBSCRIPTION)
        stint = stint_of(request)
        quote = await quote_subscription_change(
            stint.uow,
            stint.clock,
            tenant=page.principal.tenant,
            requested=RequestedChange(
                seats=_seats(data.seats, required=False),
                plan_id=data.plan or None,
                interval=data.interval or None,
            ),
        )
        context = page.context(quote=quote)
        return render(request, "settings/subscription.html", "settings/_quote.html", context)

    @post("/change", status_code=200)
    async def change(self, request: Request[Any, Any, Any], data: PlanBody) -> Template:
        page = await open_page(request, Action.MANAGE_SUBSCRIPTION)
        stint = stint_of(request)
        p = page.principal
        result = await change_subscription(
            stint.uow,
            stint.billing,
            stint.clock,
            tenant=p.tenant,
            actor=p.user,
            requested=RequestedChange(
                seats=_seats(data.seats, required=False),
                plan_id=data.plan or None,
                interval=data.interval or None,
            ),
        )
        done = "Changed." + (f" Invoice {result.invoice.id} was issued." if result.invoice else "")
        context = await _context(request, page, done=done, quote=result.quote)
        return _full_or(request, "settings/_subscription.html", context)

    @post("/cancel", status_code=200)
    async def cancel(self, request: Request[Any, Any, Any]) -> Template:
        page = await open_page(request, Action.MANAGE_SUBSCRIPTION)
        stint = stint_of(request)
        await cancel_subscription(
            stint.uow, stint.clock, tenant=page.principal.tenant, actor=page.principal.user
        )
        context = await _context(
            request,
            page,
            done="Cancelled: it will not renew. It stays valid until the end of the running period.",
        )
        return _full_or(request, "settings/_subscription.html", context)

    @post("/resume", status_code=200)
    async def resume(self, request: Request[Any, Any, Any]) -> Template:
        page = await open_page(request, Action.MANAGE_SUBSCRIPTION)
        stint = stint_of(request)
        await resume_subscription(
            stint.uow, stint.clock, tenant=page.principal.tenant, actor=page.principal.user
        )
        context = await _context(request, page, done="Resumed: it will renew at the end of the period.")
        return _full_or(request, "settings/_subscription.html", context)
