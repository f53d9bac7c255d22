"""A tenant's DevOps connection (core.services.devops): standalone by default, or an Azure
DevOps organisation whose token is sealed, never shown, and never sent to another host."""

from __future__ import annotations

import pytest

from core.clock import FixedClock
from core.errors import ValidationFailed
from core.services.devops import (
    ConnectorKind,
    DevOpsConnectionChange,
    DevOpsConnectionView,
    configure_devops_connection,
    devops_connection,
    organization_url,
    project_name,
)
from core.tenancy import Tenant, User
from tests.fakes import FakeDatabase, FakeUnitOfWorkFactory
from tests.fakes.tracking import FakeDevOpsConnectionStore

from .conftest import NOW, Seed

AZURE = "https://dev.azure.com/acme"
URL = "organization_url"


def seal(pat: str) -> str:
    return "sealed:" + pat[::-1]


@pytest.fixture
def connections(store: FakeDatabase) -> FakeDevOpsConnectionStore:
    return FakeDevOpsConnectionStore(store)


async def configure(
    uow: FakeUnitOfWorkFactory, connections: FakeDevOpsConnectionStore, clock: FixedClock,
    tenant: Tenant, actor: User, kind: str = "azure_devops", organization_url: str | None = AZURE,
    project: str | None = None, pat: str | None = None,
) -> DevOpsConnectionView:
    change = DevOpsConnectionChange(kind, organization_url, project, pat)
    return await configure_devops_connection(
        uow, connections, clock, tenant=tenant, actor=actor, change=change, seal=seal
    )


async def test_a_tenant_that_never_configured_one_is_standalone(
    uow: FakeUnitOfWorkFactory, connections: FakeDevOpsConnectionStore, seed: Seed
) -> None:
    view = await devops_connection(uow, connections, tenant=seed.tenant())
    assert view == DevOpsConnectionView(ConnectorKind.STANDALONE, None, None, False, None)
    assert uow.writes == 0


async def test_connecting_azure_devops_seals_the_token_and_audits_without_it(
    uow: FakeUnitOfWorkFactory, connections: FakeDevOpsConnectionStore, clock: FixedClock, seed: Seed,
    store: FakeDatabase,
) -> None:
    tenant = seed.tenant()
    boss = seed.admin(tenant)
    view = await configure(uow, connections, clock, tenant, boss, organization_url=AZURE + "/",
                           project=" Website ", pat=" secret-token ")
    assert view == DevOpsConnectionView(ConnectorKind.AZURE_DEVOPS, AZURE, "Website", True, NOW)
    assert store.devops_connections[tenant.id].sealed_pat == seal("secret-token")
    [audited] = seed.audit("devops.connection_changed")
    assert audited.detail == {"kind": "azure_devops", "organization_url": AZURE, "project": "Website",
                              "pat_changed": True}
    assert "secret-token" not in repr(audited) and "secret-token" not in repr(view)
    assert await devops_connection(uow, connections, tenant=tenant) == view


async def test_leaving_the_token_out_keeps_it_for_the_same_organisation_only(
    uow: FakeUnitOfWorkFactory, connections: FakeDevOpsConnectionStore, clock: FixedClock, seed: Seed,
    store: FakeDatabase,
) -> None:
    tenant = seed.tenant()
    boss = seed.admin(tenant)
    await configure(uow, connections, clock, tenant, boss, pat="token-1")
    view = await configure(uow, connections, clock, tenant, boss, project="Other")
    assert view.pat_set and store.devops_connections[tenant.id].sealed_pat == seal("token-1")
    assert seed.audit()[-1].detail["pat_changed"] is False
    with pytest.raises(ValidationFailed) as refused:
        await configure(uow, connections, clock, tenant, boss, organization_url="https://evil.example")
    assert refused.value.field == "pat"
    assert store.devops_connections[tenant.id].organization_url == AZURE


async def test_azure_devops_without_any_token_is_refused(
    uow: FakeUnitOfWorkFactory, connections: FakeDevOpsConnectionStore, clock: FixedClock, seed: Seed,
    store: FakeDatabase,
) -> None:
    tenant = seed.tenant()
    with pytest.raises(ValidationFailed) as refused:
        await configure(uow, connections, clock, tenant, seed.admin(tenant))
    assert refused.value.field == "pat"
    assert store.devops_connections == {} and seed.audit() == []


async def test_going_back_to_standalone_forgets_the_organisation_and_the_token(
    uow: FakeUnitOfWorkFactory, connections: FakeDevOpsConnectionStore, clock: FixedClock, seed: Seed,
    store: FakeDatabase,
) -> None:
    tenant = seed.tenant()
    boss = seed.admin(tenant)
    await configure(uow, connections, clock, tenant, boss, pat="token-1")
    view = await configure(uow, connections, clock, tenant, boss, kind="standalone")
    assert (view.kind, view.organization_url, view.pat_set) == (ConnectorKind.STANDALONE, None, False)
    assert store.devops_connections[tenant.id].sealed_pat is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (DevOpsConnectionChange("jira"), "kind"),
        (DevOpsConnectionChange("azure_devops", None, pat="t"), URL),
        (DevOpsConnectionChange("azure_devops", "http://dev.azure.com/acme", pat="t"), URL),
        (DevOpsConnectionChange("azure_devops", "https://me:pw@dev.azure.com/acme", pat="t"), URL),
        (DevOpsConnectionChange("azure_devops", "https://dev.azure.com:99999/acme", pat="t"), URL),
        (DevOpsConnectionChange("azure_devops", AZURE + "?x=1", pat="t"), URL),
        (DevOpsConnectionChange("azure_devops", AZURE, "a/b", pat="t"), "project"),
        (DevOpsConnectionChange("azure_devops", AZURE, pat="two words"), "pat"),
        (DevOpsConnectionChange("azure_devops", AZURE, pat="   "), "pat"),
    ],
    ids=["kind", "no url", "http", "credentials", "bad port", "query", "project", "pat with space",
         "blank pat"],
)
async def test_bad_settings_are_refused_naming_the_field_and_change_nothing(
    uow: FakeUnitOfWorkFactory, connections: FakeDevOpsConnectionStore, clock: FixedClock, seed: Seed,
    store: FakeDatabase, change: DevOpsConnectionChange, field: str,
) -> None:
    tenant = seed.tenant()
    with pytest.raises(ValidationFailed) as refused:
        await configure_devops_connection(
            uow, connections, clock, tenant=tenant, actor=seed.admin(tenant), change=change, seal=seal
        )
    assert refused.value.field == field
    assert store.devops_connections == {} and uow.commits == 0


def test_an_organisation_url_loses_its_trailing_slash_and_a_blank_project_is_none() -> None:
    assert organization_url(" https://tfs.acme.local/tfs/DefaultCollection/ ") == (
        "https://tfs.acme.local/tfs/DefaultCollection"
    )
    assert project_name("  ") is None
    with pytest.raises(ValidationFailed):
        project_name("_hidden")
