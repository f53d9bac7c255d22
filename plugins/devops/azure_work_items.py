"""Reading a tenant's Azure DevOps project for the work item mirror (REST API 7.1).

One page is one WIQL query for the ids of items changed since the watermark, ordered by
``[System.ChangedDate], [System.Id]`` and limited by ``$top``, then ``workitemsbatch`` for
those ids (≤ 200 per call) with the sync's fields. The batch is read ``asOf`` the query's
own ``asOf``, so an item edited between the two calls comes back as the query saw it and
the page's order holds; the edit is picked up by the next run. The continuation is the
last (ChangedDate, Id) of the page: the next page asks for items after that pair, so items
sharing one ChangedDate across a page boundary are neither skipped nor read twice.

Date literals carry a time, which WIQL refuses unless ``timePrecision=true`` is set.
"""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from core.work_items import Assignee, Iteration, WorkItem, category_of
from core.work_items.ports import SyncPage

from .azure import API_VERSION, COMPLETED_WORK, REMAINING_WORK

__all__ = ["BATCH_LIMIT", "FIELDS", "AzureDevOpsWorkItems", "SyncSourceError"]

ORIGINAL_ESTIMATE = "Microsoft.VSTS.Scheduling.OriginalEstimate"
#: What the sync reads of every item (workitemsbatch's ``fields``).
FIELDS = (
    "System.Id", "System.Rev", "System.Title", "System.WorkItemType", "System.State",
    "System.AssignedTo", "System.IterationPath", "System.AreaPath", "System.Parent",
    "System.ChangedDate", "System.Tags", ORIGINAL_ESTIMATE, REMAINING_WORK, COMPLETED_WORK,
)
#: workitemsbatch takes at most this many ids per call.
BATCH_LIMIT = 200
#: WIQL answers at most this many ids per query.
WIQL_LIMIT = 20_000


class SyncSourceError(RuntimeError):
    """Azure DevOps answered something the sync cannot use (the run fails and is repeated)."""


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _day(text: Any) -> date | None:
    return _when(str(text)).date() if text else None


def _hours(value: Any) -> Decimal | None:
    # Azure stores doubles; their shortest text is the decimal the user typed.
    return None if value is None else Decimal(repr(value) if isinstance(value, float) else str(value))


def _assignee(value: Any) -> Assignee | None:
    if isinstance(value, dict):
        name = str(value.get("displayName") or value.get("uniqueName") or "")
        unique = value.get("uniqueName")
        return Assignee(name=name, unique_name=str(unique) if unique else None) if name else None
    if isinstance(value, str) and value:
        # Older servers answer "Display Name <unique name>".
        name, _, rest = value.partition(" <")
        return Assignee(name=name, unique_name=rest.rstrip(">") or None)
    return None


def encode_continuation(changed_at: datetime, item_id: int) -> str:
    return f"{_stamp(changed_at)}|{item_id}"


def decode_continuation(text: str) -> tuple[datetime, int]:
    try:
        at, _, item = text.partition("|")
        return _when(at), int(item)
    except ValueError:
        raise SyncSourceError(f"not a continuation: {text!r}") from None


def work_item(body: dict[str, Any]) -> tuple[WorkItem, str | None]:
    """One workitemsbatch entry as a mirrored item, and its iteration path."""
    fields = body.get("fields") or {}
    state = str(fields.get("System.State") or "New")
    tags = tuple(t.strip() for t in str(fields.get("System.Tags") or "").split(";") if t.strip())
    parent = fields.get("System.Parent")
    item = WorkItem(
        id=int(body["id"]),
        title=str(fields.get("System.Title") or ""),
        type=str(fields.get("System.WorkItemType") or ""),
        state=state,
        state_category=category_of(state),
        changed_at=_when(str(fields["System.ChangedDate"])),
        parent_id=int(parent) if parent is not None else None,
        area_path=fields.get("System.AreaPath"),
        assigned_to=_assignee(fields.get("System.AssignedTo")),
        original_estimate_h=_hours(fields.get(ORIGINAL_ESTIMATE)),
        remaining_h=_hours(fields.get(REMAINING_WORK)),
        completed_h=_hours(fields.get(COMPLETED_WORK)),
        rev=int(body.get("rev") or fields.get("System.Rev") or 1),
        tags=tags,
    )
    path = fields.get("System.IterationPath")
    return item, str(path) if path else None


