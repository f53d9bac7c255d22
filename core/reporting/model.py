"""The Reporting API's entity model (issue #18): entity sets, their properties with Edm
types, keys and navigation properties. Names only — what each property is in SQL is the
adapter's whitelist (``plugins/reporting/sources.py``), which must name every property here.

``scale``: the property's value in storage is its OData value times ``scale`` (hours are
kept as centihours, money as minor units), so filters compare and aggregates sum exact
integers and only the answer is divided.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "MODEL",
    "NAMESPACE",
    "Edm",
    "EntitySet",
    "Navigation",
    "Property",
]

NAMESPACE = "Stint.Reporting"


class Edm(StrEnum):
    STRING = "Edm.String"
    INT64 = "Edm.Int64"
    DECIMAL = "Edm.Decimal"
    BOOLEAN = "Edm.Boolean"
    DATETIME = "Edm.DateTimeOffset"
    DATE = "Edm.Date"

    @property
    def numeric(self) -> bool:
        return self in (Edm.INT64, Edm.DECIMAL)

    @property
    def temporal(self) -> bool:
        return self in (Edm.DATETIME, Edm.DATE)


@dataclass(frozen=True, slots=True)
class Property:
    name: str
    edm: Edm
    nullable: bool = True
    scale: int = 1


@dataclass(frozen=True, slots=True)
class Navigation:
    """A to-one navigation: ``local`` (a property of this set) equals ``target``'s key."""

    name: str
    target: str
    local: str


@dataclass(frozen=True, slots=True)
class EntitySet:
    name: str
    type_name: str
    key: str
    properties: tuple[Property, ...]
    navigations: tuple[Navigation, ...] = ()
    page_size: int = 1000
    #: The order without $orderby (then the key): worklogs by time, as an index keeps them.
    default_order: tuple[str, ...] = ()
    #: The largest page a client may ask for (``Prefer: odata.maxpagesize``); 0: ``page_size``.
    max_page_size: int = 0

    def page_limit(self, asked: int | None) -> int:
        """The rows of a page when the client's preference is ``asked`` (None: none)."""
        if asked is None:
            return self.page_size
        return min(asked, self.max_page_size or self.page_size)

    def prop(self, name: str) -> Property | None:
        for prop in self.properties:
            if prop.name == name:
                return prop
        return None

    def navigation(self, name: str) -> Navigation | None:
        for nav in self.navigations:
            if nav.name == name:
                return nav
        return None

    @property
    def key_property(self) -> Property:
        found = self.prop(self.key)
        assert found is not None
        return found


def _p(name: str, edm: Edm, *, nullable: bool = True, scale: int = 1) -> Property:
    return Property(name, edm, nullable, scale)


S, N, D, B, T, DT = Edm.STRING, Edm.INT64, Edm.DECIMAL, Edm.BOOLEAN, Edm.DATETIME, Edm.DATE

_WORKLOG_PROPERTIES = (
    _p("Id", S, nullable=False),
    _p("UserId", S, nullable=False),
    _p("Timestamp", T, nullable=False),
    _p("PeriodLength", N, nullable=False),
    _p("BillableLength", N, nullable=False),
    _p("ActivityTypeId", S),
    _p("ActivityTypeName", S),
    _p("Comment", S),
    _p("WorkItemId", N),
    _p("BudgetId", S),
    _p("BudgetAssignmentType", S, nullable=False),
    _p("Amount", D, scale=100),
    _p("Currency", S),
    _p("CreatedTimestamp", T, nullable=False),
    _p("EditedTimestamp", T, nullable=False),
    _p("ApprovalState", S, nullable=False),
)

_WORK_ITEM_PROPERTIES = (
    _p("Id", N, nullable=False),
    _p("Title", S, nullable=False),
    _p("Type", S, nullable=False),
    _p("State", S, nullable=False),
    _p("StateCategory", S, nullable=False),
    _p("ParentId", N),
    _p("IterationId", N),
    _p("AreaPath", S),
    _p("AssignedTo", S),
    _p("AssignedUserId", S),
    _p("OriginalEstimate", D, scale=100),
    _p("RemainingWork", D, scale=100),
    _p("CompletedWork", D, scale=100),
    _p("ChangedTimestamp", T, nullable=False),
    _p("BudgetId", S),
    _p("BudgetAssignmentType", S, nullable=False),
    _p("TrackedLength", N, nullable=False),
    _p("BillableLength", N, nullable=False),
    _p("TrackedLengthWithDescendants", N, nullable=False),
    _p("BillableLengthWithDescendants", N, nullable=False),
)

