"""Identity's ports in memory: a tenant's users, audit trail and tokens, and a password hasher
that is fast and deterministic (as ``plugins/storage`` and ``plugins/identity`` behave)."""

from __future__ import annotations

import builtins
import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import quote

from core.audit import AuditQuery, AuditRecord
from core.identity.oauth import AuthorizationCode, DeviceCode, OAuthClient
from core.identity.ports import AppGrant, PersonalTokenRecord, RefreshTokenRecord, SecondFactorRecord
from core.licensing.seats import LastUse
from core.tenancy import User

from .licensing import audit_records, audit_row
from .rows import FakeIntegrityError, StoredUser, fits
from .unit_of_work import FakeDatabase

__all__ = [
    "FakeAuditLog",
    "FakeOneTimeCodes",
    "FakePasswordHasher",
    "FakeSecondFactorStore",
    "FakeTokenRepository",
    "FakeUserRepository",
]


class FakePasswordHasher:
    """A salted-looking but deterministic hash; counts every hash, check and burn.

    ``burned`` lets a test see that an unknown account spent a verification's time.
    """

    def __init__(self) -> None:
        self.hashed = 0
        self.verified = 0
        self.burned = 0

    @staticmethod
    def _digest(password: str) -> str:
        return "fake$" + hashlib.sha256(password.encode("utf-8")).hexdigest()

    def hash(self, password: str) -> str:
        self.hashed += 1
        return self._digest(password)

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified += 1
        return password_hash == self._digest(password)

    def burn(self, password: str) -> None:
        self.burned += 1
        self._digest(password)


class FakeUserRepository:
    """One tenant's users; a user's e-mail and name come from the person, as the real join."""

    def __init__(self, store: FakeDatabase, tenant_id: str) -> None:
        self._store = store
        self.tenant_id = tenant_id

    def _rows(self) -> dict[str, StoredUser]:
        return self._store.users.get(self.tenant_id, {})

    def _user(self, row: StoredUser) -> User:
        # Whether a second factor is confirmed lives with the factor, as the real column does.
        held = self._store.second_factors.get(row.user.id)
        user = replace(row.user, second_factor=held is not None and held.confirmed_at is not None)
        person = self._store.persons.get(row.user.person_id)
        if person is None:
            return user
        return replace(user, email=person.email, name=person.name)

    async def get(self, user_id: str) -> User | None:
        row = self._rows().get(user_id)
        return self._user(row) if row else None

    async def by_email(self, email: str) -> User | None:
        return next((u for u in map(self._user, self._rows().values()) if u.email == email), None)

    async def by_person(self, person_id: str) -> User | None:
        return next((u for u in map(self._user, self._rows().values()) if u.person_id == person_id), None)

    async def password_hash(self, user_id: str) -> str | None:
        row = self._rows().get(user_id)
        return row.password_hash if row else None

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        self._store.check_write("set a password")
        row = self._rows().get(user_id)
        if row is not None:
            row.password_hash = password_hash

    async def list(self, *, after: str = "", limit: int = 100) -> builtins.list[User]:
        users = sorted(self._rows().values(), key=lambda row: row.user.id)
        return [self._user(row) for row in users if row.user.id > after][:limit]

    async def add(self, user: User, password_hash: str | None, at: datetime) -> None:
        self._store.check_write("add a user")
        if user.tenant_id != self.tenant_id:
            raise ValueError("a user can only be added to its own tenant")
        fits("tenant_user.role", user.role, 16)
        if user.person_id not in self._store.persons:
            raise FakeIntegrityError(f"no person {user.person_id} (a user references one)")
        rows = self._store.users.setdefault(self.tenant_id, {})
        if user.id in rows or any(r.user.person_id == user.person_id for r in rows.values()):
            raise FakeIntegrityError(f"{user.email} is a user of {self.tenant_id} already")
        rows[user.id] = StoredUser(user, password_hash, at)

    async def save(self, user: User) -> None:
        self._store.check_write("save a user")
        fits("tenant_user.role", user.role, 16)
        self._store.note_change(f"t:{self.tenant_id}")
        row = self._rows().get(user.id)
        if row is not None:
            row.user = replace(
                row.user, role=user.role, collection_admin=user.collection_admin,
                approval_manager=user.approval_manager, last_used_at=user.last_used_at,
            )

    async def save_profile(self, user: User) -> None:
        self._store.check_write("save a profile")
        self._store.note_change(f"u:{user.id}")
        row = self._rows().get(user.id)
        if row is None:
            return
        row.user = replace(row.user, locale=user.locale, time_format=user.time_format,
                           week_starts_on=user.week_starts_on)
        person = self._store.persons.get(row.user.person_id)
        if person is not None:
            self._store.persons[row.user.person_id] = replace(person, name=user.name)

    async def set_active(self, user_id: str, active: bool, at: datetime) -> None:
        self._store.check_write("deactivate or reactivate a user")
        self._store.note_change(f"t:{self.tenant_id}")
        self._store.note_change(f"u:{user_id}")
        row = self._rows().get(user_id)
        if row is not None:
            row.user = replace(row.user, active=active)

    async def touch(self, user_id: str, at: datetime) -> None:
        self._store.check_write("record a user's last use")
        self._store.note_change(f"u:{user_id}")
        row = self._rows().get(user_id)
        if row is not None:
            row.user = replace(row.user, last_used_at=at)

    async def recent(self, since: datetime) -> builtins.list[LastUse]:
        return [
            LastUse(row.user.person_id, row.user.last_used_at.date())
            for row in self._rows().values()
            if row.user.last_used_at is not None and row.user.last_used_at >= since
        ]


