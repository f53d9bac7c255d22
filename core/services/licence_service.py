"""The licence service's side of online activation (SPEC §7): what a subscription grants
the on-premises server that presents its id, and which servers have presented it."""

from __future__ import annotations

import re

from core.activation.entitlements import normalised_subscription_id
from core.activation.ports import Entitlement, LicenceRegistry
from core.clock import Clock, today_in
from core.errors import Conflict, NotFound, ValidationFailed
from core.licensing.deployment import Deployment
from core.licensing.subscription import unusable_reason
from core.unit_of_work import UnitOfWorkFactory

__all__ = ["NotPurchased", "TooManyServers", "UnknownSubscription", "entitlement_for_server"]

_SERVER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SERVICE_STATUSES = frozenset({"active", "cancelled", "past_due", "expired"})


class UnknownSubscription(NotFound):
    """No subscription has the id a server presented."""

    code = "unknown_subscription"


class NotPurchased(Conflict):
    """The subscription cannot license a server (never bought, or a cloud-only plan)."""

    code = "not_activatable"


class TooManyServers(Conflict):
    code = "too_many_servers"


def _server_id(value: str) -> str:
    server_id = value.strip()
    if not _SERVER_ID.match(server_id):
        raise ValidationFailed(
            "a server id is 1–64 letters, digits, dots, dashes or underscores", field="server_id"
        )
    return server_id


async def entitlement_for_server(
    uow: UnitOfWorkFactory,
    registry: LicenceRegistry,
    clock: Clock,
    *,
    subscription_id: str,
    server_id: str,
    tenant: str,
    address: str | None,
    max_servers: int,
    grace_days: int,
) -> Entitlement:
    """What the subscription grants the calling server, recording the server's registration.

    The subscription id is the credential (32 random hex digits); each distinct server
    that presents it is recorded, and at most ``max_servers`` may, so one leaked id cannot
    license an unbounded number of servers.
    """
    sub_id = normalised_subscription_id(subscription_id)
    server = _server_id(server_id)
    slug = tenant.strip()[:64] or "-"
    today = today_in(clock)
    now = clock.now()
    async with uow(write=True) as work:
        sub = await registry.subscription(sub_id)
        if sub is None:
            raise UnknownSubscription(
                "No subscription has this id. Copy it from the Subscription page of your Stint "
                "account, or ask support."
            )
        if sub.period is None or sub.interval is None or sub.seats is None:
            raise NotPurchased(
                "This subscription has not been bought yet; buy a plan before activating a server."
            )
        plan = (await work.directory.catalogue.load()).get(sub.plan_id)
        if Deployment.ONPREM not in plan.deployments:
            raise NotPurchased(
                f"The {plan.name} plan is for cloud organisations; it cannot activate an on-premises server."
            )
        registration = await registry.register(sub_id, server, slug, address, now)
        new, registered = registration.new, registration.servers
        if new and registered > max_servers:
            raise TooManyServers(
                f"This subscription already activates {max_servers} servers, the most allowed; "
                f"ask support to release one."
            )
        if new:
            await work.directory.audit(
                None, f"server:{server}", "licence.server_registered", sub_id,
                {"tenant": slug, "address": address, "servers": registered}, now,
            )
        status = sub.status.value
        if unusable_reason(sub, today, grace_days) is not None:
            status = "expired"
        await work.commit()
    if status not in _SERVICE_STATUSES:
        status = "active"
    return Entitlement(
        plan_id=sub.plan_id,
        seats=sub.seats,
        interval=sub.interval.value,
        period_start=sub.period.start,
        expires_on=sub.period.end,
        status=status,
        source="online",
    )
