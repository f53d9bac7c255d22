"""The edge's half of the change origin (``core.origin``): every request of a router runs
under its source (``api``, ``page``); authentication adds the caller (``act_as``)."""

from __future__ import annotations

from litestar.types import ASGIApp, Receive, Scope, Send

from core.origin import Origin, Source, acting

__all__ = ["OriginMiddleware"]


class OriginMiddleware:
    """Changes a request makes are ``source``'s; outermost, so authentication runs inside it
    and what it sets ends with the request."""

    def __init__(self, app: ASGIApp, source: Source) -> None:
        self.app = app
        self.source = source
        self.origin = Origin(source)  # immutable: made once, not per request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with acting(self.origin):
            await self.app(scope, receive, send)