class FakeAuditLog:
    """One tenant's audit trail, in the store's audit list."""

    def __init__(self, store: FakeDatabase, tenant_id: str) -> None:
        self._store = store
        self.tenant_id = tenant_id

    async def record(
        self, actor: str, action: str, subject: str, detail: dict[str, Any], at: datetime,
        *, address: str | None = None,
    ) -> None:
        self._store.check_write("write the audit log")
        self._store.audit.append(audit_row(self.tenant_id, actor, action, subject, detail, at, address))

    async def page(self, query: AuditQuery) -> list[AuditRecord]:
        return audit_records(self._store.audit, replace(query, tenant_id=self.tenant_id))

    async def recorded_since(self, action: str, subject: str, since: datetime) -> bool:
        return any(
            row.tenant_id == self.tenant_id and row.action == action and row.subject == subject
            and row.at >= since
            for row in self._store.audit
        )


class FakeTokenRepository:
    """One tenant's refresh and personal access tokens; token hashes are unique installation-wide."""

    def __init__(self, store: FakeDatabase, tenant_id: str) -> None:
        self._store = store
        self.tenant_id = tenant_id

    def _refresh(self) -> list[RefreshTokenRecord]:
        return [r for r in self._store.refresh_tokens.values() if r.tenant_id == self.tenant_id]

    def _pats(self) -> list[PersonalTokenRecord]:
        return [r for r in self._store.personal_tokens.values() if r.tenant_id == self.tenant_id]

    async def add_refresh(self, record: RefreshTokenRecord) -> None:
        self._store.check_write("add a refresh token")
        if record.tenant_id != self.tenant_id:
            raise ValueError("a token can only be added to its own tenant")
        tokens = self._store.refresh_tokens
        if record.id in tokens or any(r.token_hash == record.token_hash for r in tokens.values()):
            raise FakeIntegrityError("a refresh token with this id or hash exists")
        tokens[record.id] = record

    async def refresh_by_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> RefreshTokenRecord | None:
        if for_update:
            self._store.check_write("lock a refresh token")
        return next((r for r in self._refresh() if r.token_hash == token_hash), None)

    async def mark_refresh_used(self, token_id: str, at: datetime) -> None:
        self._store.check_write("mark a refresh token used")
        record = self._store.refresh_tokens.get(token_id)
        if record is not None and record.tenant_id == self.tenant_id:
            self._store.refresh_tokens[token_id] = replace(record, used_at=at)

    async def revoke_family(self, user_id: str, family_id: str, at: datetime) -> int:
        self._store.check_write("revoke a token family")
        # As the adapter: the user's cached sign-in state moves, so every process asks again.
        self._store.note_change(f"u:{user_id}")
        live = [
            r for r in self._refresh()
            if r.user_id == user_id and r.family_id == family_id and r.revoked_at is None
        ]
        for record in live:
            self._store.refresh_tokens[record.id] = replace(record, revoked_at=at)
        return len(live)

    async def revoke_user(self, user_id: str, at: datetime) -> int:
        self._store.check_write("revoke a user's tokens")
        self._store.note_change(f"u:{user_id}")
        count = 0
        for record in self._refresh():
            if record.user_id == user_id and record.revoked_at is None:
                self._store.refresh_tokens[record.id] = replace(record, revoked_at=at)
                count += 1
        for pat in self._pats():
            if pat.user_id == user_id and pat.revoked_at is None:
                self._store.personal_tokens[pat.id] = replace(pat, revoked_at=at)
                count += 1
        return count

    async def family_revoked(self, user_id: str, family_id: str) -> bool:
        return any(
            r.user_id == user_id and r.family_id == family_id and r.revoked_at is not None
            for r in self._refresh()
        )

    async def app_grants(self, user_id: str) -> list[AppGrant]:
        grants: dict[str, AppGrant] = {}
        live = set(await self.app_families(user_id))
        for r in sorted(self._refresh(), key=lambda r: r.issued_at):
            if r.user_id != user_id or r.client_id is None or r.family_id not in live:
                continue
            first = grants.get(r.family_id)
            grants[r.family_id] = AppGrant(
                family_id=r.family_id, client_id=r.client_id, scopes=r.scopes,
                created_at=first.created_at if first else r.issued_at, last_used_at=r.issued_at,
                address=r.address or (first.address if first else None),
            )
        return list(grants.values())

    async def app_families(self, user_id: str) -> list[str]:
        return sorted({
            r.family_id for r in self._refresh()
            if r.user_id == user_id and r.client_id is not None and r.revoked_at is None
        })

    async def revoke_client(self, client_id: str, at: datetime) -> int:
        self._store.check_write("revoke an app's families")
        live = [r for r in self._refresh() if r.client_id == client_id and r.revoked_at is None]
        for record in live:
            self._store.note_change(f"u:{record.user_id}")
            self._store.refresh_tokens[record.id] = replace(record, revoked_at=at)
        return len(live)

    async def add_pat(self, record: PersonalTokenRecord) -> None:
        self._store.check_write("add a personal access token")
        if record.tenant_id != self.tenant_id:
            raise ValueError("a token can only be added to its own tenant")
        fits("personal_access_token.name", record.name, 100)
        tokens = self._store.personal_tokens
        if record.id in tokens or any(r.token_hash == record.token_hash for r in tokens.values()):
            raise FakeIntegrityError("a personal access token with this id or hash exists")
        tokens[record.id] = record

    async def pat_by_hash(self, token_hash: str) -> PersonalTokenRecord | None:
        return next((r for r in self._pats() if r.token_hash == token_hash), None)

    async def pats(self, user_id: str, *, after: str = "", limit: int = 50) -> list[PersonalTokenRecord]:
        mine = sorted(
            (r for r in self._pats() if r.user_id == user_id and r.revoked_at is None and r.id > after),
            key=lambda r: r.id,
        )
        return mine[:limit]

    async def revoke_pat(self, user_id: str, pat_id: str, at: datetime) -> bool:
        self._store.check_write("revoke a personal access token")
        record = self._store.personal_tokens.get(pat_id)
        if (
            record is None or record.tenant_id != self.tenant_id or record.user_id != user_id
            or record.revoked_at is not None
        ):
            return False
        self._store.personal_tokens[pat_id] = replace(record, revoked_at=at)
        return True

    async def touch_pat(self, pat_id: str, at: datetime) -> None:
        self._store.check_write("record a token's last use")
        record = self._store.personal_tokens.get(pat_id)
        if record is not None and record.tenant_id == self.tenant_id:
            self._store.personal_tokens[pat_id] = replace(record, last_used_at=at)


