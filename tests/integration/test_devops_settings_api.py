"""A tenant's DevOps connection (``/api/v1/settings/devops``) and the work-item job using it:
configured through the API, the job writes Completed Work to that tenant's Azure DevOps
(here a local server speaking its REST API over TLS); tenants without one stay standalone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from core.clock import FixedClock
from plugins.devops.sealing import PatSealer, UnreadableToken
from plugins.identity.keys import SigningKeys
from plugins.jobs.registry import JOBS
from plugins.storage.tables import AuditEvent
from plugins.storage.tracking_tables import DevOpsConnectionRow
from plugins.storage.work_items_tables import WorkItemRow
from tests.conftest import make_settings
from tests.integration.azure_devops_server import PAT, FakeAzureDevOps, self_signed_certificate, serve
from tests.integration.tracking_support import Org, make_org, run, stint_of
from tests.support.api import api_client, bearer, signup, token

PATH = "/api/v1/settings/devops"


@pytest.fixture
def client(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Any]:
    # The fake Azure DevOps listens on 127.0.0.1, which a cloud tenant may reach only with this.
    settings = make_settings(
        database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440", STINT_DEVOPS_ALLOW_PRIVATE_HOSTS="1"
    )
    with api_client(settings, clock) as client:
        yield client


@pytest.fixture
def guarded(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Any]:
    """The default: a cloud tenant's connection must lead to public addresses."""
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440")
    with api_client(settings, clock) as client:
        yield client


@pytest.fixture
def org(client: Any) -> Org:
    return make_org(client)


@pytest.fixture
def azure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeAzureDevOps, str]]:
    """The fake Azure DevOps over https; HTTP clients made from now on trust its certificate."""
    cert, key = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", cert)
    fake = FakeAzureDevOps()
    server, url = serve(fake, tls=(cert, key))
    yield fake, url
    server.shutdown()
    server.server_close()


def _azure(url: str, *, project: str | None = "Web Shop", pat: str | None = PAT) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "azure_devops", "organization_url": url, "project": project}
    if pat is not None:
        body["pat"] = pat
    return body


def _add(org: Org, item: str, length_s: int) -> None:
    org.work_items(item)  # a worklog names an item of the tenant's mirror (the sync puts it there)
    body = {"started_at": "2025-12-29T09:00:00Z", "length_s": length_s, "work_item": item}
    response = org.client.post("/api/v1/worklogs", json=body, headers=org.admin)
    assert response.status_code == 201, response.text


def _work_items_job(client: Any) -> dict[str, int]:
    return dict(run(client, JOBS["work_items"].run, stint_of(client)))


def _pending_errors(client: Any) -> list[str]:
    """Why each work-item update still waiting failed last."""
    from plugins.storage.tracking_tables import WorkItemOutbox

    async def errors() -> list[str]:
        rows = await WorkItemOutbox.select(WorkItemOutbox.last_error).where(WorkItemOutbox.done_at.is_null())
        return [row["last_error"] for row in rows]

    return list(run(client, errors))


def test_a_tenant_without_a_connection_is_standalone(org: Org) -> None:
    response = org.client.get(PATH, headers=org.admin)
    assert response.status_code == 200
    assert response.json() == {
        "kind": "standalone", "organization_url": None, "project": None, "pat_set": False, "updated_at": None,
    }


def test_an_administrator_connects_azure_devops_and_the_token_is_never_shown_again(org: Org) -> None:
    url = "https://dev.azure.com/acme/"
    response = org.client.put(PATH, json=_azure(url), headers=org.admin)
    assert response.status_code == 200, response.text
    shown = org.client.get(PATH, headers=org.admin)
    for answer in (response, shown):
        body = answer.json()
        assert (body["kind"], body["organization_url"], body["project"], body["pat_set"]) == (
            "azure_devops", "https://dev.azure.com/acme", "Web Shop", True
        )
        assert PAT not in answer.text and "pat" not in body

    async def stored() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        rows = await DevOpsConnectionRow.select(DevOpsConnectionRow.sealed_pat)
        audit = await AuditEvent.select().where(AuditEvent.action == "devops.connection_changed")
        return rows, audit

    rows, audit = run(org.client, stored)
    assert len(rows) == 1 and rows[0]["sealed_pat"].startswith("v2:") and PAT not in rows[0]["sealed_pat"]
    assert len(audit) == 1 and PAT not in str(audit[0])


