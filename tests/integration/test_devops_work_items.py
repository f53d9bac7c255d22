"""The Azure DevOps side of the work item sync (``plugins/devops/azure_work_items.py``),
against the local server speaking the REST API 7.1: WIQL pages with a continuation,
workitemsbatch as of the query, team iterations, and what a failing server does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from core.work_items import Assignee, StateCategory
from core.work_items.ports import SyncPage
from plugins.devops.azure_work_items import AzureDevOpsWorkItems
from tests.integration.azure_devops_server import PAT, FakeAzureDevOps, FakeIteration, Person, serve

ANN = Person("Ann Smith", "ann@acme.test")


@pytest.fixture
def azure() -> Iterator[tuple[FakeAzureDevOps, str]]:
    fake = FakeAzureDevOps()
    server, url = serve(fake)
    yield fake, url
    server.shutdown()
    server.server_close()


def _source(url: str, page_size: int = 200, **kwargs: object) -> AzureDevOpsWorkItems:
    return AzureDevOpsWorkItems(url, PAT, project="Fabrikam", page_size=page_size, **kwargs)  # type: ignore[arg-type]


async def _all_pages(source: AzureDevOpsWorkItems, watermark: datetime | None = None) -> list[SyncPage]:
    pages = [await source.changed_since(watermark, None)]
    while pages[-1].continuation is not None:
        pages.append(await source.changed_since(watermark, pages[-1].continuation))
    return pages


async def test_an_item_comes_back_with_every_field_the_mirror_keeps(
    azure: tuple[FakeAzureDevOps, str],
) -> None:
    fake, url = azure
    epic = fake.add(title="Checkout", type="Epic", state="Active")
    task = fake.add(title="Card form", type="Task", state="Closed", assigned_to=ANN, parent=epic,
                    iteration_path="Fabrikam\\Release 1\\Sprint 2", area_path="Fabrikam\\Web",
                    original_estimate=8.0, remaining=0.5, completed=7.25, tags="ui; payments")

    page = await _source(url).changed_since(None, None)

    assert page.continuation is None
    by_id = {item.id: item for item in page.items}
    item = by_id[task]
    assert (item.title, item.type, item.state, item.state_category) == (
        "Card form", "Task", "Closed", StateCategory.COMPLETED)
    assert item.parent_id == epic and by_id[epic].parent_id is None
    assert item.assigned_to == Assignee("Ann Smith", unique_name="ann@acme.test")
    assert (item.original_estimate_h, item.remaining_h, item.completed_h) == (
        Decimal("8.0"), Decimal("0.5"), Decimal("7.25"))
    assert item.area_path == "Fabrikam\\Web" and item.tags == ("ui", "payments")
    assert item.rev == 1 and item.changed_at == fake.now
    assert page.iteration_paths[task] == "Fabrikam\\Release 1\\Sprint 2"
    assert by_id[epic].state_category is StateCategory.IN_PROGRESS


async def test_pages_cover_every_item_once_even_when_many_share_a_changed_date(
    azure: tuple[FakeAzureDevOps, str],
) -> None:
    """450 items, 7 per second of ChangedDate, so pages of 200 end inside a second."""
    fake, url = azure
    for n in range(450):
        if n % 7 == 0:
            fake.tick()
        fake.add(title=f"Item {n}")

    pages = await _all_pages(_source(url))

    assert [len(page.items) for page in pages] == [200, 200, 50]
    ids = [item.id for page in pages for item in page.items]
    assert ids == sorted(ids) == list(range(1, 451))
    assert len(fake.served) == 450  # nothing fetched twice


async def test_after_a_watermark_only_items_changed_since_are_read(
    azure: tuple[FakeAzureDevOps, str],
) -> None:
    fake, url = azure
    for n in range(30):
        fake.add(title=f"Item {n}")
    watermark = fake.now
    fake.tick()
    fake.change(12, {"System.State": "Active"})
    fake.change(3, {"System.Title": "Renamed"})
    served = len(fake.served)

    pages = await _all_pages(_source(url, page_size=10), watermark)

    assert [item.id for page in pages for item in page.items] == [3, 12]
    assert len(fake.served) - served == 2


async def test_an_item_edited_between_the_query_and_the_read_comes_back_as_the_query_saw_it(
    azure: tuple[FakeAzureDevOps, str],
) -> None:
    """Otherwise its newer ChangedDate would become the continuation and skip the items between."""
    fake, url = azure
    for n in range(4):
        fake.tick()
        fake.add(title=f"Item {n}")

    async def edit_after_the_query(response: httpx.Response) -> None:
        if response.request.url.path.endswith("/wiql"):
            fake.tick()
            fake.change(2, {"System.Title": "edited meanwhile"})

    client = httpx.AsyncClient(event_hooks={"response": [edit_after_the_query]})
    source = _source(url, page_size=2, client=client)
    first = await source.changed_since(None, None)
    assert [(i.id, i.title) for i in first.items] == [(1, "Item 0"), (2, "Item 1")]
    rest = await source.changed_since(None, first.continuation)
    # Items 3 and 4 are not skipped; item 2's edit comes on the next page (it is newest now).
    assert [i.id for i in rest.items] == [3, 4]
    await client.aclose()


async def test_an_item_deleted_between_the_query_and_the_read_is_left_out(
    azure: tuple[FakeAzureDevOps, str],
) -> None:
    fake, url = azure
    for n in range(3):
        fake.add(title=f"Item {n}")

    async def delete_after_the_query(response: httpx.Response) -> None:
        if response.request.url.path.endswith("/wiql"):
            fake.delete(2)

    client = httpx.AsyncClient(event_hooks={"response": [delete_after_the_query]})
    page = await _source(url, client=client).changed_since(None, None)
    assert [i.id for i in page.items] == [1, 3]
    await client.aclose()


async def test_team_iterations_come_with_their_dates_and_guid(azure: tuple[FakeAzureDevOps, str]) -> None:
    fake, url = azure
    sprint = FakeIteration("Sprint 1", "Fabrikam\\Sprint 1", datetime(2026, 1, 5, tzinfo=UTC),
                           datetime(2026, 1, 16, tzinfo=UTC))
    fake.iterations = [sprint, FakeIteration("Backlog", "Fabrikam\\Backlog")]

    found = await _source(url, team="Fabrikam Team").iterations()

    assert [(i.path, i.start, i.finish, i.external_id) for i in found] == [
        ("Fabrikam\\Sprint 1", date(2026, 1, 5), date(2026, 1, 16), sprint.id),
        ("Fabrikam\\Backlog", None, None, fake.iterations[1].id),
    ]
    assert fake.requests[-1][1].startswith("/Fabrikam/Fabrikam%20Team/_apis/work/teamsettings/iterations?")


@pytest.mark.parametrize("how", ["500", "drop"])
async def test_a_failing_batch_call_fails_the_page(azure: tuple[FakeAzureDevOps, str], how: str) -> None:
    fake, url = azure
    for n in range(5):
        fake.add(title=f"Item {n}")
    fake.fail("workitemsbatch", 1, how)

    with pytest.raises(httpx.HTTPError):
        await _source(url).changed_since(None, None)
    assert len((await _source(url).changed_since(None, None)).items) == 5


async def test_a_wrong_token_is_refused(azure: tuple[FakeAzureDevOps, str]) -> None:
    _, url = azure
    source = AzureDevOpsWorkItems(url, "not-the-pat", project="Fabrikam")
    with pytest.raises(httpx.HTTPStatusError) as refused:
        await source.changed_since(None, None)
    assert refused.value.response.status_code == 401


async def test_the_local_server_refuses_more_than_20000_results_without_top_and_a_time_without_precision(
    azure: tuple[FakeAzureDevOps, str],
) -> None:
    """The two limits of the real service the adapter is written against."""
    fake, url = azure
    for n in range(20_001):
        fake.items[n + 1] = [{"id": n + 1, "rev": 1, "fields": {
            "System.Id": n + 1, "System.TeamProject": "Fabrikam",
            "System.ChangedDate": "2026-01-05T09:00:00.000Z"}}]
    auth = httpx.BasicAuth("", PAT)
    async with httpx.AsyncClient(auth=auth) as client:
        wiql = url + "/Fabrikam/_apis/wit/wiql"
        everything = {"query": "SELECT [System.Id] FROM WorkItems"}
        too_many = await client.post(wiql, params={"api-version": "7.1"}, json=everything)
        assert too_many.status_code == 400 and "VS402337" in too_many.json()["message"]
        top = await client.post(wiql, params={"api-version": "7.1", "$top": "5"}, json=everything)
        assert [w["id"] for w in top.json()["workItems"]] == [1, 2, 3, 4, 5]
        timed = {"query": "SELECT [System.Id] FROM WorkItems "
                          "WHERE [System.ChangedDate] > '2026-01-05T08:00:00Z'"}
        refused = await client.post(wiql, params={"api-version": "7.1", "$top": "5"}, json=timed)
        assert refused.status_code == 400
        batch = await client.post(url + "/Fabrikam/_apis/wit/workitemsbatch", params={"api-version": "7.1"},
                                  json={"ids": list(range(1, 202))})
        assert batch.status_code == 400
