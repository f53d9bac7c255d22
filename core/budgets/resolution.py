"""THE resolution rule (SPEC §12): the one budget each work item and worklog resolves to.

A **work item** is

1. ``DirectlyAssigned`` if a budget is assigned to it,
2. else ``InheritedFromParent`` from its nearest ancestor that has a direct assignment,
3. else ``InheritedFromIteration`` from the budget assigned to its own iteration,
4. else ``NoBudget``.

A **worklog** is

1. ``DirectlyAssigned`` if a budget is assigned to it (a single worklog wins over
   everything),
2. else it takes its work item's budget as ``InheritedFromParent`` whenever the work item
   has one by assignment — directly or from an ancestor. SPEC §12 names the worklog's
   inherited case "InheritedFromParent" without splitting it: from the worklog's point of
   view its work item *is* its parent, so a worklog on a directly assigned item is
   ``InheritedFromParent`` too (never ``DirectlyAssigned``, which means the worklog itself);
3. else its work item's iteration's budget, ``InheritedFromIteration``,
4. else ``NoBudget`` (also a worklog without a work item, or on an id the mirror lacks).

An ancestor's iteration never counts: only the item's own iteration (the rule says "its
iteration"). Work items guarantee the tree has no cycles; a cycle that slips in anyway
ends the walk where it closes, so resolution always terminates.

:class:`Resolver` is the efficient form: every item's nearest assigned ancestor is found
once (memoised, iteratively, so a deep chain does not hit the recursion limit): resolving
a whole tree of n items is O(n), and resolving a period's worklogs walks only the items
they name. The property test compares it to a naive walk written separately.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from core.budgets.model import NO_BUDGET, Assignment, Resolution

__all__ = ["Assignments", "Resolver", "WorkTree"]


@dataclass(frozen=True, slots=True)
class WorkTree:
    """The work items' shape: each item's parent and iteration (absent: none)."""

    parents: Mapping[int, int | None] = field(default_factory=dict)
    iterations: Mapping[int, int | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Assignments:
    """The direct assignments: target → budget id (a target has at most one budget)."""

    iterations: Mapping[int, str] = field(default_factory=dict)
    work_items: Mapping[int, str] = field(default_factory=dict)
    worklogs: Mapping[str, str] = field(default_factory=dict)


_UNSET = object()


class Resolver:
    """Resolves work items and worklogs against one tree and one set of assignments."""

    def __init__(self, tree: WorkTree, assignments: Assignments) -> None:
        self._tree = tree
        self._assigned = assignments
        #: item → the budget of the nearest directly assigned item among it and its
        #: ancestors (None: none of them is assigned).
        self._nearest: dict[int, str | None] = {}
        #: item → how a worklog on it (without an assignment of its own) resolves.
        self._on_item: dict[int, Resolution] = {}

    def _nearest_assigned(self, item: int) -> str | None:
        known = self._nearest.get(item, _UNSET)
        if known is not _UNSET:
            return known  # type: ignore[return-value]
        direct = self._assigned.work_items
        parents = self._tree.parents
        path: list[int] = []
        on_path: set[int] = set()
        found: str | None = None
        current: int | None = item
        while current is not None:
            known = self._nearest.get(current, _UNSET)
            if known is not _UNSET:
                found = known  # type: ignore[assignment]
                break
            if current in on_path:  # a cycle: stop where it closes
                break
            path.append(current)
            on_path.add(current)
            budget = direct.get(current)
            if budget is not None:
                found = budget
                break
            current = parents.get(current)
        # Every item on the path below the one that decided shares its answer.
        for node in path:
            own = direct.get(node)
            if own is not None:
                self._nearest[node] = own
                # Items walked before an assigned node are below it, so they inherit it;
                # the nodes after it were never walked (the loop stopped there).
            else:
                self._nearest[node] = found
        return self._nearest[item]

    def work_item(self, item: int) -> Resolution:
        direct = self._assigned.work_items.get(item)
        if direct is not None:
            return Resolution(direct, Assignment.DIRECT)
        parent = self._tree.parents.get(item)
        if parent is not None and parent != item:
            inherited = self._nearest_assigned(parent)
            if inherited is not None:
                return Resolution(inherited, Assignment.PARENT)
        iteration = self._tree.iterations.get(item)
        if iteration is not None:
            budget = self._assigned.iterations.get(iteration)
            if budget is not None:
                return Resolution(budget, Assignment.ITERATION)
        return NO_BUDGET

    def worklog(self, worklog_id: str | None, work_item: int | None) -> Resolution:
        """``worklog_id`` None: a worklog not stored yet (a new one, a running timer's)."""
        if worklog_id is not None:
            direct = self._assigned.worklogs.get(worklog_id)
            if direct is not None:
                return Resolution(direct, Assignment.DIRECT)
        if work_item is None:
            return NO_BUDGET
        known = self._on_item.get(work_item)
        if known is not None:
            return known
        item = self.work_item(work_item)
        if item.assignment in (Assignment.DIRECT, Assignment.PARENT):
            item = Resolution(item.budget_id, Assignment.PARENT)
        self._on_item[work_item] = item
        return item

    def all_work_items(self) -> dict[int, Resolution]:
        """Every item of the tree, O(n) over the whole tree."""
        return {item: self.work_item(item) for item in self._tree.parents}
