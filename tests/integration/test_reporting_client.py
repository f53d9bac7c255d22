"""The Reporting API read by an OData client nobody here wrote: ``python-odata`` (PyPI
``python-odata``, tuomur/python-odata) reflects our CSDL into entity classes and queries every
entity set over HTTP, signing in the way Excel and Power BI do (HTTP Basic, a personal access
token as the password). And the CSDL itself, parsed: well-formed, keys exist, every navigation
target exists."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from odata import ODataService

from core.clock import FixedClock
from server.app import create_app
from tests.conftest import make_settings
from tests.integration.reporting_support import ODATA, Seeded, ok, seed
from tests.support.api import api_client
from tests.support.served import served

EDMX = "{http://docs.oasis-open.org/odata/ns/edmx}"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


@pytest.fixture
def world(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[tuple[Seeded, str, str]]:
    """The seeded tenant, then a server on a real port (the same database; the seeding app is
    closed first: Piccolo's engine is one per process) and an admin's PAT."""
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440")
    with api_client(settings, clock) as client:
        s = seed(client, count=12)
        pat = ok(
            client.post(
                "/api/v1/me/tokens",
                json={"name": "Power BI", "expires_in_days": 30},
                headers=s.headers["admin"],
            ),
            201,
        )["token"]
    with served(create_app(settings, clock=clock)) as base:
        yield s, base, pat


def _every_row(base: str, pat: str, entity_set: str) -> list[dict[str, Any]]:
    """Every row as the API answers it, following nextLinks (plain HTTP, not the client)."""
    answer = requests.get(
        f"{base}{ODATA}/{entity_set}", headers={"Authorization": f"Bearer {pat}"}, timeout=30
    )
    body = answer.json()
    rows = list(body["value"])
    while "@odata.nextLink" in body:
        body = requests.get(
            body["@odata.nextLink"], headers={"Authorization": f"Bearer {pat}"}, timeout=30
        ).json()
        rows += body["value"]
    return rows


def test_a_third_party_odata_client_reads_the_metadata_and_queries_every_entity_set(
    world: tuple[Seeded, str, str],
) -> None:
    s, base, pat = world
    session = requests.Session()
    session.auth = ("anyone", pat)  # Basic: any user name, the PAT as the password
    service = ODataService(f"{base}{ODATA}/", reflect_entities=True, session=session)
    assert set(service.entities) == {
        "workLogs",
        "workLogsWithDeleted",
        "workItems",
        "workItemsHierarchy",
        "iterations",
        "budgets",
        "users",
        "activityTypes",
    }
    for name, entity in service.entities.items():
        # What the client got equals what the API answers the admin directly.
        direct = _every_row(base, pat, name)
        rows = service.query(entity).all()
        key = "Id"
        assert sorted(str(getattr(r, key)) for r in rows) == sorted(str(r[key]) for r in direct), name
        assert rows, name
    worklogs = service.entities["workLogs"]
    longest = (
        service.query(worklogs)
        .filter(worklogs.PeriodLength >= 2700)
        .order_by(worklogs.PeriodLength.desc())
        .limit(3)
        .all()
    )
    assert [w.PeriodLength for w in longest] == sorted(
        (w["length"] for w in s.worklogs if w["length"] >= 2700), reverse=True
    )[:3]
    items = service.entities["workItems"]
    task = service.query(items).filter(items.Type == "Task").first()
    assert task.Title == "Card field" and task.BudgetAssignmentType == "InheritedFromParent"


def test_the_metadata_is_well_formed_csdl_whose_keys_and_navigation_targets_exist(
    world: tuple[Seeded, str, str],
) -> None:
    _, base, pat = world
    answer = requests.get(f"{base}{ODATA}/$metadata", auth=("excel", pat), timeout=30)
    assert answer.status_code == 200 and answer.headers["odata-version"] == "4.0"
    root = ET.fromstring(answer.content)
    assert root.tag == f"{EDMX}Edmx" and root.get("Version") == "4.0"
    schema = root.find(f"{EDMX}DataServices/{EDM}Schema")
    assert schema is not None
    namespace = schema.get("Namespace")
    types: dict[str, Any] = {f"{namespace}.{t.get('Name')}": t for t in schema.findall(f"{EDM}EntityType")}
    for name, entity in types.items():
        properties = {p.get("Name") for p in entity.findall(f"{EDM}Property")}
        keys = [ref.get("Name") for ref in entity.findall(f"{EDM}Key/{EDM}PropertyRef")]
        assert keys and set(keys) <= properties, name
        for p in entity.findall(f"{EDM}Property"):
            assert p.get("Type", "").startswith("Edm."), (name, p.get("Name"))
        for nav in entity.findall(f"{EDM}NavigationProperty"):
            assert nav.get("Type") in types, (name, nav.get("Name"))
    container = schema.find(f"{EDM}EntityContainer")
    assert container is not None
    sets = {e.get("Name"): e for e in container.findall(f"{EDM}EntitySet")}
    for name, element in sets.items():
        entity_type = types[element.get("EntityType")]
        navigations = {n.get("Name") for n in entity_type.findall(f"{EDM}NavigationProperty")}
        for binding in element.findall(f"{EDM}NavigationPropertyBinding"):
            assert binding.get("Path") in navigations and binding.get("Target") in sets, (
                name,
                binding.attrib,
            )
    applied = container.find(f"{EDM}Annotation[@Term='Aggregation.ApplySupported']")
    assert applied is not None
    include = root.find(f"{EDMX}Reference/{EDMX}Include[@Namespace='Org.OData.Aggregation.V1']")
    assert include is not None and include.get("Alias") == "Aggregation"
