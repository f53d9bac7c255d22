"""Azure DevOps (Services or Server) over its REST API, version 7.1.

Reads ``GET _apis/wit/workitems/{id}``; writes a JSON Patch that first tests
``/rev`` (optimistic concurrency: the server answers 412 when the item moved on)
and then sets ``Microsoft.VSTS.Scheduling.CompletedWork`` and/or ``RemainingWork`` (a field
the tenant's automation does not write is left out of the patch).
Authentication is a personal access token sent as HTTP Basic with an empty user.
"""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from core.tracking.ports import StaleWorkItem, WorkItemState

__all__ = ["API_VERSION", "COMPLETED_WORK", "REMAINING_WORK", "AzureDevOpsConnector"]

API_VERSION = "7.1"
COMPLETED_WORK = "Microsoft.VSTS.Scheduling.CompletedWork"
REMAINING_WORK = "Microsoft.VSTS.Scheduling.RemainingWork"
PATCH_MEDIA_TYPE = "application/json-patch+json"


def _decimal(value: Any) -> Decimal | None:
    # Azure stores doubles; their shortest text is the decimal the user typed.
    return None if value is None else Decimal(repr(value) if isinstance(value, float) else str(value))


def _state(work_item: str, body: dict[str, Any]) -> WorkItemState:
    fields = body.get("fields") or {}
    return WorkItemState(
        work_item=work_item,
        rev=int(body["rev"]),
        completed_work=_decimal(fields.get(COMPLETED_WORK)),
        remaining_work=_decimal(fields.get(REMAINING_WORK)),
    )


class AzureDevOpsConnector:
    """``organization_url`` is ``https://dev.azure.com/{org}`` or a server's collection URL;
    with ``project`` only that project's work items are reached."""

    def __init__(self, organization_url: str, pat: str, *, project: str | None = None,
                 client: httpx.AsyncClient | None = None, timeout: float = 15.0) -> None:
        self._base = organization_url.rstrip("/")
        if project:
            self._base += "/" + quote(project, safe="")
        token = base64.b64encode(f":{pat}".encode()).decode()
        self._headers = {"Authorization": f"Basic {token}", "Accept": "application/json"}
        self._client = client or httpx.AsyncClient(timeout=timeout)

    async def aclose(self) -> None:
        await self._client.aclose()

    def _url(self, work_item: str, suffix: str = "") -> str | None:
        if not work_item.isdigit():
            return None  # Azure work item ids are numbers; anything else does not exist there
        return f"{self._base}/_apis/wit/workitems/{work_item}{suffix}"

    async def _get(self, url: str | None) -> dict[str, Any] | None:
        if url is None:
            return None
        response = await self._client.get(url, params={"api-version": API_VERSION}, headers=self._headers)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return dict(response.json())

    async def work_item(self, work_item: str) -> WorkItemState | None:
        body = await self._get(self._url(work_item))
        return None if body is None else _state(work_item, body)

    async def revision(self, work_item: str, rev: int) -> WorkItemState | None:
        body = await self._get(self._url(work_item, f"/revisions/{rev}"))
        return None if body is None else _state(work_item, body)

    async def update_work_item(
        self, work_item: str, *, rev: int, completed_work: Decimal | None, remaining_work: Decimal | None
    ) -> WorkItemState:
        url = self._url(work_item)
        if url is None:
            raise ValueError(f"{work_item!r} is not an Azure DevOps work item id")
        patch: list[dict[str, Any]] = [{"op": "test", "path": "/rev", "value": rev}]
        if completed_work is not None:
            patch.append({"op": "add", "path": f"/fields/{COMPLETED_WORK}", "value": float(completed_work)})
        if remaining_work is not None:
            patch.append({"op": "add", "path": f"/fields/{REMAINING_WORK}", "value": float(remaining_work)})
        response = await self._client.patch(
            url,
            params={"api-version": API_VERSION},
            json=patch,
            headers={**self._headers, "Content-Type": PATCH_MEDIA_TYPE},
        )
        if response.status_code in (409, 412):
            raise StaleWorkItem(f"work item {work_item} is no longer at revision {rev}", rev=rev)
        response.raise_for_status()
        return _state(work_item, dict(response.json()))
