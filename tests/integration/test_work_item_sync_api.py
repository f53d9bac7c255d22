"""``/api/v1/work-items/sync`` and the ``work_item_sync`` job through the app, against the
local Azure DevOps server: "Sync now" answers 202 and the run fills the mirror; standalone
tenants get 409; only Administrators may; each tenant's run reads its own project into its
own mirror."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from core.clock import FixedClock
from core.work_items.ports import WorkItemFilter
from plugins.jobs.registry import JOBS, period
from tests.conftest import make_settings
from tests.integration.azure_devops_server import (
    PAT,
    FakeAzureDevOps,
    FakeIteration,
    self_signed_certificate,
    serve,
)
from tests.integration.tracking_support import Org, make_org, run, stint_of
from tests.support.api import api_client

PATH = "/api/v1/work-items/sync"


@pytest.fixture
def client(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Any]:
    # The local server listens on 127.0.0.1, which a cloud tenant may reach only with this.
    settings = make_settings(database_url, tmp_path, STINT_DEVOPS_ALLOW_PRIVATE_HOSTS="1",
                             STINT_WORK_ITEM_SYNC_PAGE_SIZE="4", STINT_WORK_ITEM_SYNC_MINUTES="5")
    with api_client(settings, clock) as client:
        yield client


@pytest.fixture
def azure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeAzureDevOps, str]]:
    """The local server over https (connections must be https); clients trust its certificate."""
    cert, key = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", cert)
    fake = FakeAzureDevOps()
    server, url = serve(fake, tls=(cert, key))
    yield fake, url
    server.shutdown()
    server.server_close()


def _connect(org: Org, url: str, project: str | None = "Fabrikam") -> None:
    body = {"kind": "azure_devops", "organization_url": url, "project": project, "pat": PAT}
    response = org.client.put("/api/v1/settings/devops", json=body, headers=org.admin)
    assert response.status_code == 200, response.text


def _titles(client: Any, org: Org) -> list[str]:
    stint = stint_of(client)
    bearer = org.admin["Authorization"].removeprefix("Bearer ")
    tenant_id = jwt.decode(bearer, options={"verify_signature": False})["tid"]

    async def read() -> list[str]:
        async with stint.uow() as work:
            page = await work.tenant(tenant_id).work_items().find(WorkItemFilter(), None, 100)
            return [item.title for item in page.items]

    return list(run(client, read))


def _project(fake: FakeAzureDevOps, count: int, project: str = "Fabrikam") -> None:
    fake.iterations = [FakeIteration("Sprint 1", f"{project}\\Sprint 1")]
    for n in range(count):
        fake.add(title=f"{project} {n}", project=project, iteration_path=f"{project}\\Sprint 1")


def test_sync_now_answers_202_at_once_and_the_run_fills_the_mirror(
    client: Any, azure: tuple[FakeAzureDevOps, str],
) -> None:
    fake, url = azure
    _project(fake, 10)
    acme = make_org(client, "acme")
    _connect(acme, url)

    started = acme.client.post(PATH, headers=acme.admin)

    assert started.status_code == 202, started.text
    assert started.json()["started"] is True and started.json()["running"] is True
    run(client, stint_of(client).work_item_syncs.wait)
    state = acme.client.get(PATH, headers=acme.admin).json()
    assert state["running"] is False and state["last_error"] is None
    assert state["items_seen"] == 10 and state["last_success_at"] is not None
    assert sorted(_titles(client, acme)) == sorted(f"Fabrikam {n}" for n in range(10))


def test_sync_now_on_the_work_items_page_fills_the_mirror_and_a_team_user_may_not(
    client: Any, azure: tuple[FakeAzureDevOps, str],
) -> None:
    fake, url = azure
    _project(fake, 3)
    acme = make_org(client, "acme")
    _connect(acme, url)
    member, _ = acme.add_user("tess", role="team")
    assert acme.client.post("/work-items/sync", headers=member).status_code == 403
    assert fake.requests == []

    page = acme.client.post("/work-items/sync", headers=acme.admin)

    assert page.status_code == 200 and "Sync started" in page.text
    run(client, stint_of(client).work_item_syncs.wait)
    assert sorted(_titles(client, acme)) == ["Fabrikam 0", "Fabrikam 1", "Fabrikam 2"]
    assert "Fabrikam 2" in acme.client.get("/work-items/", headers=acme.admin).text


def test_a_standalone_tenant_has_nothing_to_sync(client: Any) -> None:
    acme = make_org(client, "acme")
    refused = acme.client.post(PATH, headers=acme.admin)
    assert refused.status_code == 409
    assert refused.json()["code"] == "not_synced_from_devops"
    shown = acme.client.get(PATH, headers=acme.admin)
    assert shown.status_code == 200 and shown.json()["last_run_at"] is None


def test_only_administrators_may_sync_or_see_the_sync(
    client: Any, azure: tuple[FakeAzureDevOps, str],
) -> None:
    fake, url = azure
    acme = make_org(client, "acme")
    _connect(acme, url)
    member, _ = acme.add_user("tess", role="team")
    assert acme.client.post(PATH, headers=member).status_code == 403
    assert acme.client.get(PATH, headers=member).status_code == 403
    assert fake.requests == []


def test_the_job_syncs_each_connected_tenant_from_its_own_project_and_leaves_standalone_ones(
    client: Any, azure: tuple[FakeAzureDevOps, str],
) -> None:
    fake, url = azure
    _project(fake, 6, "Fabrikam")
    _project(fake, 3, "Contoso")
    acme, globex, initech = make_org(client, "acme"), make_org(client, "globex"), make_org(client, "initech")
    _connect(acme, url, "Fabrikam")
    _connect(globex, url, "Contoso")

    counts = run(client, JOBS["work_item_sync"].run, stint_of(client))

    assert counts == {"tenants": 2, "items": 9, "failed": 0}
    assert sorted(_titles(client, acme)) == sorted(f"Fabrikam {n}" for n in range(6))
    assert sorted(_titles(client, globex)) == sorted(f"Contoso {n}" for n in range(3))
    assert _titles(client, initech) == []
    # Each tenant sees its own run only; a standalone one sees none and cannot start one.
    assert acme.client.get(PATH, headers=acme.admin).json()["items_seen"] == 6
    assert globex.client.get(PATH, headers=globex.admin).json()["items_seen"] == 3
    assert initech.client.get(PATH, headers=initech.admin).json()["last_run_at"] is None
    assert initech.client.post(PATH, headers=initech.admin).status_code == 409
    assert period(stint_of(client).settings, JOBS["work_item_sync"]) == 300


def test_a_connection_without_a_project_fails_its_run_with_the_reason(
    client: Any, azure: tuple[FakeAzureDevOps, str],
) -> None:
    _, url = azure
    acme = make_org(client, "acme")
    _connect(acme, url, project=None)

    counts = run(client, JOBS["work_item_sync"].run, stint_of(client))
    assert counts == {"tenants": 1, "items": 0, "failed": 1}
    assert "names no project" in acme.client.get(PATH, headers=acme.admin).json()["last_error"]