class FakeSecondFactorStore:
    """Second factors of one realm on the store: operators (``tenant_id`` None) or one
    tenant's users; the secret's columns of the account's row, and recovery codes by owner.
    As the real one, a write for an account outside the realm changes nothing, and a step or
    a recovery code is spent by one conditional write."""

    def __init__(self, store: FakeDatabase, tenant_id: str | None = None) -> None:
        self._store = store
        self._tenant_id = tenant_id

    def _mine(self, owner_id: str) -> bool:
        if self._tenant_id is None:
            return owner_id in self._store.operators
        return owner_id in self._store.users.get(self._tenant_id, {})

    def _changed(self, owner_id: str) -> None:
        if self._tenant_id is not None:
            # The signed-in user's cached row says whether they have a factor.
            self._store.note_change(f"u:{owner_id}")

    async def get(self, owner_id: str) -> SecondFactorRecord | None:
        return self._store.second_factors.get(owner_id) if self._mine(owner_id) else None

    async def start(self, owner_id: str, sealed_secret: str) -> None:
        self._store.check_write("start a second factor")
        if self._mine(owner_id):
            self._changed(owner_id)
            self._store.second_factors[owner_id] = SecondFactorRecord(sealed_secret, None, None)

    async def confirm(
        self, owner_id: str, at: datetime, step: int | None, recovery_hashes: list[str]
    ) -> None:
        self._store.check_write("confirm a second factor")
        held = await self.get(owner_id)
        if held is None:
            return
        self._changed(owner_id)
        self._store.second_factors[owner_id] = replace(held, confirmed_at=at, last_step=step)
        self._store.recovery_codes[owner_id] = dict.fromkeys(recovery_hashes)

    async def use_step(self, owner_id: str, step: int) -> bool:
        self._store.check_write("spend a code")
        held = await self.get(owner_id)
        if held is None or held.confirmed_at is None:
            return False
        if held.last_step is not None and held.last_step >= step:
            return False
        self._store.second_factors[owner_id] = replace(held, last_step=step)
        return True

    async def use_recovery(self, owner_id: str, code_hash: str, at: datetime) -> bool:
        self._store.check_write("spend a recovery code")
        codes = self._store.recovery_codes.get(owner_id, {}) if self._mine(owner_id) else {}
        if code_hash not in codes or codes[code_hash] is not None:
            return False
        codes[code_hash] = at
        return True

    async def recovery_left(self, owner_id: str) -> int:
        if not self._mine(owner_id):
            return 0
        return sum(1 for used in self._store.recovery_codes.get(owner_id, {}).values() if used is None)

    async def remove(self, owner_id: str) -> None:
        self._store.check_write("remove a second factor")
        if not self._mine(owner_id):
            return
        self._changed(owner_id)
        self._store.second_factors.pop(owner_id, None)
        self._store.recovery_codes.pop(owner_id, None)


