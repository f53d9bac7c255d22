"""Who sees which rows of the Reporting API: a predicate every query ANDs in.

Whether a caller sees everything is not decided here: it is the one access decision's
answer for viewing all worklogs (Product, Budget, Administrators); this module only turns
that answer into rows. A caller who does not see everything (Team) sees their own worklogs,
their own user row, every work item, iteration and activity type (the shared plan, as on
the Time tab), and the budgets their own worklogs hit (as the budgets API shows Team), whose
usage totals then cover their own time only.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import EntitySet
from .query import Compare, Expr, HitBy, Path, Value

__all__ = ["Viewer", "visible_rows"]


@dataclass(frozen=True, slots=True)
class Viewer:
    user_id: str
    sees_everyone: bool


def visible_rows(entity_set: EntitySet, viewer: Viewer) -> Expr | None:
    """The condition a row of ``entity_set`` must meet for ``viewer`` (None: every row)."""
    if viewer.sees_everyone:
        return None
    if entity_set.name in ("workLogs", "workLogsWithDeleted"):
        return Compare("eq", Path(("UserId",)), Value(viewer.user_id))
    if entity_set.name == "users":
        return Compare("eq", Path(("Id",)), Value(viewer.user_id))
    if entity_set.name == "budgets":
        return HitBy(viewer.user_id)
    return None
