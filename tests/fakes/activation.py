"""In-memory activation: a tenant's record, the installation's server id, the licence
service's registry and the line to it, and an activation-file reader without keys.

They behave like ``plugins/storage/activation_repo.py`` and ``plugins/licence_client``:
the first server id asked for is kept for good, a registration counts each distinct
server once, and the client fails the two ways the real one does (unreachable, refused).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from core.activation.claims import ActivationClaims, ActivationRefused
from core.activation.ports import (
    ActivationRecord,
    Entitlement,
    LicenceServiceRefused,
    LicenceServiceUnreachable,
    Registration,
)
from core.activation.trusted_time import TrustedTime
from core.licensing.subscription import Subscription

if TYPE_CHECKING:
    from tests.fakes.unit_of_work import FakeDatabase

__all__ = [
    "FakeActivationDirectory",
    "FakeActivationFileReader",
    "FakeActivationRepository",
    "FakeLicenceClient",
    "FakeLicenceRegistry",
]


class FakeActivationRepository:
    """One tenant's activation record in ``store``."""

    def __init__(self, store: FakeDatabase, tenant_id: str) -> None:
        self._store = store
        self.tenant_id = tenant_id

    async def mode(self) -> str | None:
        return (await self.load()).mode

    async def load(self) -> ActivationRecord:
        return self._store.activations.get(self.tenant_id, ActivationRecord())

    async def save(self, record: ActivationRecord, at: datetime) -> None:
        self._store.check_write("save an activation record")
        self._store.activations[self.tenant_id] = record

    async def trusted_time(self) -> TrustedTime:
        record = await self.load()
        return TrustedTime(self._store.trusted_times.get(self.tenant_id), record.file_state.high_water)

    async def advance_trusted_time(self, to: datetime) -> None:
        self._store.check_write("advance the trusted time")
        # Whole seconds, rounded down, as the real store keeps them.
        whole = to.replace(microsecond=0)
        known = self._store.trusted_times.get(self.tenant_id)
        if known is None or known < whole:
            self._store.trusted_times[self.tenant_id] = whole

    async def reset_trusted_time(self, to: datetime) -> None:
        self._store.check_write("reset the trusted time")
        self._store.trusted_times[self.tenant_id] = to.replace(microsecond=0)


class FakeActivationDirectory:
    """The installation's server id and the tenants activated online. Used inside the
    caller's unit of work: give it the factory's shared store (see ``FakeDatabase.joined``)."""

    def __init__(self, store: FakeDatabase) -> None:
        self._store = store

    async def server_id(self, candidate: str, at: datetime) -> str:
        db = self._store.joined()
        if db.server_id is None:
            db.check_write("store the server id")
            db.server_id = candidate
        return db.server_id

    async def online_tenants(self) -> list[str]:
        activations = self._store.joined().activations
        return sorted(tenant for tenant, record in activations.items() if record.mode == "online")


class FakeLicenceRegistry:
    """The licence service's records: subscriptions by id, servers per subscription. Used
    inside the caller's unit of work: give it the factory's shared store, so a registration
    the use case refuses is rolled back with it."""

    def __init__(self, store: FakeDatabase) -> None:
        self._store = store

    async def subscription(self, subscription_id: str) -> Subscription | None:
        return self._store.joined().subscription_by_id(subscription_id)

    async def register(
        self, subscription_id: str, server_id: str, tenant: str, address: str | None, at: datetime
    ) -> Registration:
        db = self._store.joined()
        db.check_write("register a server")
        servers = db.registrations.setdefault(subscription_id, set())
        new = server_id not in servers
        servers.add(server_id)
        return Registration(new=new, servers=len(servers))


@dataclass
class FakeLicenceClient:
    """The licence service as an on-premises server sees it.

    ``entitlements`` answers by subscription id (an unknown id is refused, as the
    service does); ``unreachable`` makes every call fail to connect; ``refusal`` makes
    the service refuse with that message. ``calls`` records (subscription, server, tenant).
    """

    entitlements: dict[str, Entitlement] = field(default_factory=dict)
    unreachable: bool = False
    refusal: str | None = None
    calls: list[tuple[str, str, str]] = field(default_factory=list)

    async def entitlement(self, subscription_id: str, server_id: str, tenant: str) -> Entitlement:
        self.calls.append((subscription_id, server_id, tenant))
        if self.unreachable:
            raise LicenceServiceUnreachable("cannot reach the licence service: ConnectError: refused")
        if self.refusal is not None:
            raise LicenceServiceRefused(f"The licence service refused: {self.refusal}")
        found = self.entitlements.get(subscription_id)
        if found is None:
            raise LicenceServiceRefused("The licence service refused: No subscription has this id.")
        return found


@dataclass
class FakeActivationFileReader:
    """Reads files this fake issued (:meth:`issue`); any other text is refused as tampered,
    and a file issued with ``trusted=False`` is refused as signed with an unknown key."""

    files: dict[str, ActivationClaims] = field(default_factory=dict)
    untrusted: set[str] = field(default_factory=set)

    def issue(self, claims: ActivationClaims, *, trusted: bool = True) -> str:
        """The text of a file with these claims, as support would send it."""
        text = f"fake-activation-file.{claims.key_id}.{claims.file_id}"
        self.files[text] = claims
        if not trusted:
            self.untrusted.add(text)
        return text

    def decode(self, text: str) -> ActivationClaims:
        claims = self.files.get(text.strip())
        if claims is None:
            raise ActivationRefused.tampered()
        if text.strip() in self.untrusted:
            raise ActivationRefused.wrong_key(claims.key_id)
        return claims
