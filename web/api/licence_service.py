"""The licence service's endpoint (SPEC §7): on-premises servers ask for their entitlement.

Served only when this Stint is the vendor's licence service (``STINT_LICENCE_SERVICE=1``);
elsewhere it does not exist (404). There is no bearer token: the subscription id (32
random hex digits, ~122 bits) is the credential, and against guessing every call counts
towards the per-address limit, an unknown id counts again towards a much smaller one,
and each distinct server presenting an id is recorded (at most
``STINT_LICENCE_SERVICE_MAX_SERVERS`` per subscription).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post
from litestar.exceptions import NotFoundException
from litestar.params import JSONBody

from core.services.licence_service import UnknownSubscription, entitlement_for_server

from ..deps import StintDep
from ..schemas import Strict
from ..security import client_address, limit_per_client, refuse_if_limited

__all__ = ["LicenceServiceController"]

#: Unknown subscription ids one address may present per minute before it is refused (429).
UNKNOWN_IDS_PER_MINUTE = 10


class EntitlementIn(Strict):
    subscription_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    server_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    tenant: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class EntitlementOut(msgspec.Struct):
    subscription_id: str
    server_id: str
    plan: str
    seats: int
    interval: str
    period_start: date
    expires_on: date
    status: str
    issued_at: datetime


class LicenceServiceController(Controller):
    path = "/licence-service"
    tags = ("licence service",)

    @post("/entitlements", status_code=200, opt={"exclude_from_auth": True}, guards=[limit_per_client],
          summary="An on-premises server's entitlement (licence service only)")
    async def entitlement(self, request: Request[Any, Any, Any], data: JSONBody[EntitlementIn],
                          stint: StintDep) -> EntitlementOut:
        settings = stint.settings
        if not settings.licence_service_enabled:
            raise NotFoundException()
        address = client_address(request)
        misses = f"licence-miss:{address}"
        refuse_if_limited(await stint.limiter.peek(misses, UNKNOWN_IDS_PER_MINUTE),
                          "unknown subscription ids from this address")
        try:
            entitlement = await entitlement_for_server(
                stint.uow, stint.licence_registry, stint.clock,
                subscription_id=data.subscription_id, server_id=data.server_id, tenant=data.tenant,
                address=address, max_servers=settings.licence_service_max_servers,
                grace_days=settings.grace_days,
            )
        except UnknownSubscription:
            await stint.limiter.hit(misses, UNKNOWN_IDS_PER_MINUTE)
            raise
        return EntitlementOut(
            subscription_id=data.subscription_id.strip().lower(), server_id=data.server_id.strip(),
            plan=entitlement.plan_id, seats=entitlement.seats, interval=entitlement.interval,
            period_start=entitlement.period_start, expires_on=entitlement.expires_on,
            status=entitlement.status, issued_at=stint.clock.now(),
        )
