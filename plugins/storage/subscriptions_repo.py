"""A tenant's subscription and the seats of its pool.

A tenant reaches its subscription through its own row, so an enterprise-wide subscription
is shared by exactly the tenants that point at it; a seat belongs to a person within that
subscription's pool, so on an enterprise-wide plan one person holds one seat however many
tenants of the enterprise they use.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from piccolo.engine.base import Engine

from core.ids import new_id
from core.licensing.ports import HeldSubscription, SubscriptionTerms
from core.licensing.seats import LastUse
from core.licensing.subscription import Subscription

from .changes import note_change, subscription_scope
from .mapping import subscription_from_row, subscription_to_row
from .plain_sql import Sql, fetch
from .tables import Seat, TenantUser
from .tables import Subscription as SubscriptionRow
from .tables import Tenant as TenantRow

__all__ = ["Account", "PiccoloSeatRepository", "PiccoloSubscriptionRepository"]

# The statements a payment webhook runs under the tenant (its subscription, read locked and
# saved) are plain SQL: Piccolo's query builder cost 250–400 µs per statement, more than the
# database took to run it. Both engines read them; each still filters on the tenant's keys.
_SUBSCRIPTION_ID = Sql("SELECT subscription_id FROM tenant WHERE id = {}")
_SUBSCRIPTION = Sql("SELECT * FROM subscription WHERE id = {}")
_SUBSCRIPTION_LOCKED = Sql("SELECT * FROM subscription WHERE id = {} FOR UPDATE")


class Account:
    """A tenant's billing account: its subscription id, read once per unit of work.

    Almost every billing query needs it, and a tenant's subscription only changes by
    re-pointing it onto the same pool's row, so one read serves the whole transaction.
    """

    __slots__ = ("_subscription_id", "tenant_id")

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self._subscription_id: str | None = None

    async def subscription_id(self) -> str:
        if self._subscription_id is None:
            rows = await fetch(TenantRow, _SUBSCRIPTION_ID, self.tenant_id)
            if not rows:
                raise LookupError(f"no tenant {self.tenant_id}")
            self._subscription_id = str(rows[0]["subscription_id"])
        return self._subscription_id


class PiccoloSubscriptionRepository:
    def __init__(self, engine: Engine[Any], account: Account) -> None:
        self._engine = engine
        self._account = account

    async def id(self) -> str:
        return await self._account.subscription_id()

    async def get(self, *, for_update: bool = False) -> HeldSubscription:
        """``for_update`` locks the row until the transaction ends.

        On SQLite the unit of work already holds the database's write lock (IMMEDIATE),
        which serialises writers the way the row lock does on PostgreSQL.
        """
        sub_id = await self._account.subscription_id()
        locked = for_update and self._engine.engine_type == "postgres"
        rows = await fetch(SubscriptionRow, _SUBSCRIPTION_LOCKED if locked else _SUBSCRIPTION, sub_id)
        return HeldSubscription(sub_id, subscription_from_row(rows[0]))

    async def save(
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

    async def terms(self) -> SubscriptionTerms:
        sub_id = await self._account.subscription_id()
        row = (
            await SubscriptionRow.select(
                SubscriptionRow.seat_price, SubscriptionRow.currency, SubscriptionRow.scope
            )
            .where(SubscriptionRow.id == sub_id)
            .first()
        )
        if row is None:
            raise LookupError(f"no subscription {sub_id}")
        return SubscriptionTerms(row["seat_price"], row["currency"], row["scope"])


class PiccoloSeatRepository:
    def __init__(self, account: Account) -> None:
        self._account = account

    async def is_licensed(self, person_id: str) -> bool:
        sub_id = await self._account.subscription_id()
        return await Seat.exists().where((Seat.subscription_id == sub_id) & (Seat.person_id == person_id))

    async def taken(self) -> int:
        sub_id = await self._account.subscription_id()
        return int(await Seat.count().where(Seat.subscription_id == sub_id))

    async def holders(self) -> set[str]:
        sub_id = await self._account.subscription_id()
        rows = await Seat.select(Seat.person_id).where(Seat.subscription_id == sub_id)
        return {row["person_id"] for row in rows}

    async def holders_last_use(self) -> list[LastUse]:
        sub_id = await self._account.subscription_id()
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
        return [LastUse(person, on) for person, on in sorted(last.items())]

    async def assign(self, person_id: str, by: str, at: datetime) -> None:
        sub_id = await self._account.subscription_id()
        note_change(subscription_scope(sub_id))
        await Seat.insert(
            Seat(id=new_id(), subscription_id=sub_id, person_id=person_id, assigned_at=at, assigned_by=by)
        )

    async def release(self, person_id: str) -> bool:
        sub_id = await self._account.subscription_id()
        note_change(subscription_scope(sub_id))
        found = await Seat.exists().where((Seat.subscription_id == sub_id) & (Seat.person_id == person_id))
        await Seat.delete().where((Seat.subscription_id == sub_id) & (Seat.person_id == person_id))
        return bool(found)
