"""``/settings/subscription`` (collection admins only): the subscription, Buy Now with a
preview, seat/plan/interval changes with a live per-day quote, cancel and resume,
invoices, and on-premises activation. The use cases are the API's
(``core.services.subscriptions`` and ``core.services.changes``).

Here: the page, Buy Now, the change, cancel, resume and the invoices' PDFs. The forms and
previews of Buy Now and the change are in ``subscription_quotes.py``; activation's
handlers in ``subscription_activation.py``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from core.errors import StintError
from core.licensing.access import Action
from core.licensing.deployment import Deployment
from core.services.activation import activation_view
from core.services.changes import (
    ChangePreview,
    RequestedChange,
    change_subscription,
    preview_subscription_change,
)
from core.services.invoice_documents import invoice_file
from core.services.subscriptions import (
    cancel_subscription,
    purchase,
    resume_subscription,
    view_subscription,
)
from core.texts import N_
from plugins.bootstrap import Stint
from plugins.i18n import gettext, texts_for

from .render import Page, is_htmx, open_page, render, stint_of
from .subscription_quotes import PlanBody, buy_now_preview, change_words, seats_of

__all__ = ["SubscriptionPageController", "full_context", "full_or"]

#: The subscription's and the invoices' states as the page names them (``_(sub.status.value)``,
#: ``_(i.status)``): listed so the catalogue extraction finds them.
_STATES = (N_("trialing"), N_("active"), N_("past_due"), N_("cancelled"), N_("expired"),
           N_("due"), N_("paid"), N_("void"))


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


async def full_context(request: Request[Any, Any, Any], page: Page, **extra: Any) -> dict[str, Any]:
    stint = stint_of(request)
    tenant = page.principal.tenant
    view = await view_subscription(stint.uow, stint.clock, tenant=tenant)
    async with stint.uow() as work:
        catalogue = await work.directory.catalogue.load()
        invoices = await work.tenant(tenant.id).invoices().list(after="", limit=50)
    plans = [p for p in catalogue if p.purchasable and tenant.deployment in p.deployments]
    sub = view.subscription
    current = catalogue.get(sub.plan_id) if sub.plan_id in {p.id for p in catalogue} else None
    if "preview" not in extra and plans:
        # Buy Now opens with the amount and its sentence for the choice the form starts with.
        first = next((p for p in plans if p.id == "team"), plans[0])
        extra["preview"] = await buy_now_preview(
            stint, page, first.id, "annual", view.proposed_seats or 1, credit=view.credit_balance
        )
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


def _refused_preview(request: Request[Any, Any, Any], page: Page, target: str, exc: StintError) -> Template:
    """An htmx preview the form cannot make replaces the old one with the reason."""
    context = page.context(target=target, reason=f"No preview: {exc.detail}.")
    return render(request, "settings/subscription.html", "settings/_preview_refused.html", context,
                  status_code=422)


def full_or(request: Request[Any, Any, Any], partial: str, context: dict[str, Any]) -> Template:
    return render(request, "settings/subscription.html", partial, context)


class SubscriptionPageController(Controller):
    path = "/settings/subscription"
    include_in_schema = False

    @get("/", name="subscription")
    async def show(self, request: Request[Any, Any, Any]) -> Template:
        page = await open_page(request, Action.VIEW_SUBSCRIPTION)
        return full_or(request, "settings/_subscription.html", await full_context(request, page))

    @post("/purchase-preview", status_code=200)
    async def purchase_preview(self, request: Request[Any, Any, Any], data: PlanBody) -> Template:
        """Buy Now's preview: the first invoice is seats × the plan's price for the interval."""
        page = await open_page(request, Action.PURCHASE)
        stint = stint_of(request)
        try:
            seats = seats_of(data.seats, required=True)
            assert seats is not None
            preview = await buy_now_preview(stint, page, data.plan, data.interval, seats)
        except StintError as exc:
            if not is_htmx(request):
                raise
            return _refused_preview(request, page, "purchase-preview", exc)
        if not is_htmx(request):
            # Posted without JavaScript: the whole page, with the preview inside the Buy form.
            context = await full_context(request, page, preview=preview)
            return render(request, "settings/subscription.html", None, context)
        context = page.context(preview=preview)
        return render(request, "settings/subscription.html", "settings/_purchase_preview.html", context)

    @post("/purchase", status_code=200)
    async def buy(self, request: Request[Any, Any, Any], data: PlanBody) -> Template:
        page = await open_page(request, Action.PURCHASE)
        stint = stint_of(request)
        p = page.principal
        seats = seats_of(data.seats, required=True)
        assert seats is not None
        preview = await buy_now_preview(stint, page, data.plan, data.interval, seats)
        if data.confirmed != preview["key"]:
            # Not what the buyer confirmed (the form changed after the sentence was shown, or
            # it came without one): buy nothing, show the amount and ask again.
            notice = (
                "Nothing was bought: the amount changed after it was shown. Check it and press Buy again."
                if data.confirmed else "Check the amount below and press Buy again to confirm."
            )
            context = await full_context(request, page, preview=preview, notice=notice)
            return full_or(request, "settings/_subscription.html", context)
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
        context = await full_context(
            request, page,
            done=gettext("Bought. Invoice %(number)s was issued.", number=invoice.number_text or invoice.id),
            banner_oob=True,
        )
        return full_or(request, "settings/_subscription_and_banner.html", context)

    @post("/quote", status_code=200)
    async def quote(self, request: Request[Any, Any, Any], data: PlanBody) -> Template:
        page = await open_page(request, Action.MANAGE_SUBSCRIPTION)
        stint = stint_of(request)
        try:
            preview = await preview_subscription_change(
                stint.uow,
                stint.clock,
                tenant=page.principal.tenant,
                requested=RequestedChange(
                    seats=seats_of(data.seats, required=False),
                    plan_id=data.plan or None,
                    interval=data.interval or None,
                ),
            )
        except StintError as exc:
            if not is_htmx(request):
                raise
            return _refused_preview(request, page, "quote", exc)
        quote = preview.quote
        tenant = page.principal.tenant
        credit = (await view_subscription(stint.uow, stint.clock, tenant=tenant)).credit_balance
        words = change_words(preview, data, credit)
        if not is_htmx(request):
            # Posted without JavaScript: the whole page, with the quote inside the change form.
            context = await full_context(request, page, quote=quote, preview=preview, words=words)
            return render(request, "settings/subscription.html", None, context)
        context = page.context(quote=quote, preview=preview, words=words)
        return render(request, "settings/subscription.html", "settings/_quote.html", context)

    @post("/change", status_code=200)
    async def change(self, request: Request[Any, Any, Any], data: PlanBody) -> Template:
        page = await open_page(request, Action.MANAGE_SUBSCRIPTION)
        stint = stint_of(request)
        p = page.principal
        requested = RequestedChange(
            seats=seats_of(data.seats, required=False),
            plan_id=data.plan or None,
            interval=data.interval or None,
        )
        preview = await preview_subscription_change(
            stint.uow, stint.clock, tenant=p.tenant, requested=requested
        )
        credit = (await view_subscription(stint.uow, stint.clock, tenant=p.tenant)).credit_balance
        words = change_words(preview, data, credit)
        if data.confirmed != words["key"]:
            # As with Buy: only the change whose sentence was confirmed is made.
            notice = (
                "Nothing was changed: the amount changed after it was shown. Check it and confirm again."
                if data.confirmed else "Check the quote below and press Confirm change to apply it."
            )
            context = await full_context(request, page, quote=preview.quote, preview=preview, words=words,
                                     notice=notice)
            return full_or(request, "settings/_subscription.html", context)
        result = await change_subscription(
            stint.uow, stint.billing, stint.clock, tenant=p.tenant, actor=p.user, requested=requested
        )
        issued = result.invoice
        done = gettext("Changed.")
        if issued:
            done += " " + gettext("Invoice %(number)s was issued.", number=issued.number_text or issued.id)
        done_as = ChangePreview(result.quote, result.credit_notes, result.to_credit_balance)
        # The quote of what was done, without a sentence to confirm or a button.
        context = await full_context(request, page, done=done, quote=result.quote, preview=done_as)
        return full_or(request, "settings/_subscription.html", context)

    @get("/invoices/{invoice_id:str}/pdf", name="invoice_pdf")
    async def invoice_pdf(
        self, request: Request[Any, Any, Any], invoice_id: FromPath[str]
    ) -> Response[bytes]:
        """The invoice's PDF, for the download link in the invoice list."""
        page = await open_page(request, Action.VIEW_SUBSCRIPTION)
        stint = stint_of(request)
        document = await invoice_file(
            stint.uow, stint.invoice_documents, tenant=page.principal.tenant, invoice_id=invoice_id,
            seller=stint.seller, texts=texts_for(page.principal.user.locale),
        )
        return Response(
            document.content,
            media_type=document.media_type,
            headers={"Content-Disposition": f'attachment; filename="{document.filename}"'},
        )

    @post("/cancel", status_code=200)
    async def cancel(self, request: Request[Any, Any, Any]) -> Template:
        page = await open_page(request, Action.MANAGE_SUBSCRIPTION)
        stint = stint_of(request)
        await cancel_subscription(
            stint.uow, stint.clock, tenant=page.principal.tenant, actor=page.principal.user
        )
        context = await full_context(
            request,
            page,
            done=gettext("Cancelled: it will not renew. It stays valid until the end of the running period."),
        )
        return full_or(request, "settings/_subscription.html", context)

    @post("/resume", status_code=200)
    async def resume(self, request: Request[Any, Any, Any]) -> Template:
        page = await open_page(request, Action.MANAGE_SUBSCRIPTION)
        stint = stint_of(request)
        await resume_subscription(
            stint.uow, stint.clock, tenant=page.principal.tenant, actor=page.principal.user
        )
        done = gettext("Resumed: it will renew at the end of the period.")
        context = await full_context(request, page, done=done)
        return full_or(request, "settings/_subscription.html", context)
