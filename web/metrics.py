"""``/metrics`` for Prometheus (each answer's latency is observed by ``web/request_lines.py``).

``/metrics`` answers a request with ``Authorization: Bearer $STINT_METRICS_TOKEN``; without
that setting, only clients on this machine (loopback — the real client, after trusted
proxies are resolved, so a balancer on loopback does not open it to the world). The
figures are described in ``plugins/metrics.py`` and ``docs/deploy.md``.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException

from plugins.bootstrap import metrics, metrics_scrape

from .deps import StintDep
from .security import client_address

__all__ = ["metrics_endpoint"]


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@get("/metrics", include_in_schema=False)
async def metrics_endpoint(request: Request[Any, Any, Any], stint: StintDep) -> Response[bytes]:
    token = stint.settings.metrics_token
    if token:
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
            raise NotAuthorizedException("/metrics needs Authorization: Bearer <STINT_METRICS_TOKEN>.",
                                         headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    elif not _loopback(client_address(request)):
        raise PermissionDeniedException(
            "/metrics answers only this machine unless STINT_METRICS_TOKEN is set."
        )
    return Response(await metrics_scrape.render(stint), media_type=metrics.CONTENT_TYPE)

