"""A tenant's DevOps connection (SPEC §8 work item automation): which connector the
work-item job uses for it — the standalone one (local work items, the default) or an
Azure DevOps organisation (its URL, optionally a project, and a personal access token).

The token is write-only: it is sealed (encrypted by the caller's ``seal``) before it is
stored and no answer ever contains it, only whether one is set. Pointing the connection
at another organisation needs the token again, so a stored token is never sent to a host
it was not entered for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from core.clock import Clock
from core.errors import ValidationFailed
from core.tenancy import Tenant, User
from core.tracking.ports import ConnectorKind, DevOpsConnectionStore, SealFn, StoredDevOpsConnection
from core.unit_of_work import UnitOfWorkFactory

__all__ = [
    "ConnectorKind",
    "DevOpsConnectionChange",
    "DevOpsConnectionStore",
    "DevOpsConnectionView",
    "StoredDevOpsConnection",
    "configure_devops_connection",
    "devops_connection",
]

_URL_MAX = 300
_PROJECT_MAX = 64
_PAT_MAX = 512
# Characters Azure DevOps does not allow in a project name.
_PROJECT_FORBIDDEN = set('\\/:*?"<>;#$%{},+=[]|')


@dataclass(frozen=True, slots=True)
class DevOpsConnectionChange:
    """What an administrator sends; ``pat`` None keeps the stored token."""

    kind: str
    organization_url: str | None = None
    project: str | None = None
    pat: str | None = None


@dataclass(frozen=True, slots=True)
class DevOpsConnectionView:
    kind: ConnectorKind
    organization_url: str | None
    project: str | None
    pat_set: bool
    updated_at: datetime | None


STANDALONE = StoredDevOpsConnection(ConnectorKind.STANDALONE, None, None, None)


def _view(stored: StoredDevOpsConnection) -> DevOpsConnectionView:
    return DevOpsConnectionView(
        stored.kind, stored.organization_url, stored.project, stored.sealed_pat is not None, stored.updated_at
    )


def organization_url(text: str | None) -> str:
    """An ``https://host[/path]`` URL without credentials, query or fragment; no trailing slash."""
    url = (text or "").strip()
    if not url:
        raise ValidationFailed("the organisation URL is required for Azure DevOps", field="organization_url")
    if len(url) > _URL_MAX:
        raise ValidationFailed(f"the organisation URL is longer than {_URL_MAX} characters",
                               field="organization_url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationFailed("the organisation URL is not a URL", field="organization_url") from None
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise ValidationFailed("the organisation URL must be an https:// URL, e.g. https://dev.azure.com/acme",
                               field="organization_url")
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        raise ValidationFailed("the organisation URL may not hold credentials, a query or a fragment",
                               field="organization_url")
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise ValidationFailed("the organisation URL may not contain spaces", field="organization_url")
    del port  # only parsed so that a bad port is refused here
    return url.rstrip("/")


def project_name(text: str | None) -> str | None:
    name = (text or "").strip()
    if not name:
        return None
    if len(name) > _PROJECT_MAX:
        raise ValidationFailed(f"the project name is longer than {_PROJECT_MAX} characters", field="project")
    if (name[0] in "_." or name.endswith(".") or any(ch in _PROJECT_FORBIDDEN for ch in name)
            or not name.isprintable()):
        raise ValidationFailed("that is not a valid Azure DevOps project name", field="project")
    return name


def personal_access_token(text: str) -> str:
    pat = text.strip()
    if not pat:
        raise ValidationFailed("the personal access token may not be empty", field="pat")
    if len(pat) > _PAT_MAX or any(ch.isspace() or not ch.isprintable() or not ch.isascii() for ch in pat):
        raise ValidationFailed("that is not a personal access token", field="pat")
    return pat


def checked_connection(
    change: DevOpsConnectionChange, before: StoredDevOpsConnection, seal: SealFn
) -> StoredDevOpsConnection:
    """The connection to store, or :class:`ValidationFailed` naming the field."""
    try:
        kind = ConnectorKind(change.kind)
    except ValueError:
        raise ValidationFailed("kind is standalone or azure_devops", field="kind") from None
    if kind is ConnectorKind.STANDALONE:
        return STANDALONE  # the Azure DevOps details and token are forgotten
    url = organization_url(change.organization_url)
    project = project_name(change.project)
    if change.pat is not None:
        return StoredDevOpsConnection(kind, url, project, seal(personal_access_token(change.pat)))
    if before.sealed_pat is None:
        raise ValidationFailed("a personal access token is required for Azure DevOps", field="pat")
    if before.organization_url != url:
        raise ValidationFailed("enter the personal access token again for another organisation", field="pat")
    return StoredDevOpsConnection(kind, url, project, before.sealed_pat)


async def devops_connection(
    uow: UnitOfWorkFactory, store: DevOpsConnectionStore, *, tenant: Tenant
) -> DevOpsConnectionView:
    async with uow():
        stored = await store.load(tenant.id)
    return _view(stored or STANDALONE)


async def configure_devops_connection(
    uow: UnitOfWorkFactory, store: DevOpsConnectionStore, clock: Clock, *,
    tenant: Tenant, actor: User, change: DevOpsConnectionChange, seal: SealFn,
) -> DevOpsConnectionView:
    """Validate and store the tenant's connection (audited, never with the token)."""
    now = clock.now()
    async with uow(write=True) as work:
        before = await store.load(tenant.id) or STANDALONE
        stored = checked_connection(change, before, seal)
        await store.save(tenant.id, stored, now)
        detail = {
            "kind": stored.kind.value,
            "organization_url": stored.organization_url,
            "project": stored.project,
            "pat_changed": change.pat is not None and stored.kind is ConnectorKind.AZURE_DEVOPS,
        }
        await work.tenant(tenant.id).audit().record(
            f"user:{actor.id}", "devops.connection_changed", tenant.slug, detail, now
        )
        await work.commit()
    return _view(StoredDevOpsConnection(stored.kind, stored.organization_url, stored.project,
                                        stored.sealed_pat, now))
