"""Which connector the work-item job uses for each tenant: its stored DevOps connection
(``GET·PUT /api/v1/settings/devops``), or the standalone connector when it has none.

The connections are read once per job run (one query); each Azure DevOps tenant gets a
connector on one shared HTTP client, closed when the run ends. A token that cannot be
opened (the secret key changed) gives a connector that fails every call, so that
tenant's updates stay pending with the reason instead of going anywhere else.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal

import httpx

from core.clock import Clock
from core.services.devops import (
    ConnectorKind,
    DevOpsConnectionChange,
    DevOpsConnectionView,
    configure_devops_connection,
    devops_connection,
)
from core.tenancy import Deployment, Tenant, User
from core.tracking.ports import DevOpsConnector, StoredDevOpsConnection, WorkItemState
from core.unit_of_work import UnitOfWorkFactory
from plugins.devops.azure import AzureDevOpsConnector
from plugins.devops.azure_work_items import AzureDevOpsWorkItems
from plugins.devops.outbound import ensure_allowed_destination, may_reach_private, private_address
from plugins.devops.sealing import PatSealer, UnreadableToken
from plugins.devops.standalone import StandaloneConnector
from plugins.settings import Settings
from plugins.storage.devops_repo import PiccoloDevOpsConnections

__all__ = ["AzureConnection", "ConnectionCheck", "DevOpsSettings", "Resealed", "UnusableConnection"]

_TIMEOUT = 15.0


class UnusableConnection(RuntimeError):
    pass


class _Unusable:
    """A tenant whose connection cannot be used: every call fails with the reason."""

    def __init__(self, reason: str) -> None:
        self._reason = reason

    async def work_item(self, work_item: str) -> WorkItemState | None:
        raise UnusableConnection(self._reason)

    async def revision(self, work_item: str, rev: int) -> WorkItemState | None:
        raise UnusableConnection(self._reason)

    async def update_work_item(
        self, work_item: str, *, rev: int, completed_work: Decimal | None, remaining_work: Decimal | None
    ) -> WorkItemState:
        raise UnusableConnection(self._reason)


@dataclass(frozen=True, slots=True)
class AzureConnection:
    """A tenant's Azure DevOps connection, ready to use: where, which project, the token."""

    organization_url: str
    project: str | None
    pat: str


async def _checked(
    devops: DevOpsSettings, connections: dict[str, StoredDevOpsConnection]
) -> dict[str, AzureConnection | str]:
    """Each Azure DevOps tenant's usable connection, or the reason it cannot be used."""
    async with devops.uow() as work:
        deployments = {
            tenant_id: tenant.deployment
            for tenant_id in connections
            if (tenant := await work.directory.tenant_by_id(tenant_id)) is not None
        }
    checked: dict[str, AzureConnection | str] = {}
    for tenant_id, stored in connections.items():
        if stored.kind is ConnectorKind.STANDALONE:
            continue
        # A cloud tenant's organisation must still lead to public addresses (outbound.py):
        # the name may have been re-pointed since it was saved. Checked once per run.
        deployment = deployments.get(tenant_id, Deployment.CLOUD)
        if stored.organization_url and not may_reach_private(
            deployment, devops.settings.devops_allow_private_hosts
        ):
            inside = await private_address(stored.organization_url)
            if inside is not None:
                checked[tenant_id] = (
                    f"the organisation URL now leads to a private address ({inside}); "
                    "a cloud organisation can connect to Azure DevOps on the internet only"
                )
                continue
        if stored.organization_url is None or stored.sealed_pat is None:
            checked[tenant_id] = "the Azure DevOps connection is incomplete; save it again"
            continue
        try:
            pat = devops.sealer.unseal(tenant_id, stored.sealed_pat)
        except UnreadableToken as exc:
            checked[tenant_id] = f"{exc}; enter the personal access token again"
            continue
        checked[tenant_id] = AzureConnection(stored.organization_url, stored.project, pat)
    return checked


@asynccontextmanager
async def _tenant_connectors(
    devops: DevOpsSettings,
) -> AsyncIterator[Callable[[str], DevOpsConnector]]:
    async with devops.uow():
        connections = await devops.store.connected()
    checked = await _checked(devops, connections)
    client = httpx.AsyncClient(timeout=_TIMEOUT) if connections else None
    made: dict[str, DevOpsConnector] = {}

    def connector_for(tenant_id: str) -> DevOpsConnector:
        if tenant_id in made:
            return made[tenant_id]
        found = checked.get(tenant_id)
        connector: DevOpsConnector
        if found is None:
            connector = StandaloneConnector(tenant_id, devops.clock)
        elif isinstance(found, str):
            connector = _Unusable(found)
        else:
            connector = AzureDevOpsConnector(found.organization_url, found.pat, project=found.project,
                                             client=client)
        made[tenant_id] = connector
        return connector

    try:
        yield connector_for
    finally:
        if client is not None:
            await client.aclose()