_STEP_SECONDS = 30


@dataclass
class FakeOneTimeCodes:
    """Deterministic one-time codes: a code is a digest of the secret and the 30-second step,
    one step of drift either way is accepted (as ``plugins/identity/totp.py``), and a sealed
    secret opens only for the owner it was sealed for."""

    issued: int = 0

    def new_secret(self) -> str:
        self.issued += 1
        return f"FAKESECRET{self.issued:06d}"

    def uri(self, secret: str, *, account: str, issuer: str) -> str:
        return f"otpauth://totp/{quote(issuer)}:{quote(account)}?secret={secret}&issuer={quote(issuer)}"

    @staticmethod
    def step_of(now: datetime) -> int:
        return int(now.timestamp()) // _STEP_SECONDS

    @staticmethod
    def code_of(secret: str, step: int) -> str:
        return f"{int(hashlib.sha256(f'{secret}:{step}'.encode()).hexdigest(), 16) % 1_000_000:06d}"

    def code_at(self, secret: str, now: datetime) -> str:
        return self.code_of(secret, self.step_of(now))

    def matching_step(self, secret: str, code: str, now: datetime) -> int | None:
        current = self.step_of(now)
        return next((s for s in (current - 1, current, current + 1) if self.code_of(secret, s) == code), None)

    def seal(self, owner_id: str, secret: str) -> str:
        return f"sealed:{owner_id}:{secret}"

    def unseal(self, owner_id: str, sealed: str) -> str:
        prefix = f"sealed:{owner_id}:"
        if not sealed.startswith(prefix):
            raise ValueError("the secret was sealed for another account")
        return sealed[len(prefix):]


