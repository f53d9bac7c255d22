"""One tenant's repositories. Every query here filters on ``self.tenant_id``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from piccolo.engine.base import Engine

from core.ids import new_id
from core.licensing.subscription import Subscription
from core.tenancy import User

from .activation_repo import PiccoloActivationRepo
from .activation_tables import TenantActivation
from .billing_repo import InvoiceRepo
from .changes import note_change, subscription_scope, tenant_scope, user_scope
from .directory import PiccoloDirectory
from .mapping import subscription_from_row, subscription_to_row, user_from_row
from .plain_sql import Sql, fetch
from .tables import AuditEvent, Seat, TenantUser
from .tables import Person as PersonRow
from .tables import Subscription as SubscriptionRow
from .tables import Tenant as TenantRow
from .token_repo import PiccoloTokenRepository
from .tracking_repo import PiccoloTrackingRepo

# The statements a payment webhook runs under the tenant (its subscription, read locked and
# saved) are plain SQL: Piccolo's query builder cost 250–400 µs per statement, more than the
# database took to run it. Both engines read them; each still filters on the tenant's keys.
_SUBSCRIPTION_ID = Sql("SELECT subscription_id FROM tenant WHERE id = {}")
_SUBSCRIPTION = Sql("SELECT * FROM subscription WHERE id = {}")
_SUBSCRIPTION_LOCKED = Sql("SELECT * FROM subscription WHERE id = {} FOR UPDATE")


class PiccoloTenantScope:
    def __init__(self, engine: Engine[Any], tenant_id: str) -> None:
        self._engine = engine
        self.tenant_id = tenant_id
        # Read once per scope (one unit of work): almost every billing query needs it, and a
        # tenant's subscription only changes by re-pointing it onto the same pool's row.
        self._subscription_id: str | None = None

    def tokens(self) -> PiccoloTokenRepository:
        """This tenant's refresh and personal access tokens (``token_repo.py``)."""
        return PiccoloTokenRepository(self._engine, self.tenant_id)

    def _users(self) -> Any:
        return TenantUser.select(
            TenantUser.all_columns(exclude=[TenantUser.password_hash]),
            TenantUser.person_id.email,
            TenantUser.person_id.name,
        ).where(TenantUser.tenant_id == self.tenant_id)

    async def user(self, user_id: str) -> User | None:
        row = await self._users().where(TenantUser.id == user_id).first()
        return user_from_row(row) if row else None

    async def user_by_email(self, email: str) -> User | None:
        row = await self._users().where(TenantUser.person_id.email == email).first()
        return user_from_row(row) if row else None

    async def user_by_person(self, person_id: str) -> User | None:
        row = await self._users().where(TenantUser.person_id == person_id).first()
        return user_from_row(row) if row else None

    async def password_hash(self, user_id: str) -> str | None:
        row = (
            await TenantUser.select(TenantUser.password_hash)
            .where((TenantUser.tenant_id == self.tenant_id) & (TenantUser.id == user_id))
            .first()
        )
        return row["password_hash"] if row else None

    async def users(self, *, after: str = "", limit: int = 100) -> list[User]:
        query = self._users().order_by(TenantUser.id).limit(limit)
        if after:
            query = query.where(TenantUser.id > after)
        return [user_from_row(row) for row in await query]

    async def add_user(self, user: User, password_hash: str | None, at: datetime) -> None:
        if user.tenant_id != self.tenant_id:
            raise ValueError("a user can only be added to its own tenant")
        await TenantUser.insert(
            TenantUser(
                id=user.id,
                tenant_id=self.tenant_id,
                person_id=user.person_id,
                role=user.role,
                collection_admin=user.collection_admin,
                approval_manager=user.approval_manager,
                password_hash=password_hash,
                last_used_at=user.last_used_at,
                created_at=at,
            )
        )

    async def save_user(self, user: User) -> None:
        note_change(tenant_scope(self.tenant_id))
        await TenantUser.update(
            {
                TenantUser.role: user.role,
                TenantUser.collection_admin: user.collection_admin,
                TenantUser.approval_manager: user.approval_manager,
                TenantUser.last_used_at: user.last_used_at,
            }
        ).where((TenantUser.tenant_id == self.tenant_id) & (TenantUser.id == user.id))

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        await TenantUser.update({TenantUser.password_hash: password_hash}).where(
            (TenantUser.tenant_id == self.tenant_id) & (TenantUser.id == user_id)
        )

    async def touch_user(self, user_id: str, at: datetime) -> None:
        note_change(user_scope(user_id))
        await TenantUser.update({TenantUser.last_used_at: at}).where(
            (TenantUser.tenant_id == self.tenant_id) & (TenantUser.id == user_id)
        )

    async def person_email_taken(self, email: str) -> bool:
        return await PersonRow.exists().where(PersonRow.email == email)

    async def audit(
        self, actor: str, action: str, subject: str, detail: dict[str, Any], at: datetime
    ) -> None:
        await PiccoloDirectory(self._engine).audit(self.tenant_id, actor, action, subject, detail, at)

    async def audited_since(self, action: str, subject: str, since: datetime) -> bool:
        """Whether ``action`` on ``subject`` was audited in this tenant at or after ``since``."""
        return bool(
            await AuditEvent.exists().where(
                (AuditEvent.tenant_id == self.tenant_id)
                & (AuditEvent.action == action)
                & (AuditEvent.subject == subject)
                & (AuditEvent.at >= since)
            )
        )

    async def recent_users(self, since: datetime) -> list[tuple[str, date | None]]:
        """(person, last use) of the users who used the product at or after ``since``."""
        rows = await TenantUser.select(TenantUser.person_id, TenantUser.last_used_at).where(
            (TenantUser.tenant_id == self.tenant_id) & (TenantUser.last_used_at >= since)
        )
        return [(row["person_id"], row["last_used_at"].date()) for row in rows]

    # Subscriptions ---------------------------------------------------------------
    # A tenant reaches its subscription through its own row, so an enterprise-wide
    # subscription is shared by exactly the tenants that point at it.

    async def subscription_id(self) -> str:
        if self._subscription_id is None:
            rows = await fetch(TenantRow, _SUBSCRIPTION_ID, self.tenant_id)
            if not rows:
                raise LookupError(f"no tenant {self.tenant_id}")
            self._subscription_id = str(rows[0]["subscription_id"])
        return self._subscription_id

    async def subscription(self, *, for_update: bool = False) -> tuple[str, Subscription]:
        """The tenant's subscription; ``for_update`` locks its row until the transaction ends.

        On SQLite the unit of work already holds the database's write lock (IMMEDIATE),
        which serialises writers the way the row lock does on PostgreSQL.
        """
        sub_id = await self.subscription_id()
        locked = for_update and self._engine.engine_type == "postgres"
        rows = await fetch(SubscriptionRow, _SUBSCRIPTION_LOCKED if locked else _SUBSCRIPTION, sub_id)
        return sub_id, subscription_from_row(rows[0])

    async def save_subscription(
        self, sub_id: str, sub: Subscription, at: datetime, *, seat_price: int | None = None,
        scope: str | None = None,
    ) -> None:
        note_change(subscription_scope(sub_id))
        values: dict[Any, Any] = {**subscription_to_row(sub), "updated_at": at}
        if seat_price is not None:
            values["seat_price"] = seat_price
        if scope is not None:
            values["scope"] = scope
        # One UPDATE (column names are mapping.py's, never input); the version counts saves.
        names = list(values)
        sets = ", ".join(f'"{name}" = {{}}' for name in names)  # quoted: "interval" is a keyword
        await fetch(
            SubscriptionRow,
            Sql(f"UPDATE subscription SET {sets}, version = version + 1 WHERE id = {{}}"),
            *(values[name] for name in names),
            sub_id,
        )

    async def subscription_terms(self) -> tuple[int | None, str, str]:
        """(seat price in force, currency, scope) of the tenant's subscription."""
        sub_id = await self.subscription_id()
        row = (
            await SubscriptionRow.select(
                SubscriptionRow.seat_price, SubscriptionRow.currency, SubscriptionRow.scope
            )
            .where(SubscriptionRow.id == sub_id)
            .first()
        )
        return row["seat_price"], row["currency"], row["scope"]

    async def billing(self) -> InvoiceRepo:
        """Invoices and credit of the tenant's billing account (its subscription)."""
        return InvoiceRepo(await self.subscription_id(), self.tenant_id)

    async def licensed_people_last_use(self) -> list[tuple[str, date | None]]:
        """Each person holding a seat in the pool, with the day they last used any of its tenants."""
        sub_id = await self.subscription_id()
        seats = await Seat.select(Seat.person_id).where(Seat.subscription_id == sub_id)
        holders = {row["person_id"] for row in seats}
        if not holders:
            return []
        pool = await TenantRow.select(TenantRow.id).where(TenantRow.subscription_id == sub_id)
        tenants = [row["id"] for row in pool]
        last: dict[str, date | None] = dict.fromkeys(holders)
        rows = await TenantUser.select(TenantUser.person_id, TenantUser.last_used_at).where(
            TenantUser.tenant_id.is_in(tenants) & TenantUser.person_id.is_in(list(holders))
        )
        for row in rows:
            used = row["last_used_at"].date() if row["last_used_at"] else None
            seen = last.get(row["person_id"])
            if used and (seen is None or used > seen):
                last[row["person_id"]] = used
        return sorted(last.items())

    async def activation_mode(self) -> str | None:
        row = (
            await TenantActivation.select(TenantActivation.mode)
            .where(TenantActivation.tenant_id == self.tenant_id)
            .first()
        )
        return row["mode"] if row else None

    def activation(self) -> PiccoloActivationRepo:
        """This tenant's on-premises activation record (``activation_repo.py``)."""
        return PiccoloActivationRepo(self.tenant_id)

    def tracking(self) -> PiccoloTrackingRepo:
        """Timers, worklogs, weeks and the work-item outbox of this tenant."""
        return PiccoloTrackingRepo(self._engine, self.tenant_id)

    # Seats ---------------------------------------------------------------------------
    # A seat belongs to a person within a subscription's pool, so on an enterprise-wide
    # plan one person holds one seat however many tenants of the enterprise they use.

    async def is_licensed(self, person_id: str) -> bool:
        sub_id = await self.subscription_id()
        return await Seat.exists().where((Seat.subscription_id == sub_id) & (Seat.person_id == person_id))

    async def seats_taken(self) -> int:
        """Licensed persons in the pool (on enterprise plans: across all its tenants)."""
        sub_id = await self.subscription_id()
        return int(await Seat.count().where(Seat.subscription_id == sub_id))

    async def licensed_person_ids(self) -> set[str]:
        sub_id = await self.subscription_id()
        rows = await Seat.select(Seat.person_id).where(Seat.subscription_id == sub_id)
        return {row["person_id"] for row in rows}

    async def assign_seat(self, person_id: str, by: str, at: datetime) -> None:
        sub_id = await self.subscription_id()
        note_change(subscription_scope(sub_id))
        await Seat.insert(
            Seat(id=new_id(), subscription_id=sub_id, person_id=person_id, assigned_at=at, assigned_by=by)
        )

    async def release_seat(self, person_id: str) -> bool:
        sub_id = await self.subscription_id()
        note_change(subscription_scope(sub_id))
        found = await Seat.exists().where((Seat.subscription_id == sub_id) & (Seat.person_id == person_id))
        await Seat.delete().where((Seat.subscription_id == sub_id) & (Seat.person_id == person_id))
        return bool(found)
