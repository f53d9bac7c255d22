"""Asks the licence service for a subscription's entitlement, over HTTPS, through a proxy if set.

Proxy: ``STINT_LICENCE_SERVICE_PROXY`` when set; otherwise httpx honours the usual
``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``NO_PROXY`` variables (``trust_env``). Every failure to
get an answer (network, proxy, timeout, a 5xx or 429, an answer that is not an
entitlement) is :class:`LicenceServiceUnreachable`, which leaves the last entitlement in
force; a 4xx problem is :class:`LicenceServiceRefused` with the service's own message.
"""

from __future__ import annotations

import ssl
from datetime import date
from typing import Any

import httpx

from core.activation.ports import Entitlement, LicenceServiceRefused, LicenceServiceUnreachable
from plugins.settings import Settings

__all__ = ["ENTITLEMENTS_PATH", "HttpLicenceClient", "NoLicenceService", "build_licence_client"]

ENTITLEMENTS_PATH = "/api/v1/licence-service/entitlements"
_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


class HttpLicenceClient:
    def __init__(
        self, base_url: str, *, proxy: str | None = None, verify: ssl.SSLContext | bool = True,
        timeout: httpx.Timeout = _TIMEOUT,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.proxy = proxy
        self.verify = verify
        self.timeout = timeout

    async def entitlement(self, subscription_id: str, server_id: str, tenant: str) -> Entitlement:
        body = {"subscription_id": subscription_id, "server_id": server_id, "tenant": tenant}
        try:
            # A client per call: the refresh runs every few minutes, and a fresh one
            # picks up proxy and CA changes without a restart.
            async with httpx.AsyncClient(
                proxy=self.proxy, trust_env=True, verify=self.verify, timeout=self.timeout
            ) as client:
                response = await client.post(self.base_url + ENTITLEMENTS_PATH, json=body)
        except httpx.HTTPError as error:
            raise LicenceServiceUnreachable(
                f"cannot reach the licence service at {self.base_url}: {type(error).__name__}: {error}"
            ) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise LicenceServiceUnreachable(
                f"the licence service at {self.base_url} answered {response.status_code}"
            )
        answer = _json(response)
        if response.status_code >= 400:
            detail = str(answer.get("detail") or f"refused with status {response.status_code}")
            raise LicenceServiceRefused(
                f"The licence service refused: {detail}",
                service_code=str(answer.get("code") or ""),
                service_status=response.status_code,
            )
        try:
            return Entitlement(
                plan_id=str(answer["plan"]),
                seats=int(answer["seats"]),
                interval=str(answer["interval"]),
                period_start=date.fromisoformat(answer["period_start"]),
                expires_on=date.fromisoformat(answer["expires_on"]),
                status=str(answer["status"]),
                source="online",
            )
        except (KeyError, TypeError, ValueError):
            raise LicenceServiceUnreachable(
                f"the licence service at {self.base_url} sent an answer that is not an entitlement"
            ) from None


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class NoLicenceService:
    """No licence service configured: online activation says so; files still work."""

    async def entitlement(self, subscription_id: str, server_id: str, tenant: str) -> Entitlement:
        raise LicenceServiceUnreachable(
            "no licence service is configured (STINT_LICENCE_SERVICE_URL); set it, or activate "
            "this server with an activation file"
        )


def build_licence_client(settings: Settings) -> HttpLicenceClient | NoLicenceService:
    if not settings.licence_service_url:
        return NoLicenceService()
    # A private CA (a test service, a TLS-inspecting proxy): an SSL context, not a path,
    # which httpx no longer takes.
    verify: ssl.SSLContext | bool = True
    if settings.licence_service_ca:
        verify = ssl.create_default_context(cafile=settings.licence_service_ca)
    return HttpLicenceClient(
        settings.licence_service_url, proxy=settings.licence_service_proxy, verify=verify
    )
