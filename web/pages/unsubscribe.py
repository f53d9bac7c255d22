"""``/unsubscribe?token=…``: the one-click unsubscribe of a notification mail (RFC 8058).

The token (``plugins/mail/unsubscribe.py``) is the only credential: it names one tenant, one
user and one kind, signed with the app's keys. GET shows what the link would turn off and a
button — mail scanners follow links, so a GET changes nothing; POST (the button, or the mail
client's ``List-Unsubscribe=One-Click`` request) turns that one kind off. No CSRF token: the
signed token is what authorises the POST, and it can only turn its own kind off.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import QueryParameter
from litestar.response import Template

from core.notifications import LABELS
from core.services.notification_preferences import unsubscribe

from .render import stint_of

__all__ = ["UnsubscribePageController"]

Token = Annotated[str, QueryParameter(max_length=1000)]


def _bad() -> Template:
    return Template("unsubscribe.html", context={"nav": {}, "invalid": True}, status_code=400)


class UnsubscribePageController(Controller):
    path = "/unsubscribe"

    @get("/")
    async def confirm(self, request: Request[Any, Any, Any], token: Token = "") -> Template:
        named = stint_of(request).unsubscribe.read(token)
        if named is None:
            return _bad()
        return Template("unsubscribe.html", context={
            "nav": {}, "token": token, "label": LABELS[named.kind], "done": False,
        })

    @post("/", status_code=200, exclude_from_csrf=True)
    async def apply(self, request: Request[Any, Any, Any], token: Token = "") -> Template:
        stint = stint_of(request)
        named = stint.unsubscribe.read(token)
        if named is None:
            return _bad()
        await unsubscribe(stint.uow, tenant_id=named.tenant_id, user_id=named.user_id, kind=named.kind)
        return Template("unsubscribe.html", context={
            "nav": {}, "token": token, "label": LABELS[named.kind], "done": True,
        })
