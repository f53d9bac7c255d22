"""``/settings/subscription`` (collection admins only): the subscription, Buy Now with a
preview, seat/plan/interval changes with a live per-day quote, cancel and resume,
invoices, and on-premises activation. The use cases are the API's
(``core.services.subscriptions`` and ``core.services.changes``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from core.activation.claims import ActivationRefused
from core.errors import ValidationFailed
from core.licensing.access import Action
from core.licensing.deployment import Deployment
from core.periods import Interval
from core.services.activation import activate_online, activation_view, install_activation_file
from core.services.changes import (
    ChangePreview,
    RequestedChange,
    change_subscription,
    preview_subscription_change,
)
from core.services.subscriptions import (
    cancel_subscription,
    purchase,
    resume_subscription,
    view_subscription,
)
from plugins.bootstrap import Stint

from .render import Page, is_htmx, open_page, render, stint_of

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


#: An activation file is a few hundred bytes; anything this large is not one.
MAX_FILE_BYTES = 64 * 1024


class ActivateForm(msgspec.Struct):
    subscription_id: Annotated[str, msgspec.Meta(max_length=64)] = ""


async def _activation(stint: Stint, page: Page) -> dict[str, Any] | None:
    """How an on-premises tenant is activated (None in the cloud: its subscription is its licence)."""
    tenant = page.principal.tenant
    if tenant.deployment is not Deployment.ONPREM:
        return None
    view = await activation_view(stint.uow, stint.activations, stint.clock, tenant=tenant,
                                 clock_tolerance=stint.settings.clock_tolerance)
    return {
        "server_id": view.server_id,
        "record": view.record,
        "entitlement": view.record.entitlement,
        "valid_through": view.holds_until - timedelta(days=1) if view.holds_until else None,
        "warnings": view.warnings,
    }


async def _context(request: Request[Any, Any, Any], page: Page, **extra: Any) -> dict[str, Any]:
    stint = stint_of(request)
    tenant = page.principal.tenant
    view = await view_subscription(stint.uow, stint.clock, tenant=tenant)
    async with stint.uow() as work:
        catalogue = await work.directory.catalogue.load()
        invoices = await work.tenant(tenant.id).invoices().list(after="", limit=50)
    plans = [p for p in catalogue if p.purchasable and tenant.deployment in p.deployments]
    sub = view.subscription
    current = catalogue.get(sub.plan_id) if sub.plan_id in {p.id for p in catalogue} else None
    return page.context(
        view=view,
        sub=sub,
        current_plan=current,
        plans=plans,
        invoices=[listed.invoice for listed in invoices],
        paid_period=sub.period is not None and sub.seats is not None and sub.interval is not None,
        activation=await _activation(stint, page),
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
        preview = {
            "plan": plan,
            "interval": interval,
            "seats": seats,
            "seat_price": plan.seat_price(interval),
            "total": seats * plan.seat_price(interval),
            "currency": plan.currency,
        }
        if not is_htmx(request):
            # Posted without JavaScript: the whole page, with the preview inside the Buy form.
            context = await _context(request, page, preview=preview)
            return render(request, "settings/subscription.html", None, context)
        context = page.context(preview=preview)
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
        preview = await preview_subscription_change(
            stint.uow,
            stint.clock,
            tenant=page.principal.tenant,
            requested=RequestedChange(
                seats=_seats(data.seats, required=False),
                plan_id=data.plan or None,
                interval=data.interval or None,
            ),
        )
        quote = preview.quote
        if not is_htmx(request):
            # Posted without JavaScript: the whole page, with the quote inside the change form.
            context = await _context(request, page, quote=quote, preview=preview)
            return render(request, "settings/subscription.html", None, context)
        context = page.context(quote=quote, preview=preview)
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
        done_as = ChangePreview(result.quote, result.credit_notes, result.to_credit_balance)
        context = await _context(request, page, done=done, quote=result.quote, preview=done_as)
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

    @post("/activate", status_code=200)
    async def activate(
        self, request: Request[Any, Any, Any], data: Annotated[ActivateForm, _URL_ENCODED]
    ) -> Template:
        """Online activation: register this server with the subscription id from an invoice."""
        page = await open_page(request, Action.PURCHASE)
        stint = stint_of(request)
        await activate_online(
            stint.uow, stint.activations, stint.licence_client, stint.clock,
            tenant=page.principal.tenant, actor=page.principal.user, subscription_id=data.subscription_id,
        )
        page = await open_page(request, Action.VIEW_SUBSCRIPTION)
        context = await _context(request, page, done="Activated online.", banner_oob=True)
        return _full_or(request, "settings/_subscription_and_banner.html", context)

    @post("/activation-file", status_code=200)
    async def upload(self, request: Request[Any, Any, Any]) -> Template:
        """Offline activation: install a signed activation file, verified here with no network."""
        page = await open_page(request, Action.PURCHASE)
        stint = stint_of(request)
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailed("choose the activation file to upload", field="file")
        data = await upload.read(MAX_FILE_BYTES + 1)
        if not data.strip():
            raise ValidationFailed("the activation file is empty", field="file")
        if len(data) > MAX_FILE_BYTES:
            raise ActivationRefused.malformed("it is far larger than any activation file")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ActivationRefused.malformed("it is not text") from None
        await install_activation_file(
            stint.uow, stint.activations, stint.activation_files, stint.clock,
            tenant=page.principal.tenant, actor=page.principal.user, text=text,
        )
        page = await open_page(request, Action.VIEW_SUBSCRIPTION)
        context = await _context(request, page, done="Activation file installed.", banner_oob=True)
        return _full_or(request, "settings/_subscription_and_banner.html", context)
