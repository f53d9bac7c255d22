"""Issue #17 done-when 2 (its second half): a batch create is one transaction. A failure the
database itself raises at row 999 of 1,000 — after the first 998 rows were written in the
same transaction — leaves nothing behind: no worklog, no history, no work-item update, no
audit row. On SQLite and PostgreSQL (the ``database_url`` fixture). The failure is injected
at the storage adapter: a wrapper of the real repository sends row 999 with the id of a
stored worklog, which the primary key refuses; the use case is the real one."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.clock import FixedClock
from core.services.worklog_batches import create_worklogs
from core.services.worklogs import NewWorklog
from core.tracking import Worklog
from plugins.storage.tracking_tables import WorkItemOutbox, WorklogChangeRow, WorklogRow
from tests.conftest import make_settings
from tests.integration.tracking_support import Org, make_org, run, stint_of
from tests.support.api import api_client

FIRST = datetime(2026, 2, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def org(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Org]:
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440")
    with api_client(settings, clock) as client:
        yield make_org(client)


class _ClashingTracking:
    """The real tracking repository, except that a batch add writes its first 998 rows, then
    sends row 999 under ``taken`` — an id already stored — so the database refuses it."""

    def __init__(self, real: Any, taken: str) -> None:
        self._real = real
        self._taken = taken

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    async def add_worklogs(self, worklogs: Sequence[Worklog], at: datetime, **kwargs: Any) -> None:
        if len(worklogs) < 999:
            await self._real.add_worklogs(worklogs, at, **kwargs)
            return
        await self._real.add_worklogs(worklogs[:998], at, **kwargs)
        await self._real.add_worklogs([replace(worklogs[998], id=self._taken), *worklogs[999:]], at, **kwargs)


class _Scope:
    def __init__(self, real: Any, taken: str) -> None:
        self._real = real
        self._taken = taken

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def tracking(self) -> _ClashingTracking:
        return _ClashingTracking(self._real.tracking(), self._taken)


class _Unit:
    def __init__(self, real: Any, taken: str) -> None:
        self._real = real
        self._taken = taken

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def tenant(self, tenant_id: str) -> _Scope:
        return _Scope(self._real.tenant(tenant_id), self._taken)

    async def __aenter__(self) -> _Unit:
        await self._real.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._real.__aexit__(*exc)


class _ClashingUow:
    def __init__(self, real: Any, taken: str) -> None:
        self._real = real
        self._taken = taken

    def __call__(self, *, write: bool = False) -> _Unit:
        return _Unit(self._real(write=write), self._taken)


def _rows(n: int) -> list[NewWorklog]:
    return [NewWorklog(FIRST + timedelta(minutes=10 * i), 60, work_item="7", comment=f"row {i}")
            for i in range(n)]


async def _counts(stint: Any, tenant_id: str) -> dict[str, int]:
    async with stint.uow() as work:
        audit = await work.tenant(tenant_id).audit().recorded_since(
            "worklogs.batch_created", tenant_id, FIRST - timedelta(days=3650)
        )
    return {
        "worklogs": await WorklogRow.count().where(WorklogRow.tenant_id == tenant_id),
        "history": await WorklogChangeRow.count().where(WorklogChangeRow.tenant_id == tenant_id),
        "outbox": await WorkItemOutbox.count().where(WorkItemOutbox.tenant_id == tenant_id),
        "audited": int(audit),
    }


def test_a_failure_at_row_999_of_1000_leaves_nothing_and_the_same_batch_then_applies_whole(org: Org) -> None:
    org.work_items(7)
    stint = stint_of(org.client)
    existing = org.client.post("/api/v1/worklogs", headers=org.admin,
                               json={"started_at": "2026-01-05T09:00:00Z", "length_s": 60}).json()

    async def tenant_and_admin() -> tuple[Any, Any]:
        async with stint.uow() as work:
            tenant = await work.directory.tenant_by_slug(org.slug)
            return tenant, await work.tenant(tenant.id).users().get(org.admin_id)

    tenant, admin = run(org.client, tenant_and_admin)
    before = run(org.client, _counts, stint, tenant.id)
    batch = [(admin.id, new) for new in _rows(1000)]

    with pytest.raises(Exception) as failed:  # the driver's own unique violation
        run(org.client, create_worklogs, _ClashingUow(stint.uow, existing["id"]), stint.clock,
            tenant=tenant, actor=admin, worklogs=batch, may_add_for_others=True)

    assert "unique" in str(failed.value).lower() or "duplicate" in str(failed.value).lower()
    assert run(org.client, _counts, stint, tenant.id) == before
    assert before["worklogs"] == 1 and before["audited"] == 0

    made = run(org.client, create_worklogs, stint.uow, stint.clock, tenant=tenant, actor=admin,
               worklogs=batch, may_add_for_others=True)

    after = run(org.client, _counts, stint, tenant.id)
    assert len(made) == 1000
    assert after["worklogs"] == 1001 and after["history"] == before["history"] + 1000
    assert after["outbox"] > before["outbox"] and after["audited"] == 1
    audit = org.client.get("/api/v1/audit", params={"action": "worklogs.batch_created"}, headers=org.admin)
    assert [row["detail"] for row in audit.json()["items"]] == [{"count": 1000}]