def test_leaving_the_token_out_keeps_it_for_the_same_organisation_only(org: Org) -> None:
    url = "https://dev.azure.com/acme"
    assert org.client.put(PATH, json=_azure(url), headers=org.admin).status_code == 200

    kept = org.client.put(PATH, json=_azure(url, project="Intranet", pat=None), headers=org.admin)
    assert kept.status_code == 200, kept.text
    assert (kept.json()["project"], kept.json()["pat_set"]) == ("Intranet", True)

    moved = org.client.put(PATH, json=_azure("https://dev.azure.com/other", pat=None), headers=org.admin)
    assert moved.status_code == 422
    assert moved.json()["errors"] == [
        {"field": "pat", "message": "enter the personal access token again for another organisation"}
    ]

    back = org.client.put(PATH, json={"kind": "standalone"}, headers=org.admin)
    assert back.json() == {**back.json(), "kind": "standalone", "organization_url": None, "pat_set": False}
    again = org.client.put(PATH, json=_azure(url, pat=None), headers=org.admin)
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "pat"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "gitlab"}, "kind"),
        (_azure("http://dev.azure.com/acme"), "organization_url"),
        (_azure("ftp://dev.azure.com/acme"), "organization_url"),
        (_azure("dev.azure.com/acme"), "organization_url"),
        (_azure("https://user:secret@dev.azure.com/acme"), "organization_url"),
        (_azure("https://dev.azure.com/acme?x=1"), "organization_url"),
        (_azure("https://dev.azure.com:99999/acme"), "organization_url"),
        ({"kind": "azure_devops", "pat": PAT}, "organization_url"),
        (_azure("https://dev.azure.com/acme", pat=""), "pat"),
        (_azure("https://dev.azure.com/acme", pat="   "), "pat"),
        (_azure("https://dev.azure.com/acme", pat="two words"), "pat"),
        (_azure("https://dev.azure.com/acme", pat=None), "pat"),
        (_azure("https://dev.azure.com/acme", project="a/b"), "project"),
        (_azure("https://dev.azure.com/acme", project="x" * 65), "project"),
    ],
)
def test_bad_settings_are_422_problems_naming_the_field_and_change_nothing(
    org: Org, body: dict[str, Any], field: str
) -> None:
    response = org.client.put(PATH, json=body, headers=org.admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == field
    assert org.client.get(PATH, headers=org.admin).json()["kind"] == "standalone"


def test_only_administrators_see_or_change_the_connection(org: Org) -> None:
    member, _ = org.add_user("tess", role="team")
    assert org.client.get(PATH, headers=member).status_code == 403
    assert org.client.put(PATH, json=_azure("https://dev.azure.com/acme"), headers=member).status_code == 403
    assert org.client.get(PATH, headers=org.admin).json()["kind"] == "standalone"


def test_the_work_item_job_writes_to_each_tenants_own_azure_devops_and_others_stay_standalone(
    client: Any, azure: tuple[FakeAzureDevOps, str]
) -> None:
    """acme is connected: its 1.5 h + 0.25 h reach the item there (Completed 1.8, Remaining 8.25),
    through its project; globex has no connection: the same item number is a local work item."""
    fake, url = azure
    item = fake.create(remaining=10.0)
    acme, globex = make_org(client, "acme"), make_org(client, "globex")
    response = acme.client.put(PATH, json=_azure(url + "/", project="Web Shop"), headers=acme.admin)
    assert response.status_code == 200, response.text

    _add(acme, item, 5400)
    _add(acme, item, 900)
    _add(globex, item, 3600)
    assert _work_items_job(client) == {"written": 2}

    assert fake.field(item, "CompletedWork") == 1.8
    assert fake.field(item, "RemainingWork") == 8.25
    assert all(path.startswith("/Web%20Shop/_apis/wit/workitems/") for _, path in fake.requests)

    async def local_items() -> list[dict[str, Any]]:
        # Standalone Completed Work lives on the mirror row; acme's (Azure's) stays untouched.
        return await WorkItemRow.select(WorkItemRow.item_id, WorkItemRow.completed_centihours).where(
            WorkItemRow.completed_centihours.is_not_null()
        )

    assert run(client, local_items) == [{"item_id": int(item), "completed_centihours": 100}]  # globex's hour
    patches = sum(1 for method, _ in fake.requests if method == "PATCH")
    assert _work_items_job(client) == {"written": 0}  # nothing pending: no request
    assert sum(1 for method, _ in fake.requests if method == "PATCH") == patches


def test_a_token_sealed_under_another_secret_key_leaves_the_updates_pending_with_the_reason(
    client: Any, azure: tuple[FakeAzureDevOps, str]
) -> None:
    fake, url = azure
    item = fake.create(remaining=2.0)
    org = make_org(client)
    assert org.client.put(PATH, json=_azure(url), headers=org.admin).status_code == 200

    async def reseal_under_another_key() -> None:
        elsewhere = SigningKeys.single("another secret key, not this installation's")
        sealed = PatSealer(elsewhere).seal("whoever", PAT)
        await DevOpsConnectionRow.update({DevOpsConnectionRow.sealed_pat: sealed}, force=True)

    run(client, reseal_under_another_key)
    _add(org, item, 3600)
    assert _work_items_job(client) == {"written": 0}
    assert fake.requests == []

    found = _pending_errors(client)
    assert found and all("enter the personal access token again" in e for e in found)


def test_a_sealed_token_opens_only_with_its_key_and_for_its_tenant() -> None:
    sealer = PatSealer(SigningKeys.single("k" * 48))
    sealed = sealer.seal("tenant-a", PAT)
    assert sealer.unseal("tenant-a", sealed) == PAT
    assert sealed != sealer.seal("tenant-a", PAT)  # a fresh nonce each time
    with pytest.raises(UnreadableToken):
        sealer.unseal("tenant-b", sealed)
    with pytest.raises(UnreadableToken):
        PatSealer(SigningKeys.single("another key " * 4)).unseal("tenant-a", sealed)
    with pytest.raises(UnreadableToken):
        sealer.unseal("tenant-a", "v1:not-base64!")
    with pytest.raises(UnreadableToken):
        sealer.unseal("tenant-a", "v2:legacy:not-base64!")


@pytest.mark.parametrize("url", [
    "https://127.0.0.1:8443", "https://169.254.169.254/latest", "https://10.0.0.5/tfs", "https://[::1]/",
    "https://localhost/DefaultCollection",
])
def test_a_cloud_tenant_cannot_point_its_connection_at_a_private_address(guarded: Any, url: str) -> None:
    """Loopback, the cloud metadata service, private networks: the job would make requests
    there from inside the service, so saving is refused (422 naming the field)."""
    org = make_org(guarded)
    response = org.client.put(PATH, json=_azure(url), headers=org.admin)
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["field"] == "organization_url" and "private address" in error["message"]
    assert org.client.get(PATH, headers=org.admin).json()["kind"] == "standalone"


def test_an_on_premises_server_may_connect_to_azure_devops_server_on_its_own_network(guarded: Any) -> None:
    signup(guarded, "plant", deployment="onprem")
    headers = bearer(token(guarded, "plant", "admin@plant.test"))
    response = guarded.put(PATH, json=_azure("https://10.1.2.3/tfs/DefaultCollection"), headers=headers)
    assert response.status_code == 200, response.text


def test_a_name_re_pointed_at_a_private_address_after_saving_is_not_contacted(
    client: Any, azure: tuple[FakeAzureDevOps, str]
) -> None:
    """Saved while allowed, then the rule applies (as if the name had moved since): the job
    makes no request and the update waits with the reason."""
    fake, url = azure
    item = fake.create(remaining=2.0)
    org = make_org(client)
    assert org.client.put(PATH, json=_azure(url), headers=org.admin).status_code == 200
    devops = stint_of(client).devops
    allowed = devops.settings
    devops.settings = replace(allowed, devops_allow_private_hosts=False)
    try:
        _add(org, item, 3600)
        assert _work_items_job(client) == {"written": 0}
    finally:
        devops.settings = allowed
    assert fake.requests == []

    found = _pending_errors(client)
    assert found and all("private address (127.0.0.1)" in e for e in found)


def test_test_connection_on_the_devops_page_asks_the_saved_organisation_and_says_what_it_answered(
    org: Org, azure: tuple[FakeAzureDevOps, str]
) -> None:
    """Issue #21: the DevOps page had no "Test connection". It asks the saved organisation
    what the sync asks (a WIQL query in the project) and says in one line how that went."""
    fake, url = azure
    standalone = org.client.get("/settings/devops", headers=org.admin).text
    assert 'id="devops-test"' not in standalone  # nothing to test while work items are Stint's own
    assert org.client.put(PATH, json=_azure(url), headers=org.admin).status_code == 200
    assert 'id="devops-test"' in org.client.get("/settings/devops", headers=org.admin).text

    asked = len(fake.requests)
    tested = org.client.post("/settings/devops/test", headers={**org.admin, "HX-Request": "true"})
    assert tested.status_code == 200, tested.text
    assert f"Connected: {url} (project Web Shop) accepted the personal access token." in tested.text
    assert any("/_apis/wit/wiql" in path for _, path in fake.requests[asked:])

    wrong = _azure(url, pat="not-the-token-0000")
    assert org.client.put(PATH, json=wrong, headers=org.admin).status_code == 200
    refused = org.client.post("/settings/devops/test", headers={**org.admin, "HX-Request": "true"})
    assert f"Not connected: {url} refused the personal access token (401)" in refused.text
    assert 'class="flash error" role="alert"' in refused.text


def test_test_connection_says_when_the_organisation_cannot_be_reached(org: Org) -> None:
    # Port 9 on loopback (discard) has no listener here: the connection is refused at once.
    nowhere = _azure("https://127.0.0.1:9", project=None)
    assert org.client.put(PATH, json=nowhere, headers=org.admin).status_code == 200
    refused = org.client.post("/settings/devops/test", headers={**org.admin, "HX-Request": "true"})
    assert "Not connected: https://127.0.0.1:9 could not be reached (ConnectError" in refused.text