class FakeOAuthStore:
    """OAuth clients and codes in memory, as ``plugins/storage/oauth_repo.py`` keeps them."""

    def __init__(self, store: FakeDatabase) -> None:
        self._store = store

    async def add_client(self, client: OAuthClient) -> None:
        self._store.check_write("register an OAuth client")
        if client.id in self._store.oauth_clients:
            raise FakeIntegrityError("an OAuth client with this id exists")
        self._store.oauth_clients[client.id] = client

    async def client(self, client_id: str) -> OAuthClient | None:
        return self._store.oauth_clients.get(client_id)

    async def tenant_clients(self, tenant_id: str) -> list[OAuthClient]:
        mine = [c for c in self._store.oauth_clients.values() if c.tenant_id == tenant_id]
        return sorted(mine, key=lambda c: (c.created_at, c.id))

    async def set_client_disabled(self, tenant_id: str, client_id: str, disabled: bool) -> bool:
        self._store.check_write("disable an OAuth client")
        found = self._store.oauth_clients.get(client_id)
        if found is None or found.tenant_id != tenant_id:
            return False
        self._store.oauth_clients[client_id] = replace(found, disabled=disabled)
        return True

    async def add_code(self, code: AuthorizationCode) -> None:
        self._store.check_write("add an authorization code")
        self._store.oauth_codes[code.code_hash] = code

    async def take_code(self, code_hash: str, at: datetime) -> AuthorizationCode | None:
        self._store.check_write("take an authorization code")
        found = self._store.oauth_codes.get(code_hash)
        if found is not None and found.used_at is None:
            self._store.oauth_codes[code_hash] = replace(found, used_at=at)
        return found

    async def bind_code(self, code_hash: str, family_id: str) -> None:
        self._store.check_write("bind an authorization code")
        self._store.oauth_codes[code_hash] = replace(self._store.oauth_codes[code_hash], family_id=family_id)

    async def add_device(self, code: DeviceCode) -> None:
        self._store.check_write("add a device code")
        self._store.oauth_devices[code.device_code_hash] = code

    async def device(self, device_code_hash: str) -> DeviceCode | None:
        return self._store.oauth_devices.get(device_code_hash)

    async def device_by_user_code(self, user_code: str) -> DeviceCode | None:
        return next((d for d in self._store.oauth_devices.values() if d.user_code == user_code), None)

    async def polled(self, device_code_hash: str, at: datetime) -> None:
        found = self._store.oauth_devices[device_code_hash]
        self._store.oauth_devices[device_code_hash] = replace(found, last_polled_at=at)

    async def decide_device(
        self, user_code: str, tenant_id: str, user_id: str, approved: bool, at: datetime
    ) -> bool:
        found = await self.device_by_user_code(user_code)
        if found is None or found.approved is not None or found.expires_at <= at:
            return False
        self._store.oauth_devices[found.device_code_hash] = replace(
            found, tenant_id=tenant_id, user_id=user_id, approved=approved
        )
        return True

    async def take_device(self, device_code_hash: str, at: datetime) -> bool:
        found = self._store.oauth_devices.get(device_code_hash)
        if found is None or found.used_at is not None:
            return False
        self._store.oauth_devices[device_code_hash] = replace(found, used_at=at)
        return True
