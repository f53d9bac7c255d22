"""Where a tenant's DevOps connection may point.

An administrator of a cloud tenant types the organisation URL, and the work-item job then
makes requests to it from Stint's own network. Pointed at a private, loopback or
link-local address (a database, the cloud's metadata service at 169.254.169.254), that
would let a tenant probe the inside of the service. So for cloud tenants the URL's host
must resolve to public addresses only — checked when the connection is saved and again
before every job run's requests (a name can be re-pointed after saving). An on-premises
server's Azure DevOps Server normally *is* on a private network: there it is allowed, and
``STINT_DEVOPS_ALLOW_PRIVATE_HOSTS=1`` allows it for cloud tenants too.

Not covered: a name that resolves to a public address for the check and a private one a
moment later for the request (DNS rebinding); closing that needs connecting to the
checked address itself.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from core.errors import ValidationFailed
from core.tenancy import Deployment

__all__ = ["ensure_allowed_destination", "may_reach_private", "private_address"]


def may_reach_private(deployment: Deployment, allow_private_hosts: bool) -> bool:
    return deployment is Deployment.ONPREM or allow_private_hosts


async def private_address(url: str) -> str | None:
    """The first non-public address ``url``'s host stands for, or None.

    A host that does not resolve gives None: nothing can be reached there (the job's
    request then fails and the update stays pending with that reason).
    """
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        return None  # not a URL with a host: the connection's own validation says so
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            found = await asyncio.get_running_loop().getaddrinfo(
                host, parts.port or 443, type=socket.SOCK_STREAM
            )
        except OSError:
            return None
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found]
    for address in addresses:
        if not address.is_global:
            return str(address)
    return None


async def ensure_allowed_destination(
    url: str | None, deployment: Deployment, allow_private_hosts: bool
) -> None:
    """Refuse (422 on ``organization_url``) a cloud tenant's URL that leads inside the service."""
    if not url or may_reach_private(deployment, allow_private_hosts):
        return
    inside = await private_address(url)
    if inside is not None:
        raise ValidationFailed(
            f"the organisation URL leads to a private address ({inside}); a cloud organisation "
            "can connect to Azure DevOps on the internet only", field="organization_url",
        )
