"""Work items and iterations: the tenant's mirror of what its people plan and track against.

The public face of the context: the model (:mod:`.model`) and the ports (:mod:`.ports`).
In standalone mode the items live only here and are edited in Stint; with Azure DevOps
connected they are a mirror kept by the sync job and read-only in Stint.
"""

from core.work_items.errors import (
    IterationNotFound,
    ManagedByDevOps,
    UnknownIteration,
    UnknownParent,
    UnknownWorkItem,
    WorkItemCycle,
    WorkItemNotFound,
)
from core.work_items.model import (
    STATE_CATEGORIES,
    Assignee,
    Iteration,
    StateCategory,
    WorkItem,
    WorkItemDraft,
    category_of,
    iteration_order,
)

__all__ = [
    "STATE_CATEGORIES",
    "Assignee",
    "Iteration",
    "IterationNotFound",
    "ManagedByDevOps",
    "StateCategory",
    "UnknownIteration",
    "UnknownParent",
    "UnknownWorkItem",
    "WorkItem",
    "WorkItemCycle",
    "WorkItemDraft",
    "WorkItemNotFound",
    "category_of",
    "iteration_order",
]
