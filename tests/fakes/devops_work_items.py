"""An in-memory Azure DevOps project for the sync's use case tests (``DevOpsWorkItems``).

Behaves like ``plugins/devops/azure_work_items.py`` against the service: items changed
after the watermark in (changed_at, id) order, ``page_size`` a page, the continuation the
last (changed_at, id) of a full page; ``fail_on_page`` makes the n-th page request raise
(as a dropped connection would), once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from core.work_items import Iteration, WorkItem, category_of
from core.work_items.ports import SyncPage

__all__ = ["FakeDevOpsWorkItems", "SourceDown"]


class SourceDown(ConnectionError):
    pass


@dataclass
class FakeDevOpsWorkItems:
    now: datetime
    page_size: int = 3
    items: dict[int, WorkItem] = field(default_factory=dict)
    paths: dict[int, str] = field(default_factory=dict)
    team_iterations: list[Iteration] = field(default_factory=list)
    served: list[int] = field(default_factory=list)
    page_requests: int = 0
    fail_on_page: int | None = None

    def add(self, title: str, *, path: str | None = None, **values: object) -> WorkItem:
        item_id = max(self.items, default=0) + 1
        item = WorkItem(id=item_id, title=title, type=str(values.pop("type", "Task")), state="New",
                        state_category=category_of("New"), changed_at=self.now, **values)  # type: ignore[arg-type]
        self.items[item_id] = item
        if path is not None:
            self.paths[item_id] = path
        return item

    def edit(self, item_id: int, **changes: object) -> None:
        self.now += timedelta(seconds=1)
        item = self.items[item_id]
        self.items[item_id] = replace(item, changed_at=self.now, rev=item.rev + 1, **changes)  # type: ignore[arg-type]

    async def changed_since(self, watermark: datetime | None, continuation: str | None) -> SyncPage:
        self.page_requests += 1
        if self.fail_on_page is not None and self.page_requests == self.fail_on_page:
            self.fail_on_page = None
            raise SourceDown("the connection was dropped")
        after: tuple[datetime, int] | None = None
        if continuation is not None:
            at, _, item_id = continuation.partition("|")
            after = (datetime.fromisoformat(at), int(item_id))
        ordered = sorted(self.items.values(), key=lambda i: (i.changed_at, i.id))
        found = [i for i in ordered
                 if (watermark is None or i.changed_at > watermark)
                 and (after is None or (i.changed_at, i.id) > after)][: self.page_size]
        self.served.extend(i.id for i in found)
        paths = {i.id: self.paths[i.id] for i in found if i.id in self.paths}
        if len(found) < self.page_size:
            return SyncPage(found, None, iteration_paths=paths)
        last = found[-1]
        return SyncPage(found, f"{last.changed_at.isoformat()}|{last.id}", iteration_paths=paths)

    async def iterations(self) -> list[Iteration]:
        return list(self.team_iterations)
