"""The Reporting API's use cases (issue #18): who the caller is as a viewer, and one page of
a validated query.

Whether the caller sees every row is the one access decision's answer for viewing all
worklogs (``core.licensing.access``): Product, Budget and Administrators do; Team sees what
``core.reporting.visibility`` gives them. Using the Reporting API at all is its own action
(:attr:`Action.USE_REPORTING`), which the route's guard asks first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from core.clock import Clock
from core.licensing.access import Action
from core.licensing.ports import GenerationCache
from core.reporting import MODEL, Page, Query, ReportingReader, Viewer, validate
from core.tenancy import Tenant, User
from core.unit_of_work import UnitOfWorkFactory

from .access import check_access

__all__ = ["PageAsk", "read_page", "reporting_viewer"]


async def reporting_viewer(
    uow: UnitOfWorkFactory,
    clock: Clock,
    *,
    tenant: Tenant,
    user: User,
    grace_days: int,
    clock_tolerance: timedelta,
    cache: GenerationCache | None,
) -> Viewer:
    outcome = await check_access(
        uow,
        clock,
        tenant=tenant,
        user=user,
        action=Action.VIEW_ALL_WORKLOGS,
        grace_days=grace_days,
        cache=cache,
        clock_tolerance=clock_tolerance,
    )
    return Viewer(user_id=user.id, sees_everyone=outcome.decision.allowed)


@dataclass(frozen=True, slots=True)
class PageAsk:
    """Where a page starts and how long it may be."""

    after: tuple[Any, ...] | None = None
    #: Rows the client's $top still allows (None: no $top).
    remaining: int | None = None
    #: The client's ``Prefer: odata.maxpagesize`` (None: the set's own page size).
    max_page: int | None = None


async def read_page(
    reader: ReportingReader, *, tenant: Tenant, viewer: Viewer, query: Query, ask: PageAsk
) -> tuple[Page, int | None]:
    """One page of ``query`` and the $top left after it (None: no $top)."""
    entity_set = validate(query)
    limit = entity_set.page_limit(ask.max_page)
    remaining = ask.remaining
    if remaining is not None:
        limit = min(limit, remaining)
    first = ask.after is None
    page = await reader.read(
        tenant.id, viewer, query, after=ask.after, limit=max(limit, 0), skip=query.skip if first else 0
    )
    if remaining is not None:
        remaining -= len(page.rows)
        if remaining <= 0:
            page = Page(page.rows, page.count, None)
    return page, remaining


def entity_sets() -> list[str]:
    return list(MODEL)