class DevOpsSettings:
    """Tenants' DevOps connections: what the settings API and page read and save, and the
    connectors the work-item job writes through."""

    def __init__(
        self, uow: UnitOfWorkFactory, settings: Settings, clock: Clock, store: PiccoloDevOpsConnections,
        sealer: PatSealer,
    ) -> None:
        self.uow = uow
        self.settings = settings
        self.clock = clock
        self.store = store
        self.sealer = sealer

    async def view(self, tenant: Tenant) -> DevOpsConnectionView:
        return await devops_connection(self.uow, self.store, tenant=tenant)

    async def azure_connections(
        self, tenant_id: str | None = None
    ) -> dict[str, AzureConnection | str]:
        """Every Azure DevOps tenant's usable connection (or only ``tenant_id``'s), else the
        reason it cannot be used: the outbound check and the token opened, as for the
        work-item job. Standalone tenants are absent."""
        async with self.uow():
            if tenant_id is None:
                connections = await self.store.connected()
            else:
                stored = await self.store.load(tenant_id)
                connections = {tenant_id: stored} if stored is not None else {}
        return await _checked(self, connections)

    def connectors(self) -> AbstractAsyncContextManager[Callable[[str], DevOpsConnector]]:
        """``connector_for(tenant_id)`` for one run of the work-item job (connections read
        once; one HTTP client, closed when the run ends)."""
        return _tenant_connectors(self)

    async def save(
        self, *, tenant: Tenant, actor: User, change: DevOpsConnectionChange
    ) -> DevOpsConnectionView:
        """Store a tenant's connection (the API's PUT and the settings page): where it may
        point (``outbound.py``), then the use case, which validates it and seals the token."""
        return await _save_connection(self, tenant=tenant, actor=actor, change=change)

    async def test(self, tenant: Tenant) -> ConnectionCheck:
        """"Test connection": ask the tenant's saved Azure DevOps what the work-item jobs ask
        it, and say in one sentence whether it answered (``_test_connection``)."""
        return await _test_connection(self, tenant)

    async def reseal(self) -> Resealed:
        """Seal every stored token again with the current key, so that no stored token
        needs a previous key any more (``stint keys reseal``, before a key is removed)."""
        return await _reseal(self)


@dataclass(frozen=True, slots=True)
class Resealed:
    """What :meth:`DevOpsSettings.reseal` did: tokens sealed again, already current, and
    the tenants whose token no key opens (an administrator must enter it again)."""

    resealed: int
    current: int
    unreadable: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ConnectionCheck:
    """What "Test connection" found: whether it worked, and the sentence to show."""

    ok: bool
    message: str


def _failure(url: str, exc: Exception) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        if status in (401, 403):
            return (f"{url} refused the personal access token ({status}): enter a token that "
                    "may read and write work items")
        if status == 404:
            return f"{url} has no such organisation or project (404): check both"
        return f"{url} answered {status}"
    if isinstance(exc, ValueError):
        # Azure DevOps answers a token it does not know with a sign-in page (203), not JSON.
        return f"{url} answered with a sign-in page instead of its API: check the personal access token"
    if isinstance(exc, httpx.TimeoutException):
        return f"{url} did not answer within {_TIMEOUT:.0f} seconds"
    return f"{url} could not be reached ({type(exc).__name__}: {exc})"


async def _test_connection(devops: DevOpsSettings, tenant: Tenant) -> ConnectionCheck:
    found = (await devops.azure_connections(tenant.id)).get(tenant.id)
    if found is None:
        return ConnectionCheck(True, "Nothing to test: work items are kept in Stint (standalone).")
    if isinstance(found, str):
        return ConnectionCheck(False, f"Not connected: {found}.")
    where = found.organization_url + (f" (project {found.project})" if found.project else "")
    async with httpx.AsyncClient(timeout=_TIMEOUT) as client:
        try:
            if found.project:
                # The sync's own question (items changed from now on: none), one page of one.
                source = AzureDevOpsWorkItems(found.organization_url, found.pat, project=found.project,
                                              client=client, page_size=1)
                await source.changed_since(devops.clock.now(), None)
            else:
                # Without a project only Completed Work is written: read a work item as that does
                # (one that does not exist is a 404 the connector takes as "no such item").
                await AzureDevOpsConnector(found.organization_url, found.pat, client=client).work_item("1")
        except (httpx.HTTPError, ValueError) as exc:
            return ConnectionCheck(False, f"Not connected: {_failure(found.organization_url, exc)}.")
    return ConnectionCheck(True, f"Connected: {where} accepted the personal access token.")


async def _reseal(devops: DevOpsSettings) -> Resealed:
    resealed = current = 0
    unreadable: list[str] = []
    async with devops.uow():
        connections = await devops.store.connected()
    for tenant_id, stored in sorted(connections.items()):
        if stored.sealed_pat is None:
            continue
        if devops.sealer.is_current(stored.sealed_pat):
            current += 1
            continue
        try:
            pat = devops.sealer.unseal(tenant_id, stored.sealed_pat)
        except UnreadableToken:
            unreadable.append(tenant_id)
            continue
        async with devops.uow(write=True) as work:
            # Only if nobody saved a new token meanwhile: theirs is sealed with the current key.
            again = devops.sealer.seal(tenant_id, pat)
            if await devops.store.replace_sealed(tenant_id, stored.sealed_pat, again):
                resealed += 1
            await work.commit()
    return Resealed(resealed, current, tuple(unreadable))


async def _save_connection(
    devops: DevOpsSettings, *, tenant: Tenant, actor: User, change: DevOpsConnectionChange
) -> DevOpsConnectionView:
    if change.kind == ConnectorKind.AZURE_DEVOPS.value:
        await ensure_allowed_destination(
            change.organization_url, tenant.deployment, devops.settings.devops_allow_private_hosts
        )
    sealer = devops.sealer
    return await configure_devops_connection(
        devops.uow, devops.store, devops.clock, tenant=tenant, actor=actor, change=change,
        seal=lambda pat: sealer.seal(tenant.id, pat),
    )
