"""The reader of a page request before anyone is known: the browser's language.

A pure ASGI middleware: it sets the reader from ``Accept-Language`` (English unless the
browser prefers German) for the whole request and resets it afterwards, so nothing leaks
between requests; once the page's principal is resolved, ``session.page_principal`` replaces
it with the user's profile (language, time format, first day of the week).
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from plugins import i18n

__all__ = ["LocaleMiddleware", "read_as"]


class LocaleMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        accept = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"accept-language"), None)
        token = i18n.reading(i18n.Reader(locale=i18n.best_locale(accept)))
        try:
            await self.app(scope, receive, send)
        finally:
            i18n.stop_reading(token)


def read_as(locale: str, time_format: str, week_starts_on: str) -> None:
    """The signed-in user's profile, for the rest of this request."""
    i18n.reading(i18n.Reader(locale=locale, time_format=time_format, week_starts_on=week_starts_on))
