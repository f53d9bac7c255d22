"""Errors of the work items context, each with its stable code (mapped to HTTP in web/problems.py)."""

from __future__ import annotations

from core.errors import Conflict, NotFound, ValidationFailed

__all__ = [
    "IterationNotFound",
    "ManagedByDevOps",
    "UnknownIteration",
    "UnknownParent",
    "UnknownWorkItem",
    "WorkItemCycle",
    "WorkItemNotFound",
]


class UnknownWorkItem(ValidationFailed):
    """A worklog or timer names a work item the tenant's mirror does not hold."""

    code = "unknown_work_item"


class UnknownParent(ValidationFailed):
    code = "unknown_parent"


class WorkItemCycle(ValidationFailed):
    """The parent asked for is the item itself or one of its descendants."""

    code = "work_item_cycle"


class UnknownIteration(ValidationFailed):
    code = "unknown_iteration"


class WorkItemNotFound(NotFound):
    code = "work_item_not_found"


class ManagedByDevOps(Conflict):
    """The tenant's work items come from Azure DevOps: Stint mirrors them and does not edit them."""

    code = "managed_by_devops"


class IterationNotFound(NotFound):
    """An iteration named in the path that the tenant does not have."""

    code = "iteration_not_found"
