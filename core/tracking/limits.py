"""Plan limits on the number of worklogs (SPEC §2: Free 500 per tenant, Start 1,000 per user)."""

from __future__ import annotations

from core.tracking.errors import WorklogLimitReached

__all__ = ["check_worklog_limit"]


def check_worklog_limit(
    count_tenant: int,
    count_user: int,
    limit_per_tenant: int | None,
    limit_per_user: int | None,
    *,
    adding: int = 1,
) -> None:
    """Raise WorklogLimitReached when ``adding`` more worklogs would pass a limit.

    Counts are the worklogs stored now; ``None`` means the plan has no such limit.
    An import passes ``adding=len(drafts)`` so it is refused whole, not half stored.
    """
    if limit_per_tenant is not None and count_tenant + adding > limit_per_tenant:
        raise WorklogLimitReached(
            f"the plan allows {limit_per_tenant} worklogs in this organisation; "
            f"{count_tenant} are stored",
            limit=limit_per_tenant,
            scope="tenant",
        )
    if limit_per_user is not None and count_user + adding > limit_per_user:
        raise WorklogLimitReached(
            f"the plan allows {limit_per_user} worklogs per user; {count_user} are stored",
            limit=limit_per_user,
            scope="user",
        )
