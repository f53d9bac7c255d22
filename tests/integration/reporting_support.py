"""A seeded tenant for the Reporting API's tests, and a hand-written reckoning of what its
worklogs' budgets and amounts must be (written from the rules in docs/budgets.md and
core/rates, not from the code under test)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.integration.tracking_support import Org, make_org, run
from tests.support.api import api_client

ODATA = "/api/odata/v1"


def ok(response: Any, status: int = 200) -> Any:
    """The answer's JSON, its decimals read exactly (money, hours)."""
    assert response.status_code == status, response.text
    return json.loads(response.text, parse_float=Decimal)


def half_even(value: Fraction) -> int:
    whole, rest = divmod(value.numerator, value.denominator)
    twice = 2 * rest
    if twice > value.denominator or (twice == value.denominator and whole % 2):
        whole += 1
    return whole


@dataclass
class Seeded:
    org: Org
    users: dict[str, str] = field(default_factory=dict)  # name → user id
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)  # E, F, T, U → work item id
    budgets: dict[str, str] = field(default_factory=dict)  # B1, B2, B3 → budget id
    activities: dict[str, str] = field(default_factory=dict)
    worklogs: list[dict[str, Any]] = field(default_factory=list)
    direct: str = ""  # the worklog assigned to B2 directly

    @property
    def client(self) -> TestClient[Any]:
        return self.org.client

    def budget_of(self, worklog: dict[str, Any]) -> tuple[str | None, str]:
        """By hand: B2 is assigned to one worklog; B1 to the feature F (so F and its task T);
        B3 to iteration S2 (the bug U's); the epic E has none."""
        if worklog["id"] == self.direct:
            return self.budgets["B2"], "DirectlyAssigned"
        item = int(worklog["work_item"])
        if item in (self.items["F"], self.items["T"]):
            return self.budgets["B1"], "InheritedFromParent"
        if item == self.items["U"]:
            return self.budgets["B3"], "InheritedFromIteration"
        return None, "NoBudget"

    def amount_of(self, worklog: dict[str, Any]) -> int | None:
        """Minor units: the budget's rate (B1: 120.00), else the activity type's (Dev: 100.00),
        else the user's (tina: 60.00); billable seconds × rate / 3600, half-even, once."""
        budget, _ = self.budget_of(worklog)
        if budget == self.budgets["B1"]:
            rate = 12_000
        elif worklog["activity"] == "Dev":
            rate = 10_000
        elif worklog["user"] == "tina":
            rate = 6_000
        else:
            return None
        return half_even(Fraction(worklog["billable"] * rate, 3600))


