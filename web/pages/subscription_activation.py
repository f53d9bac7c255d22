"""On-premises activation from the Subscription page (``subscription.py`` is the page, and
shows the activation's state): online with the subscription id from an invoice, or offline
by uploading a signed activation file, verified here with no network. The use cases are
the API's (``core.services.activation``)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from core.activation.claims import MAX_FILE_BYTES, ActivationRefused
from core.errors import ValidationFailed
from core.licensing.access import Action
from core.services.activation import activate_online, install_activation_file
from plugins.i18n import gettext

from .render import open_page, stint_of
from .subscription import full_context, full_or

__all__ = ["SubscriptionActivationPageController"]

_URL_ENCODED = Body(media_type=RequestEncodingType.URL_ENCODED)


class ActivateForm(msgspec.Struct):
    subscription_id: Annotated[str, msgspec.Meta(max_length=64)] = ""


class SubscriptionActivationPageController(Controller):
    path = "/settings/subscription"
    include_in_schema = False

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
        context = await full_context(request, page, done=gettext("Activated online."), banner_oob=True)
        return full_or(request, "settings/_subscription_and_banner.html", context)

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
        context = await full_context(request, page, done=gettext("Activation file installed."),
                                     banner_oob=True)
        return full_or(request, "settings/_subscription_and_banner.html", context)