class AzureDevOpsWorkItems:
    """A tenant's project (``organization_url`` is ``https://dev.azure.com/{org}`` or a
    server's collection URL); ``team`` picks whose iterations are mirrored (the project's
    default team without it)."""

    def __init__(
        self, organization_url: str, pat: str, *, project: str, team: str | None = None,
        client: httpx.AsyncClient | None = None, page_size: int = 200, timeout: float = 15.0,
    ) -> None:
        if not 1 <= page_size <= WIQL_LIMIT:
            raise ValueError(f"page_size must be 1..{WIQL_LIMIT}")
        self._project = organization_url.rstrip("/") + "/" + quote(project, safe="")
        self._team = self._project + ("/" + quote(team, safe="") if team else "")
        token = base64.b64encode(f":{pat}".encode()).decode()
        self._headers = {"Authorization": f"Basic {token}", "Accept": "application/json"}
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self.page_size = page_size

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _post(self, url: str, body: dict[str, Any], **params: str) -> dict[str, Any]:
        response = await self._client.post(
            url, params={"api-version": API_VERSION, **params}, json=body, headers=self._headers
        )
        response.raise_for_status()
        return dict(response.json())

    async def changed_since(self, watermark: datetime | None, continuation: str | None) -> SyncPage:
        where = ["[System.TeamProject] = @project"]
        if continuation is not None:
            at, after_id = decode_continuation(continuation)
            where.append(f"([System.ChangedDate] > '{_stamp(at)}' OR "
                         f"([System.ChangedDate] = '{_stamp(at)}' AND [System.Id] > {after_id}))")
        elif watermark is not None:
            where.append(f"[System.ChangedDate] > '{_stamp(watermark)}'")
        query = ("SELECT [System.Id] FROM WorkItems WHERE " + " AND ".join(where)
                 + " ORDER BY [System.ChangedDate] ASC, [System.Id] ASC")
        found = await self._post(self._project + "/_apis/wit/wiql", {"query": query},
                                 **{"$top": str(self.page_size), "timePrecision": "true"})
        ids = [int(ref["id"]) for ref in found.get("workItems") or []]
        as_of = found.get("asOf")
        items: list[WorkItem] = []
        paths: dict[int, str] = {}
        for start in range(0, len(ids), BATCH_LIMIT):
            body: dict[str, Any] = {"ids": ids[start:start + BATCH_LIMIT], "fields": list(FIELDS),
                                    # An item deleted since the query is left out, not an error.
                                    "errorPolicy": "omit"}
            if as_of:
                body["asOf"] = as_of
            batch = await self._post(self._project + "/_apis/wit/workitemsbatch", body)
            for entry in batch.get("value") or []:
                if entry is None:
                    continue
                item, path = work_item(entry)
                items.append(item)
                if path is not None:
                    paths[item.id] = path
        if len(ids) < self.page_size:
            return SyncPage(items, None, iteration_paths=paths)
        if not items:
            raise SyncSourceError("every item of a full page vanished before it could be read")
        last = items[-1]
        return SyncPage(items, encode_continuation(last.changed_at, last.id), iteration_paths=paths)

    async def iterations(self) -> list[Iteration]:
        response = await self._client.get(
            self._team + "/_apis/work/teamsettings/iterations", params={"api-version": API_VERSION},
            headers=self._headers,
        )
        response.raise_for_status()
        found: list[Iteration] = []
        for entry in dict(response.json()).get("value") or []:
            attributes = entry.get("attributes") or {}
            found.append(Iteration(
                id=0, path=str(entry["path"]), start=_day(attributes.get("startDate")),
                finish=_day(attributes.get("finishDate")), external_id=str(entry["id"]),
            ))
        return found