def seed(client: TestClient[Any], slug: str = "acme", count: int = 36) -> Seeded:
    org = make_org(client, slug)
    s = Seeded(org)
    s.users["admin"] = org.admin_id
    s.headers["admin"] = org.admin
    for name, role in (("pat", "product"), ("tina", "team"), ("umar", "team")):
        s.headers[name], s.users[name] = org.add_user(name, role=role)
    admin = org.admin
    s1 = ok(
        client.post(
            "/api/v1/iterations",
            json={"path": "Shop\\S1", "start": "2026-01-05", "finish": "2026-01-18"},
            headers=admin,
        ),
        201,
    )["id"]
    s2 = ok(
        client.post(
            "/api/v1/iterations",
            json={"path": "Shop\\S2", "start": "2026-01-19", "finish": "2026-02-01"},
            headers=admin,
        ),
        201,
    )["id"]

    def item(title: str, kind: str, **more: Any) -> int:
        body = {"title": title, "type": kind, **more}
        return int(ok(client.post("/api/v1/work-items", json=body, headers=admin), 201)["id"])

    s.items["E"] = item("Checkout", "Epic")
    s.items["F"] = item("Payment form", "Feature", parent_id=s.items["E"], iteration_id=s1)
    s.items["T"] = item("Card field", "Task", parent_id=s.items["F"])
    s.items["U"] = item("Rounding bug", "Bug", iteration_id=s2)
    for name, rate in (("Dev", 10_000), ("Meet", None)):
        body: dict[str, Any] = {"name": name}
        if rate is not None:
            body["hourly_rate"] = {"amount": rate, "currency": "USD"}
        s.activities[name] = ok(client.post("/api/v1/activity-types", json=body, headers=admin), 201)["id"]
    ok(
        client.put(
            f"/api/v1/user-rates/{s.users['tina']}",
            json={"hourly_rate": {"amount": 6_000, "currency": "USD"}},
            headers=admin,
        )
    )
    for name, rate in (("B1", 12_000), ("B2", None), ("B3", None)):
        body = {"name": f"Budget {name}"}
        if rate is not None:
            body["hourly_rate"] = {"amount": rate, "currency": "USD"}
        s.budgets[name] = ok(client.post("/api/v1/budgets", json=body, headers=admin), 201)["id"]
    names = ("tina", "umar", "pat")
    kinds = ("E", "F", "T", "U")
    for i in range(count):
        user = names[i % 3]
        length = 900 * (1 + i % 5)
        worklog = {
            "user": user,
            "work_item": s.items[kinds[i % 4]],
            "length": length,
            "billable": length - 300 * (i % 3) if i % 4 else 0,
            "activity": "Dev" if i % 2 else "Meet",
            "comment": ("review " if i % 3 == 0 else "Fix " if i % 3 == 1 else "other ") + str(i),
            "at": f"2026-{1 + (i * 2) // 28:02d}-{1 + (i * 2) % 28:02d}T09:{i % 60:02d}:00Z",
        }
        body = {
            "user_id": s.users[user],
            "started_at": worklog["at"],
            "length_s": length,
            "billable_length_s": worklog["billable"],
            "work_item": worklog["work_item"],
            "activity_type_id": s.activities[worklog["activity"]],
            "comment": worklog["comment"],
        }
        worklog["id"] = ok(client.post("/api/v1/worklogs", json=body, headers=admin), 201)["id"]
        s.worklogs.append(worklog)
    s.direct = s.worklogs[2]["id"]  # on the task T: B2 wins over B1
    ok(
        client.post(
            f"/api/v1/budgets/{s.budgets['B1']}/assign", json={"work_items": [s.items["F"]]}, headers=admin
        )
    )
    ok(client.post(f"/api/v1/budgets/{s.budgets['B2']}/assign", json={"worklogs": [s.direct]}, headers=admin))
    ok(client.post(f"/api/v1/budgets/{s.budgets['B3']}/assign", json={"iterations": [s2]}, headers=admin))
    return s


def sql(client: TestClient[Any], text: str, *args: Any) -> list[dict[str, Any]]:
    """A hand-written query on the app's own database (``{}`` placeholders)."""
    from plugins.storage.tracking_tables import WorklogRow

    async def go() -> list[dict[str, Any]]:
        return list(await WorklogRow.raw(text, *args))

    return list(run(client, go))


def odata(client: TestClient[Any], headers: dict[str, str], entity_set: str, **options: str) -> Any:
    return ok(client.get(f"{ODATA}/{entity_set}", params=options, headers=headers))


def every_row(
    client: TestClient[Any],
    headers: dict[str, str],
    entity_set: str,
    page_size: int | None = None,
    **options: str,
) -> list[dict[str, Any]]:
    """Every row, following ``@odata.nextLink`` to the end."""
    extra = {"Prefer": f"odata.maxpagesize={page_size}"} if page_size else {}
    body = ok(client.get(f"{ODATA}/{entity_set}", params=options, headers={**headers, **extra}))
    rows = list(body["value"])
    while "@odata.nextLink" in body:
        link = body["@odata.nextLink"].split("://", 1)[1]
        body = ok(client.get("/" + link.split("/", 1)[1], headers={**headers, **extra}))
        rows += body["value"]
    return rows


@contextmanager
def seeded_world(database_url: str, tmp_path: Path, clock: FixedClock, count: int = 36) -> Iterator[Seeded]:
    """An app with the reporting tests' seeded tenant, its limits out of the way."""
    settings = make_settings(
        database_url,
        tmp_path,
        STINT_ACCESS_TOKEN_MINUTES="1440",
        STINT_RATE_LIMIT_API="1000000",
        STINT_RATE_LIMIT_CLIENT="1000000",
    )
    with api_client(settings, clock) as client:
        yield seed(client, count=count)
