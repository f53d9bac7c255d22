"""Activation's ports: a tenant's activation record, the installation's server id, the
licence service's registry and the line to it, and the activation-file reader (SPEC §7)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from core.activation.claims import ActivationClaims, ActivationState
from core.activation.trusted_time import TrustedTime
from core.errors import StintError
from core.licensing import Subscription

__all__ = [
    "ActivationDirectory",
    "ActivationFileReader",
    "ActivationRecord",
    "ActivationRepository",
    "Entitlement",
    "LicenceClient",
    "LicenceRegistry",
    "LicenceServiceRefused",
    "LicenceServiceUnreachable",
    "Registration",
]


@dataclass(frozen=True, slots=True)
class Registration:
    """A call from a server, as the licence service recorded it."""

    new: bool
    servers: int


@dataclass(frozen=True, slots=True)
class Entitlement:
    """What a tenant may use, as the licence service or an activation file grants it.

    ``expires_on`` is the first day not covered (periods are ``[start, end)``);
    ``status`` is the licence service's view (``active``, ``cancelled``, ``past_due``,
    ``expired``; a file is always ``active``); ``source`` is ``online`` or ``file``.
    """

    plan_id: str
    seats: int
    interval: str
    period_start: date
    expires_on: date
    status: str
    source: str


@dataclass(frozen=True, slots=True)
class ActivationRecord:
    """One tenant's activation: how (``mode``: ``file``, ``online`` or None), what it was
    granted, the installed file with its high-water mark, and the online refresh state."""

    mode: str | None = None
    entitlement: Entitlement | None = None
    file_state: ActivationState = field(default_factory=ActivationState)
    subscription_id: str | None = None
    refreshed_at: datetime | None = None
    attempted_at: datetime | None = None
    refresh_error: str | None = None


class ActivationRepository(Protocol):
    """One tenant's activation record; every query filters on that tenant."""

    async def mode(self) -> str | None:
        """How the licence is managed: ``file`` or ``online`` once activated (SPEC §7),
        None when it is bought and changed here. Cheaper than :meth:`load`."""
        ...

    async def load(self) -> ActivationRecord: ...

    async def save(self, record: ActivationRecord, at: datetime) -> None:
        """Store the record; the trusted time is left alone (it has its own writes below)."""
        ...

    async def trusted_time(self) -> TrustedTime:
        """The latest trusted time and the newest verified file's issue time, in one read."""
        ...

    async def advance_trusted_time(self, to: datetime) -> None:
        """Move the latest trusted time forward to ``to``; never back, even when two
        processes write at once."""
        ...

    async def reset_trusted_time(self, to: datetime) -> None:
        """Set the latest trusted time to ``to``, back if need be (a newer file proves it)."""
        ...


class ActivationDirectory(Protocol):
    """The installation-wide activation questions (used inside a unit of work)."""

    async def server_id(self, candidate: str, at: datetime) -> str:
        """This installation's server id, storing ``candidate`` the first time it is asked."""
        ...

    async def online_tenants(self) -> list[str]:
        """Ids of the tenants activated online (the refresh job visits each)."""
        ...


class LicenceRegistry(Protocol):
    """The licence service's side: subscriptions by id and the servers registered to them."""

    async def subscription(self, subscription_id: str) -> Subscription | None: ...

    async def register(
        self, subscription_id: str, server_id: str, tenant: str, address: str | None, at: datetime
    ) -> Registration:
        """Record a call from ``server_id``."""
        ...


class LicenceServiceUnreachable(StintError):
    """The licence service could not be asked (network, proxy, timeout, its own failure)."""

    code = "licence_service_unreachable"


class LicenceServiceRefused(StintError):
    """The licence service answered, and refused (unknown subscription, wrong plan …)."""

    code = "licence_service_refused"


class LicenceClient(Protocol):
    """An on-premises server's line to the licence service."""

    async def entitlement(self, subscription_id: str, server_id: str, tenant: str) -> Entitlement: ...


class ActivationFileReader(Protocol):
    """Checks a file's signature with the trusted keys and returns its claims (or refuses)."""

    def decode(self, text: str) -> ActivationClaims: ...