#: workLogsWithDeleted: the worklogs and the deleted ones, for a refresh that fetches only
#: what changed since its last run (``EditedTimestamp ge …``): a deleted worklog appears with
#: ``IsDeleted`` true and its last values, its deletion time as ``EditedTimestamp`` too.
_WITH_DELETED_PROPERTIES = (
    *_WORKLOG_PROPERTIES,
    _p("IsDeleted", B, nullable=False),
    _p("DeletedTimestamp", T),
)

#: A worklog's links, the same on workLogs and workLogsWithDeleted.
_WORKLOG_NAVIGATIONS = (
    Navigation("WorkItem", "workItems", "WorkItemId"),
    Navigation("User", "users", "UserId"),
    Navigation("ActivityType", "activityTypes", "ActivityTypeId"),
    Navigation("Budget", "budgets", "BudgetId"),
)

MODEL: dict[str, EntitySet] = {
    s.name: s
    for s in (
        EntitySet(
            "workLogs",
            "WorkLog",
            "Id",
            _WORKLOG_PROPERTIES,
            _WORKLOG_NAVIGATIONS,
            page_size=1000,
            default_order=("Timestamp",),
            # A client paging through a tenant's worklogs (Power BI asks with Prefer) pays
            # the request's own cost once per 5,000 rows rather than per 1,000.
            max_page_size=5000,
        ),
        EntitySet(
            "workLogsWithDeleted",
            "WorkLogWithDeleted",
            "Id",
            _WITH_DELETED_PROPERTIES,
            _WORKLOG_NAVIGATIONS,
            page_size=1000,
            default_order=("Timestamp",),
            # A client paging through a tenant's worklogs (Power BI asks with Prefer) pays
            # the request's own cost once per 5,000 rows rather than per 1,000.
            max_page_size=5000,
        ),
        EntitySet(
            "workItems",
            "WorkItem",
            "Id",
            _WORK_ITEM_PROPERTIES,
            (
                Navigation("Parent", "workItems", "ParentId"),
                Navigation("Iteration", "iterations", "IterationId"),
                Navigation("Budget", "budgets", "BudgetId"),
            ),
            page_size=100,
        ),
        EntitySet(
            "workItemsHierarchy",
            "WorkItemHierarchy",
            "Id",
            (
                _p("Id", N, nullable=False),
                _p("ParentId", N),
                _p("RootId", N, nullable=False),
                _p("Depth", N, nullable=False),
                _p("Title", S, nullable=False),
                _p("Type", S, nullable=False),
            ),
            (
                Navigation("WorkItem", "workItems", "Id"),
                Navigation("Parent", "workItems", "ParentId"),
                Navigation("Root", "workItems", "RootId"),
            ),
            page_size=100,
        ),
        EntitySet(
            "iterations",
            "Iteration",
            "Id",
            (
                _p("Id", N, nullable=False),
                _p("Path", S, nullable=False),
                _p("StartDate", DT),
                _p("FinishDate", DT),
                _p("ChangedTimestamp", T, nullable=False),
            ),
            page_size=100,
        ),
        EntitySet(
            "budgets",
            "Budget",
            "Id",
            (
                _p("Id", S, nullable=False),
                _p("Name", S, nullable=False),
                _p("Description", S),
                _p("Customer", S),
                _p("IsOpen", B, nullable=False),
                _p("StartDate", DT),
                _p("EndDate", DT),
                _p("HourLimit", D, scale=3600),
                _p("MoneyLimit", D, scale=100),
                _p("HourlyRate", D, scale=100),
                _p("Currency", S),
                _p("TrackedLength", N, nullable=False),
                _p("BillableLength", N, nullable=False),
                _p("Amount", D, scale=100),
            ),
            page_size=100,
        ),
        EntitySet(
            "users",
            "User",
            "Id",
            (
                _p("Id", S, nullable=False),
                _p("Name", S, nullable=False),
                _p("Email", S, nullable=False),
                _p("Role", S),
                _p("CreatedTimestamp", T, nullable=False),
            ),
            page_size=100,
        ),
        EntitySet(
            "activityTypes",
            "ActivityType",
            "Id",
            (
                _p("Id", S, nullable=False),
                _p("Name", S, nullable=False),
                _p("Color", S, nullable=False),
                _p("BillableByDefault", B, nullable=False),
                _p("Active", B, nullable=False),
                _p("HourlyRate", D, scale=100),
                _p("Currency", S),
            ),
            page_size=100,
        ),
    )
}
"""Every entity set. ``workLogsWithDeleted`` reads its deleted rows from the worklog change
history (``worklog_change``, written with every worklog write), not a deletion log of its own."""
