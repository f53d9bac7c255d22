"""Seeding shared by the benches that need a year of worklogs at scale (tracking, explorer).

``seed`` fills a migrated PostgreSQL database with COPY: tenants (with their enterprise and
subscription), users, and ``worklogs`` spread over 52 weeks of working hours. Every index
on ``worklog`` other than its primary key is dropped before the COPY and made again after
it (faster than maintaining them row by row), whatever migration added it.

``activity_types`` > 0 adds that many activity types per tenant (every other one with an
hourly rate), a rate for every user and the tenant's rate currency, puts one worklog in
three on an activity type and makes worklogs billable: what pricing reads. The worklog
rows are the same either way (the extra columns take nothing from the random sequence),
so the tracking bench's data does not change.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

YEAR_START = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday; worklogs fill 52 weeks from here
CHUNK = 250_000
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
CURRENCY = "EUR"


#: The work items of every tenant that the seeded worklogs name.
ITEMS = range(1000, 1200)


def tenant_id(n: int) -> str:
    return f"t{n:031d}"


def user_id(n: int) -> str:
    return f"u{n:031d}"


def activity_type_id(tenant: int, n: int) -> str:
    return f"a{tenant:023d}{n:08d}"


def user_rate(u: int) -> int:
    """A user's hourly rate in minor units (odd ones too, so half-even rounding is exercised)."""
    return 4_000 + 37 * (u % 113)


def activity_type_rate(n: int) -> int | None:
    return 9_001 + 250 * n if n % 2 == 0 else None


def worklog_rows(count: int, users: int, tenants: int, activity_types: int = 0) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(7)
    per_user = max(1, count // users)
    made = 0
    for u in range(users):
        t = u % tenants
        take = per_user if u < users - 1 else count - made
        for i in range(take):
            # Spread over the year, on working hours; one worklog in ten on no work item.
            day = (i * 364 // max(1, take)) + rng.randrange(0, 2)
            start = YEAR_START + timedelta(days=day, hours=8 + rng.randrange(0, 9), minutes=rng.randrange(60))
            item = None if i % 10 == 0 else str(ITEMS.start + rng.randrange(len(ITEMS)))
            length = 900 * rng.randrange(1, 16)
            if activity_types:
                kind = activity_type_id(t, i % activity_types) if i % 3 == 0 else None
                # Billable lengths not on the quarter hour, so per-worklog rounding matters.
                billable = 0 if i % 7 == 0 else length - (i % 13) * 7
            else:
                kind, billable = None, 0
            flags = "billable,manual" if billable else "manual"
            yield (f"w{made:031d}", tenant_id(t), user_id(u), start, length, billable, item, None, None,
                   user_id(u), flags, False, None, NOW, NOW, kind)
            made += 1


async def seed(url: str, worklogs: int, tenants: int, users: int, *, activity_types: int = 0,
               roles: dict[int, str] | None = None) -> None:
    """Seed a migrated database; ``roles`` overrides the role of some users (by number)."""
    connection = await asyncpg.connect(url)
    try:
        await connection.copy_records_to_table(
            "enterprise", records=[(f"e{t:031d}", f"Enterprise {t}", NOW) for t in range(tenants)],
            columns=["id", "name", "created_at"])
        await connection.copy_records_to_table(
            "subscription",
            records=[(f"s{t:031d}", f"e{t:031d}", "team", "annual", 100, "active", date(2025, 1, 1),
                      date(2026, 1, 1), 1, NOW, NOW) for t in range(tenants)],
            columns=["id", "enterprise_id", "plan_id", "interval", "seats", "status", "period_start",
                     "period_end", "anchor_day", "created_at", "updated_at"])
        await connection.copy_records_to_table(
            "tenant",
            records=[(tenant_id(t), f"tenant-{t}", f"Tenant {t}", "cloud", f"e{t:031d}", f"s{t:031d}", NOW)
                     for t in range(tenants)],
            columns=["id", "slug", "name", "deployment", "enterprise_id", "subscription_id", "created_at"])
        await connection.copy_records_to_table(
            "person", records=[(f"p{u:031d}", f"user{u}@bench.test", f"User {u}", NOW) for u in range(users)],
            columns=["id", "email", "name", "created_at"])
        roles = roles or {}
        await connection.copy_records_to_table(
            "tenant_user",
            records=[(user_id(u), tenant_id(u % tenants), f"p{u:031d}", roles.get(u, "team"), False, False,
                      NOW) for u in range(users)],
            columns=["id", "tenant_id", "person_id", "role", "collection_admin", "approval_manager",
                     "created_at"])
        if activity_types:
            await _seed_rates(connection, tenants, users, activity_types)
        # The work items the worklogs name (1000–1199 in every tenant): worklogs, timers and
        # imports may only name items that exist (the require-work-item rule checks it).
        await connection.copy_records_to_table(
            "work_item",
            records=[(f"i{t:025d}{n:06d}", tenant_id(t), n, f"Item {n}", f"item {n}", "Task", "Active",
                      "InProgress", NOW) for t in range(tenants) for n in ITEMS],
            columns=["id", "tenant_id", "item_id", "title", "search_title", "type", "state",
                     "state_category", "changed_at"])
        indexes = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'worklog' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)")
        for index in indexes:
            # COPY first, index after: faster.
            await connection.execute(f'DROP INDEX IF EXISTS "{index["indexname"]}"')
        rows = worklog_rows(worklogs, users, tenants, activity_types)
        columns = ["id", "tenant_id", "user_id", "started_at", "length_s", "billable_length_s", "work_item",
                   "comment", "activity_type", "added_by", "flags", "owner_edited", "stop_reason",
                   "created_at", "updated_at", "activity_type_id"]
        while chunk := [row for _, row in zip(range(CHUNK), rows, strict=False)]:
            await connection.copy_records_to_table("worklog", records=chunk, columns=columns)
        for index in indexes:
            await connection.execute(index["indexdef"])
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


async def _seed_rates(connection: asyncpg.Connection, tenants: int, users: int, activity_types: int) -> None:
    kinds = []
    for t in range(tenants):
        for n in range(activity_types):
            rate = activity_type_rate(n)
            kinds.append((activity_type_id(t, n), tenant_id(t), f"Kind {n}", f"kind {n}", "#336699", True,
                          True, rate, CURRENCY if rate is not None else None, NOW, NOW))
    await connection.copy_records_to_table(
        "activity_type", records=kinds,
        columns=["id", "tenant_id", "name", "name_key", "color", "billable_by_default", "active",
                 "rate_amount", "rate_currency", "created_at", "updated_at"])
    await connection.copy_records_to_table(
        "user_rate", records=[(f"r{u:031d}", tenant_id(u % tenants), user_id(u), user_rate(u), CURRENCY, NOW)
                              for u in range(users)],
        columns=["id", "tenant_id", "user_id", "amount", "currency", "updated_at"])
    await connection.copy_records_to_table(
        "rate_setting", records=[(tenant_id(t), CURRENCY, NOW) for t in range(tenants)],
        columns=["tenant_id", "currency", "updated_at"])
