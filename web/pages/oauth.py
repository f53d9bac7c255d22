"""The pages of OAuth's user side (issue #20): the consent page and the device page.

``GET /oauth/authorize`` is where an app sends the user: signed in (or sent to sign in and
back), they see the app and the scopes it asks for and answer Approve or Deny — a form with
the page's CSRF token, so no other site can answer for them. Authlib checks the request
(``web/oauth/``) before the page shows and again when the answer comes back; the answer is
a redirect to the app's exact redirect URI with the code (or ``error=access_denied``) and the
app's ``state``.

``/device`` is where a person types the code an app without a browser shows them (RFC 8628).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from authlib.oauth2 import OAuth2Error
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Template

from core.errors import NotFound
from core.identity.scopes import Scope, scopes_of_text
from core.services.oauth_device import UNKNOWN_DEVICE_CODE, decide_device, pending_device

from ..api.oauth import answer, authorization_server
from ..oauth.bridge import oauth_request, run_protocol
from ..oauth.models import Grantee
from ..security import client_address, refuse_if_limited
from .render import Page, open_page, stint_of

__all__ = ["SCOPE_WORDS", "OAuthPagesController"]

#: What each scope lets an app do, in the words the consent page uses.
SCOPE_WORDS: dict[Scope, str] = {
    Scope.TRACKING: "Start, stop and switch your timer, and see the work items you track against",
    Scope.WORKLOGS_READ: "Read your worklogs and timesheets (as far as your role lets you see them)",
    Scope.WORKLOGS_WRITE: "Add, change and delete worklogs, and submit your week",
    Scope.REPORTING_READ: "Read the reporting feed",
    Scope.USERS_READ: "Read your organisation's user list",
    Scope.ADMIN: "Manage settings, users, the subscription and your security (as far as your role allows)",
}
#: Authorization request parameters carried from the consent page to its answer.
_CARRIED = ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
            "code_challenge_method")
_URL_ENCODED = Body(media_type=RequestEncodingType.URL_ENCODED)


class DeviceForm(msgspec.Struct, forbid_unknown_fields=False):
    user_code: Annotated[str, msgspec.Meta(max_length=20)] = ""
    decision: Annotated[str, msgspec.Meta(max_length=10)] = ""


def _guesses_key(page: Page) -> str:
    return f"device-codes:{page.principal.tenant.id}:{page.principal.user.id}"


async def _refuse_if_guessing(request: Request[Any, Any, Any], page: Page) -> None:
    """RFC 8628 §5.1: user codes are short, so wrong ones are counted per person and too many
    within the sign-in window are refused (429), as wrong passwords are."""
    stint = stint_of(request)
    refuse_if_limited(await stint.limiter.peek(_guesses_key(page), stint.settings.rate_limit_login),
                      "wrong device codes")


async def _wrong_code(request: Request[Any, Any, Any], page: Page) -> None:
    stint = stint_of(request)
    await stint.limiter.hit(_guesses_key(page), stint.settings.rate_limit_login)


def _grantee(page: Page) -> Grantee:
    p = page.principal
    return Grantee(p.tenant.id, p.user.id, frozenset())


def _scopes(text: str | None) -> list[tuple[str, str]]:
    held = scopes_of_text(text) or frozenset()
    return [(s.value, SCOPE_WORDS[s]) for s in Scope if s in held]


def _refused(request: Request[Any, Any, Any], page: Page, detail: str) -> Template:
    return Template("oauth/refused.html", context=page.context(detail=detail), status_code=400)


class OAuthPagesController(Controller):
    include_in_schema = False

    @get("/oauth/authorize", name="oauth_authorize")
    async def consent(self, request: Request[Any, Any, Any]) -> Response[Any] | Template:
        page = await open_page(request, None)
        return await self._answer(request, page, await oauth_request(request), None)

    @post("/oauth/authorize", status_code=200)
    async def decide(self, request: Request[Any, Any, Any]) -> Response[Any] | Template:
        page = await open_page(request, None)
        form = await request.form()
        values = {name: [str(form[name])] for name in _CARRIED if name in form}
        decision = str(form.get("decision", ""))
        return await self._answer(request, page, await oauth_request(request, values=values), decision)

    async def _answer(
        self, request: Request[Any, Any, Any], page: Page, req: Any, decision: str | None
    ) -> Response[Any] | Template:
        server = authorization_server(request)
        grantee = _grantee(page)
        try:
            grant = await run_protocol(lambda: server.get_consent_grant(req, end_user=grantee))
        except OAuth2Error as error:
            if error.redirect_uri:
                # The app and its redirect URI checked out: the app hears the error itself.
                return answer(server.handle_error_response(req, error))
            # An unknown app or a redirect URI that is not registered: never redirect there.
            why = error.description or "the request is not valid"
            return _refused(request, page, f"{error.error}: {why}")
        client = req.client.client
        if not client.serves(page.principal.tenant.id):
            return _refused(request, page, "invalid_client: this app is not available to your organisation")
        if decision is None:
            context = page.context(
                app=client, scopes=_scopes(req.scope),
                carried={n: req.payload.data.get(n, "") for n in _CARRIED},
            )
            return Template("oauth/consent.html", context=context, headers={"Cache-Control": "no-store"})
        granted = Grantee(grantee.tenant_id, grantee.user_id, scopes_of_text(req.scope) or frozenset(),
                          address=client_address(request))
        approved = granted if decision == "approve" else None
        return answer(await run_protocol(
            lambda: server.create_authorization_response(req, grant_user=approved, grant=grant)
        ))

    @get("/device", name="device")
    async def device(
        self, request: Request[Any, Any, Any],
        user_code: Annotated[str, QueryParameter(max_length=20)] = "",
    ) -> Template:
        page = await open_page(request, None)
        return await self._device_page(request, page, user_code)

    @post("/device", status_code=200)
    async def device_answer(
        self, request: Request[Any, Any, Any], data: Annotated[DeviceForm, _URL_ENCODED]
    ) -> Template:
        page = await open_page(request, None)
        if data.decision not in ("approve", "deny"):
            return await self._device_page(request, page, data.user_code)
        stint = stint_of(request)
        p = page.principal
        await _refuse_if_guessing(request, page)
        try:
            client = await decide_device(
                stint.uow, stint.clock, typed=data.user_code, tenant_id=p.tenant.id, user_id=p.user.id,
                approve=data.decision == "approve", address=client_address(request),
            )
        except NotFound as exc:
            await _wrong_code(request, page)
            context = page.context(problem=exc.detail, user_code=data.user_code)
            return Template("oauth/device.html", context=context)
        return Template("oauth/device.html", context=page.context(done=data.decision, app=client))

    async def _device_page(self, request: Request[Any, Any, Any], page: Page, typed: str) -> Template:
        context: dict[str, Any] = {"user_code": typed}
        if typed:
            stint = stint_of(request)
            await _refuse_if_guessing(request, page)
            try:
                found, client = await pending_device(stint.uow, stint.clock, typed)
            except NotFound as exc:
                await _wrong_code(request, page)
                context["problem"] = exc.detail
            else:
                if client.serves(page.principal.tenant.id):
                    context.update(app=client, code=found.user_code,
                                   scopes=[(s.value, SCOPE_WORDS[s]) for s in Scope if s in found.scopes])
                else:
                    context["problem"] = UNKNOWN_DEVICE_CODE
        return Template("oauth/device.html", context=page.context(**context),
                        headers={"Cache-Control": "no-store"})
