"""Activity types: the tenant's catalogue of kinds of work (Development, Meeting, …).

The public face of the context: the model and rules (:mod:`.model`) and the port
(:mod:`.ports`). Worklogs and timers refer to an entry by id (files by name); renaming an
entry keeps every worklog on it, deactivating keeps history but refuses new use.
"""

from core.activities.model import (
    DEFAULT_CATALOGUE,
    DEFAULT_COLOR,
    MAX_NAME,
    ActivityType,
    ActivityTypeChanges,
    ActivityTypeExists,
    UnknownActivityType,
    check_color,
    check_name,
    default_catalogue,
    find_by_name,
    name_key,
    new_activity_type,
    resolve,
    updated,
)

__all__ = [
    "DEFAULT_CATALOGUE",
    "DEFAULT_COLOR",
    "MAX_NAME",
    "ActivityType",
    "ActivityTypeChanges",
    "ActivityTypeExists",
    "UnknownActivityType",
    "check_color",
    "check_name",
    "default_catalogue",
    "find_by_name",
    "name_key",
    "new_activity_type",
    "resolve",
    "updated",
]
