"""/api/v1/me/notifications and /api/v1/settings/notifications (issue #19) on real storage
(SQLite and PostgreSQL): a user's choice wins over the tenant's default, only Administrators set
the defaults, bad input stores nothing, and the outbox refuses a kind its recipient turned off."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from core.clock import FixedClock
from core.jobs.ports import MailDraft
from core.notifications import KINDS
from tests.conftest import make_settings
from tests.integration.tracking_support import Org, make_org, run, stint_of
from tests.support.api import api_client

MINE = "/api/v1/me/notifications"
TENANT = "/api/v1/settings/notifications"


@pytest.fixture
def org(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Org]:
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440")
    with api_client(settings, clock) as client:
        yield make_org(client)


def _kinds(response: Any) -> dict[str, bool]:
    assert response.status_code == 200, response.text
    return dict(response.json()["kinds"])


def test_every_kind_is_on_until_someone_turns_it_off(org: Org) -> None:
    team, _ = org.add_user("tom")
    assert _kinds(org.client.get(MINE, headers=team)) == dict.fromkeys(KINDS, True)
    assert _kinds(org.client.get(TENANT, headers=org.admin)) == dict.fromkeys(KINDS, True)


def test_a_users_choice_wins_over_the_default_an_administrator_sets(org: Org) -> None:
    team, _ = org.add_user("tom")
    defaults = _kinds(org.client.put(TENANT, headers=org.admin,
                                     json={"kinds": {"missing_time": False, "timer_running": False}}))
    assert [defaults[k] for k in ("missing_time", "timer_running", "approvals")] == [False, False, True]
    mine = _kinds(org.client.put(MINE, headers=team, json={"kinds": {"missing_time": True}}))
    assert (mine["missing_time"], mine["timer_running"]) == (True, False)
    # A later default does not override a choice the user made.
    org.client.put(TENANT, headers=org.admin, json={"kinds": {"missing_time": False}})
    assert _kinds(org.client.get(MINE, headers=team))["missing_time"] is True


def test_only_administrators_set_the_tenant_defaults(org: Org) -> None:
    team, _ = org.add_user("tom")
    refused = org.client.put(TENANT, headers=team, json={"kinds": {"approvals": False}})
    assert refused.status_code == 403, refused.text
    assert _kinds(org.client.get(TENANT, headers=org.admin))["approvals"] is True


def test_an_unknown_kind_or_a_non_boolean_is_a_problem_and_stores_nothing(org: Org) -> None:
    for body in ({"kinds": {"spam": True}}, {"kinds": {"approvals": "no"}}, {"kinds": []}, {}):
        response = org.client.put(MINE, headers=org.admin, json=body)
        assert response.status_code in (400, 422), response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert _kinds(org.client.get(MINE, headers=org.admin)) == dict.fromkeys(KINDS, True)


def test_the_outbox_refuses_a_kind_its_recipient_turned_off(org: Org) -> None:
    stint = stint_of(org.client)
    org.client.put(MINE, headers=org.admin, json={"kinds": {"trial_ending": False}})
    org.add_user("ann")

    async def queue(recipient: str, preference: str | None) -> bool:
        async with stint.uow(write=True) as work:
            tenant = await work.directory.tenant_by_slug(org.slug)
            draft = MailDraft("trial_ends_soon", tenant.id, date(2026, 1, 9), recipient, "s", "b",
                              preference=preference)
            queued: bool = await stint.jobs.queue_mail(draft, stint.clock.now())
            await work.commit()
        return queued

    assert run(org.client, queue, f"admin@{org.slug}.test", "trial_ending") is False
    assert run(org.client, queue, f"ann@{org.slug}.test", "trial_ending") is True
    # A mail nobody can refuse goes out whatever the preferences say.
    assert run(org.client, queue, f"admin@{org.slug}.test", None) is True
